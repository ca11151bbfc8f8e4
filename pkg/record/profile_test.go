package record

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

func TestRecordingProfileNotifiesAllButUnobserved(t *testing.T) {
	p, err := RecordingProfile(ProfileOptions{ListenerPath: "/run/r.sock", Name: "web", Arches: []*arch.Arch{arch.X86_64, arch.X86, arch.X32}})
	if err != nil {
		t.Fatal(err)
	}
	if p.ListenerPath != "/run/r.sock" || p.ListenerMetadata != "web" {
		t.Errorf("listener %q metadata %q", p.ListenerPath, p.ListenerMetadata)
	}
	if p.DefaultAction != specs.ActErrno || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != 38 {
		t.Errorf("default %s %v, want ERRNO(ENOSYS)", p.DefaultAction, p.DefaultErrnoRet)
	}
	if !slices.Equal(p.Architectures, []specs.Arch{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}) {
		t.Errorf("architectures %v", p.Architectures)
	}
	notify := p.Syscalls[0]
	if notify.Action != specs.ActNotify || !slices.Equal(p.Syscalls[1].Names, UnobservedSyscalls) || p.Syscalls[1].Action != specs.ActAllow {
		t.Fatalf("rules %+v", p.Syscalls)
	}
	for _, name := range []string{"clone", "socket", "socketcall", "unshare", "mount", "keyctl", "execve"} {
		if !slices.Contains(notify.Names, name) {
			t.Errorf("%s is not notified", name)
		}
	}
	for _, name := range UnobservedSyscalls {
		if slices.Contains(notify.Names, name) {
			t.Errorf("%s is notified (runc refuses write; exit must stay allowed)", name)
		}
	}
	for _, bad := range []string{"../x", ".hidden", "a/b", ""} {
		if _, err := RecordingProfile(ProfileOptions{ListenerPath: "/s", Name: bad}); err == nil && bad != "" {
			t.Errorf("name %q accepted", bad)
		}
	}
}

// Every argument the built-in default profiles put a rule on is one the
// recorder keeps, so a generated profile can keep such a rule.
func TestRecordedParamsCoverDefaultProfiles(t *testing.T) {
	native := arch.Native()
	if native == nil {
		t.Skip("no syscall table for this GOARCH")
	}
	for _, name := range spec.BuiltinNames() {
		p, err := spec.Builtin(name, spec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, rule := range p.Seccomp.Syscalls {
			for _, sc := range rule.Names {
				for _, a := range rule.Args {
					param := native.ArgName(sc, int(a.Index))
					if sc == "clone3" {
						continue // its flags are in memory: nothing to record
					}
					if !slices.Contains(RecordedParams[sc], param) {
						t.Errorf("builtin:%s conditions %s argument %d (%s), which is not recorded", name, sc, a.Index, param)
					}
				}
			}
		}
	}
}

func TestArgsToRecordPerArch(t *testing.T) {
	for _, c := range []struct {
		a    *arch.Arch
		name string
		want []int
	}{
		{arch.X86_64, "clone", []int{0}},
		{arch.S390X, "clone", []int{1}},
		{arch.X32, "socket", []int{0, 1, 2}},
		{arch.X86_64, "getpid", nil},
	} {
		nr, ok := c.a.SyscallNr(c.name)
		if !ok {
			t.Fatalf("%s has no %s", c.a, c.name)
		}
		got := slices.Clone(ArgsToRecord(c.a, nr))
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s %s: %v, want %v", c.a, c.name, got, c.want)
		}
	}
}

// ValidName accepts exactly what the file-name rule says: 1 to 128 of
// [A-Za-z0-9_.-], not starting with a dot or a dash (checked against the
// rule written as a regular expression).
func TestValidName(t *testing.T) {
	rule := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	names := []string{"", "a", "web-1", "..", ".hidden", "-x", "_x", "a/b", "../evil", "a b", "ü", "a\x00", "x.json",
		strings.Repeat("a", 128), strings.Repeat("a", 129)}
	for c := range 256 {
		names = append(names, string([]byte{'a', byte(c)}), string([]byte{byte(c)}))
	}
	for _, n := range names {
		if got, want := ValidName(n), rule.MatchString(n); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", n, got, want)
		}
	}
}
