package record

import (
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// Clone flags of the test workload.
const (
	cloneFork   = 0x01200011 // CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD
	cloneThread = 0x003d0f00 // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
	cloneNewNet = 0x40000000
)

// call is one recorded call of the test workloads.
type call struct {
	arch *arch.Arch
	name string
	args [6]uint64
}

// testRecording records calls the way a recorder does (Add with the
// argument positions ArgsToRecord names).
func testRecording(t *testing.T, calls []call) *Recording {
	t.Helper()
	r := &Recording{Recorder: "test", Complete: true, Container: "c1", Image: "busybox"}
	for _, c := range calls {
		nr, ok := c.arch.SyscallNr(c.name)
		if !ok {
			t.Fatalf("%s has no %s", c.arch, c.name)
		}
		if err := r.Add(c.arch.Audit, nr, c.args, ArgsToRecord(c.arch, nr)); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// shellCalls are what a shell that forks, threads, opens a Unix socket and
// asks its personality makes (x86_64).
func shellCalls() []call {
	x := arch.X86_64
	var cs []call
	for _, n := range []string{"read", "write", "openat", "close", "execve", "exit_group", "mmap", "brk",
		"arch_prctl", "rt_sigaction", "rt_sigprocmask", "wait4", "getpid", "fcntl", "futex", "newfstatat"} {
		cs = append(cs, call{arch: x, name: n})
	}
	return append(cs,
		call{arch: x, name: "clone", args: [6]uint64{cloneFork}},
		call{arch: x, name: "clone", args: [6]uint64{cloneThread}},
		call{arch: x, name: "socket", args: [6]uint64{1, 0x80001, 0}},   // AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC
		call{arch: x, name: "personality", args: [6]uint64{0xffffffff}}, // query
	)
}

func ruleNames(sc *specs.LinuxSeccomp, action specs.LinuxSeccompAction) []string {
	var out []string
	for _, s := range sc.Syscalls {
		if s.Action == action {
			out = append(out, s.Names...)
		}
	}
	return out
}

func TestGenerateShape(t *testing.T) {
	g, err := Generate(testRecording(t, shellCalls()), GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc := g.Seccomp
	if sc.DefaultAction != specs.ActErrno || sc.DefaultErrnoRet == nil || *sc.DefaultErrnoRet != 1 {
		t.Errorf("default %s errno %v, want SCMP_ACT_ERRNO 1", sc.DefaultAction, sc.DefaultErrnoRet)
	}
	if !slices.Equal(sc.Architectures, []specs.Arch{specs.ArchX86_64}) {
		t.Errorf("architectures %v", sc.Architectures)
	}
	allowed := ruleNames(sc, specs.ActAllow)
	for _, n := range []string{"read", "execve", "clone", "socket", "personality"} {
		if !slices.Contains(allowed, n) {
			t.Errorf("%s not allowed: %v", n, allowed)
		}
	}
	for _, n := range []string{"unshare", "mount", "keyctl", "clone3"} {
		if slices.Contains(allowed, n) {
			t.Errorf("%s allowed but never recorded", n)
		}
	}
	var clone, socket, personality []specs.LinuxSyscall
	for _, s := range sc.Syscalls {
		switch {
		case slices.Equal(s.Names, []string{"clone"}):
			clone = append(clone, s)
		case slices.Equal(s.Names, []string{"socket"}):
			socket = append(socket, s)
		case slices.Equal(s.Names, []string{"personality"}):
			personality = append(personality, s)
		}
	}
	// Fork and thread flags have no namespace flag: one rule.
	if len(clone) != 1 || len(clone[0].Args) != 1 ||
		clone[0].Args[0] != (specs.LinuxSeccompArg{Index: 0, Value: cloneNamespaceFlags, ValueTwo: 0, Op: specs.OpMaskedEqual}) {
		t.Errorf("clone rules %+v, want one MASKED_EQ of the namespace flags with 0", clone)
	}
	// socket's three arguments, each equal to its recorded value.
	if len(socket) != 1 || len(socket[0].Args) != 3 {
		t.Fatalf("socket rules %+v", socket)
	}
	for i, want := range []uint64{1, 0x80001, 0} {
		if a := socket[0].Args[i]; a != (specs.LinuxSeccompArg{Index: uint(i), Value: want, Op: specs.OpEqualTo}) {
			t.Errorf("socket args[%d] = %+v, want == %#x", i, a, want)
		}
	}
	if len(personality) != 1 || personality[0].Args[0].Value != 0xffffffff {
		t.Errorf("personality rules %+v, want personality(0xffffffff)", personality)
	}
	// The known syscalls above the highest allowed one are named with
	// the default errno (runc's ENOSYS boundary); the newest is among them.
	top := arch.X86_64.Syscalls()[len(arch.X86_64.Syscalls())-1].Name
	var pinned []string
	for _, s := range sc.Syscalls {
		if s.Action == specs.ActErrno && s.ErrnoRet != nil && *s.ErrnoRet == 1 {
			pinned = append(pinned, s.Names...)
		}
	}
	if !slices.Contains(pinned, top) || slices.Contains(pinned, "read") {
		t.Errorf("pinned %v: want %s and no allowed syscall", pinned, top)
	}
}

func TestGenerateRefusesIncompleteAndUnnamed(t *testing.T) {
	r := testRecording(t, shellCalls())
	r.Complete, r.Problem = false, "recorder killed"
	if _, err := Generate(r, GenerateOptions{}); err == nil || !strings.Contains(err.Error(), "recorder killed") {
		t.Errorf("incomplete recording: err %v", err)
	}
	g, err := Generate(r, GenerateOptions{AllowIncomplete: true})
	if err != nil || !g.Incomplete || !strings.Contains(strings.Join(g.Notes, "\n"), "INCOMPLETE") {
		t.Fatalf("with AllowIncomplete: %v, %+v", err, g)
	}
	for _, f := range []Format{FormatDocker, FormatSPO} {
		out, err := g.Encode(f, "x")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "recorder killed") {
			t.Errorf("%s form of an incomplete profile does not say so:\n%s", f, out)
		}
	}

	r = testRecording(t, shellCalls())
	if err := r.Add(arch.X86_64.Audit, 4000, [6]uint64{}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(r, GenerateOptions{}); err == nil || !strings.Contains(err.Error(), "x86_64") || !strings.Contains(err.Error(), "4000") {
		t.Errorf("unnamed number: err %v, want one naming x86_64 and 4000", err)
	}
	if g, err := Generate(r, GenerateOptions{DropUnnamed: true}); err != nil || !strings.Contains(strings.Join(g.Notes, "\n"), "4000") {
		t.Errorf("DropUnnamed: %v, notes %v", err, g.Notes)
	}
}

// openat2 does what open and openat do: they are added, loudly.
func TestGenerateAddsWhatAMemoryArgumentSyscallCovers(t *testing.T) {
	r := testRecording(t, []call{{arch: arch.X86_64, name: "execve"}, {arch: arch.X86_64, name: "openat2"}, {arch: arch.X86_64, name: "openat"}})
	g, err := Generate(r, GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	allowed := ruleNames(g.Seccomp, specs.ActAllow)
	if !slices.Contains(allowed, "open") || !strings.Contains(strings.Join(g.Notes, "\n"), "ADDED open: openat2 was recorded") {
		t.Errorf("allowed %v, notes %v", allowed, g.Notes)
	}
}

// A recording without execve cannot be of a container's start.
func TestGenerateRefusesWithoutExecve(t *testing.T) {
	r := testRecording(t, []call{{arch: arch.X86_64, name: "read"}, {arch: arch.X86_64, name: "exit_group"}})
	if _, err := Generate(r, GenerateOptions{}); err == nil || !strings.Contains(err.Error(), "no execve") {
		t.Errorf("err %v, want one about execve", err)
	}
}

// Arguments are conditioned only when every call's values are known.
func TestGenerateArgumentsNeedAllValues(t *testing.T) {
	calls := shellCalls()
	r := testRecording(t, calls)
	// A second recorder that did not record socket's arguments.
	other := &Recording{Recorder: "other", Complete: true}
	nr, _ := arch.X86_64.SyscallNr("socket")
	other.Add(arch.X86_64.Audit, nr, [6]uint64{2}, nil)
	r.Merge(other)
	// Past MaxValues, no rule either.
	pnr, _ := arch.X86_64.SyscallNr("personality")
	for v := range uint64(MaxValues + 1) {
		r.Add(arch.X86_64.Audit, pnr, [6]uint64{v}, ArgsToRecord(arch.X86_64, pnr))
	}
	g, err := Generate(r, GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range g.Seccomp.Syscalls {
		if (slices.Contains(s.Names, "socket") || slices.Contains(s.Names, "personality")) && len(s.Args) > 0 {
			t.Errorf("%v conditioned on %+v although not every value is known", s.Names, s.Args)
		}
	}
	if !slices.Contains(ruleNames(g.Seccomp, specs.ActAllow), "socket") {
		t.Error("socket not allowed")
	}
}

// clone3 is answered ENOSYS and clone added for the fallback, loudly.
func TestGenerateClone3FallsBackToClone(t *testing.T) {
	r := testRecording(t, []call{{arch: arch.X86_64, name: "clone3"}, {arch: arch.X86_64, name: "execve"}})
	g, err := Generate(r, GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var clone3, clone bool
	for _, s := range g.Seccomp.Syscalls {
		if slices.Equal(s.Names, []string{"clone3"}) && s.Action == specs.ActErrno && *s.ErrnoRet == 38 {
			clone3 = true
		}
		if slices.Equal(s.Names, []string{"clone"}) && s.Action == specs.ActAllow && len(s.Args) == 1 && s.Args[0].ValueTwo == 0 {
			clone = true
		}
	}
	if !clone3 || !clone || !strings.Contains(strings.Join(g.Notes, "\n"), "ADDED") {
		t.Errorf("clone3 ENOSYS %v, clone without namespaces %v, notes %v", clone3, clone, g.Notes)
	}
}

// Every format loads back through pkg/spec to the same OCI rules.
func TestGenerateFormatsLoadBack(t *testing.T) {
	calls := append(shellCalls(), call{arch: arch.X86, name: "read"}, call{arch: arch.X32, name: "read"})
	r := testRecording(t, calls)
	// A 64-bit value past int64 survives YAML.
	lseek, _ := arch.X86_64.SyscallNr("lseek")
	r.Add(arch.X86_64.Audit, lseek, [6]uint64{3, 0xfffffffffffffff0}, []int{1})
	g, err := Generate(r, GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{FormatOCI, FormatDocker, FormatSPO} {
		t.Run(string(f), func(t *testing.T) {
			out, err := g.Encode(f, "My Workload_1")
			if err != nil {
				t.Fatal(err)
			}
			p, err := spec.Parse(out, "generated."+string(f), spec.Options{})
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			want := map[spec.Format]Format{spec.FormatOCI: FormatOCI, spec.FormatDocker: FormatDocker, spec.FormatSPO: FormatSPO}
			if want[p.Format] != f {
				t.Errorf("loaded as %s", p.Format)
			}
			if !slices.Equal(p.Seccomp.Architectures, g.Seccomp.Architectures) {
				t.Errorf("architectures %v, want %v", p.Seccomp.Architectures, g.Seccomp.Architectures)
			}
			if len(p.Seccomp.Syscalls) != len(g.Seccomp.Syscalls) {
				t.Fatalf("%d rules, want %d", len(p.Seccomp.Syscalls), len(g.Seccomp.Syscalls))
			}
			for i, s := range p.Seccomp.Syscalls {
				w := g.Seccomp.Syscalls[i]
				if !slices.Equal(s.Names, w.Names) || s.Action != w.Action || !slices.Equal(s.Args, w.Args) {
					t.Errorf("rule %d: %+v, want %+v", i, s, w)
				}
			}
			if f == FormatSPO && !strings.Contains(string(out), "name: my-workload-1\n") {
				t.Errorf("metadata.name not made a Kubernetes name:\n%s", out)
			}
		})
	}
}

func TestMergeForgetsHalfRecordedArguments(t *testing.T) {
	nr, _ := arch.X86_64.SyscallNr("socket")
	a := &Recording{Complete: true}
	a.Add(arch.X86_64.Audit, nr, [6]uint64{1}, []int{0})
	b := &Recording{Complete: true}
	b.Add(arch.X86_64.Audit, nr, [6]uint64{2}, nil)
	a.Merge(b)
	u := a.Arches["x86_64"].Syscalls[nr]
	if !u.ArgsOverflow[0] || u.Args[0] != nil || u.Count != 2 {
		t.Errorf("after merging a call without recorded arguments: args %v overflow %v count %d", u.Args, u.ArgsOverflow, u.Count)
	}
}

// A rule applies on every architecture of the profile: clone's flags
// condition is not put on argument 0 when an architecture of the profile
// has the stack pointer there (s390x), even if clone was recorded on
// x86_64 only.
func TestGenerateCloneRuleWhereFlagsPositionsDiffer(t *testing.T) {
	r := testRecording(t, append(shellCalls(), call{arch: arch.S390X, name: "execve"}))
	g, err := Generate(r, GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(g.Seccomp.Architectures, specs.ArchS390X) {
		t.Fatalf("architectures %v", g.Seccomp.Architectures)
	}
	for _, s := range g.Seccomp.Syscalls {
		if slices.Contains(s.Names, "clone") && len(s.Args) > 0 {
			t.Errorf("clone rule %+v: on s390x argument %d is the stack pointer, the flags go unchecked", s.Args, s.Args[0].Index)
		}
	}
	if notes := strings.Join(g.Notes, "\n"); !strings.Contains(notes, "clone: its flags are at different positions") || !strings.Contains(notes, "s390x") {
		t.Errorf("notes %v: want one saying clone is unconditioned because of s390x", g.Notes)
	}
}

// Every argument left unconditioned is said, not only the last one.
func TestGenerateNotesEveryUnconditionedArgument(t *testing.T) {
	calls := []call{{arch: arch.X86_64, name: "execve"}}
	for v := range uint64(6) {
		calls = append(calls, call{arch: arch.X86_64, name: "socket", args: [6]uint64{v + 1, v + 1, v}})
	}
	g, err := Generate(testRecording(t, calls), GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(g.Notes, "\n")
	for _, want := range []string{"socket: argument 2 is not conditioned", "socket: argument 1 is not conditioned"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %v: want %q", g.Notes, want)
		}
	}
	for _, s := range g.Seccomp.Syscalls {
		if slices.Contains(s.Names, "socket") && (len(s.Args) != 1 || s.Args[0].Index != 0) {
			t.Errorf("socket rule %+v, want one on argument 0", s.Args)
		}
	}
}

// Numbers left out by DropUnnamed are summed up in one note per
// architecture: the notes go into the attestation, which verify reads up
// to 16 MiB.
func TestGenerateDropUnnamedNoteIsBounded(t *testing.T) {
	r := testRecording(t, shellCalls())
	for nr := uint32(5000); nr < 105000; nr++ {
		r.Arches["x86_64"].Syscalls[nr] = &SyscallUse{Count: 1}
	}
	g, err := Generate(r, GenerateOptions{DropUnnamed: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Join(g.Notes, "\n")); len(g.Notes) > 3 || n > 4096 {
		t.Errorf("%d notes, %d bytes", len(g.Notes), n)
	}
	if notes := strings.Join(g.Notes, "\n"); !strings.Contains(notes, "100000 syscall numbers (100000 calls)") || !strings.Contains(notes, "5000, 5001") {
		t.Errorf("notes %v", g.Notes)
	}
}

// i386's socketcall does the socket calls with its arguments in memory,
// but only on i386: x86_64's connect, bind or socket are filterable, so a
// recording of socketcall adds them only to a profile whose every
// architecture with them has socketcall.
func TestGenerateMemoryArgumentCoversOnlyWhereTheyAreUnfilterable(t *testing.T) {
	both := testRecording(t, []call{{arch: arch.X86_64, name: "execve"}, {arch: arch.X86, name: "socketcall"}})
	g, err := Generate(both, GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	allowed := ruleNames(g.Seccomp, specs.ActAllow)
	for _, n := range []string{"connect", "bind", "socket", "accept4"} {
		if slices.Contains(allowed, n) {
			t.Errorf("%s allowed (on x86_64 too) because i386 called socketcall: %v", n, allowed)
		}
	}
	if notes := strings.Join(g.Notes, "\n"); !strings.Contains(notes, "not added: ") || !strings.Contains(notes, "x86_64 has them without socketcall") {
		t.Errorf("notes %v", g.Notes)
	}
	i386 := testRecording(t, []call{{arch: arch.X86, name: "execve"}, {arch: arch.X86, name: "socketcall"}})
	if g, err = Generate(i386, GenerateOptions{}); err != nil {
		t.Fatal(err)
	}
	if allowed := ruleNames(g.Seccomp, specs.ActAllow); !slices.Contains(allowed, "connect") || !slices.Contains(allowed, "socket") {
		t.Errorf("i386 only: allowed %v, want socketcall's covers", allowed)
	}
}
