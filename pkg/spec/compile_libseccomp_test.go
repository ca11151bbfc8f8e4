//go:build cgo && libseccomp

package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/internal/testfixture"
	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
)

func readFixture(t *testing.T, name string) *bytecode.Filter {
	t.Helper()
	f, err := bytecode.ParseFilter(testfixture.Read(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f
}

func mustStack(t *testing.T, p *Profile, runtime string) bytecode.Stack {
	t.Helper()
	s, err := p.Stack(runtime)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 1 {
		t.Fatalf("%s: %d filters, want 1", runtime, len(s))
	}
	return s
}

func diff(t *testing.T, a, b bytecode.Stack) *compare.Result {
	t.Helper()
	res, err := compare.Stacks(a, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if f.Kind != compare.Undecided && !f.Confirmed {
			t.Errorf("%v %s %s not confirmed by the evaluator", f.Kind, f.Arch, f.Label())
		}
	}
	return res
}

// labels returns the sorted syscall labels of the findings of kind k on arch.
func labels(res *compare.Result, k compare.Kind, archName string) []string {
	var out []string
	for _, f := range res.Findings {
		if f.Kind == k && f.Arch == archName {
			out = append(out, f.Label())
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// Every profile we wrote for a captured fixture compiles to a filter that
// decides exactly like the one the runtime loaded. Without the ENOSYS stub
// (crun, or a permissive default) it is the same bytes: same libseccomp.
func TestCompileMatchesCapturedFixtures(t *testing.T) {
	profiles := testfixture.Glob(t, "*.profile.json")
	checked := 0
	for _, pj := range profiles {
		base := strings.TrimSuffix(filepath.Base(pj), ".profile.json")
		for _, rt := range []string{RuntimeRunc, RuntimeCrun} {
			// Not every profile was captured with both runtimes.
			raw, err := os.ReadFile(filepath.Join(filepath.Dir(pj), base+"."+rt+".bpf"))
			if err != nil {
				continue
			}
			t.Run(base+"."+rt, func(t *testing.T) {
				want, err := bytecode.ParseFilter(raw)
				if err != nil {
					t.Fatal(err)
				}
				p, err := Load(pj, Options{})
				if err != nil {
					t.Fatal(err)
				}
				got := mustStack(t, p, rt)
				if res := diff(t, bytecode.Stack{want}, got); !res.Equivalent() {
					for _, f := range res.Findings {
						t.Errorf("%v %s %s: captured %v, compiled %v when %v", f.Kind, f.Arch, f.Label(), f.A, f.B, f.When)
					}
				}
				stub := rt == RuntimeRunc && !permissive(p.Seccomp.DefaultAction)
				if !stub && !bytes.Equal(got[0].Bytes(), raw) {
					t.Errorf("same decisions but not the same bytes (%d vs %d instructions)", got[0].Len(), want.Len())
				}
			})
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no fixture profile has a captured filter")
	}
}

// builtin:docker-default for Docker's default capabilities is the profile
// of the moby-default-v0.2.3 fixtures (runc bundles with that profile).
func TestBuiltinDockerDefaultMatchesV023Fixtures(t *testing.T) {
	p, err := Builtin("docker-default", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range []string{RuntimeRunc, RuntimeCrun} {
		want := readFixture(t, "moby-default-v0.2.3."+rt+".bpf")
		if res := diff(t, bytecode.Stack{want}, mustStack(t, p, rt)); !res.Equivalent() {
			t.Errorf("%s: %d findings against the captured filter", rt, len(res.Findings))
		}
	}
}

// Debian's dockerd 20.10 embeds an older default profile than moby/profiles
// v0.2.3. Compared with the filter captured from a real Docker container
// (runc), the builtin differs in known ways only.
func TestBuiltinDockerDefaultVsDocker2010(t *testing.T) {
	captured := readFixture(t, "docker-default.runc.bpf")
	p, err := Builtin("docker-default", Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := diff(t, bytecode.Stack{captured}, mustStack(t, p, RuntimeRunc))
	// v0.2.3 denies socket(AF_VSOCK) and io_uring, which 20.10 allowed.
	wantStricter := []string{"io_uring_enter", "io_uring_register", "io_uring_setup", "socket"}
	// v0.2.3 allows syscalls 20.10 did not know or denied.
	wantWeaker := []string{"cachestat", "fchmodat2", "futex_requeue", "futex_wait", "futex_wake", "map_shadow_stack",
		"name_to_handle_at", "pkey_alloc", "pkey_free", "pkey_mprotect", "process_vm_readv", "process_vm_writev"}
	for _, a := range []string{"x86_64", "x86"} {
		if got := labels(res, compare.Stricter, a); !slices.Equal(got, wantStricter) {
			t.Errorf("%s stricter: %v, want %v", a, got, wantStricter)
		}
		if got := labels(res, compare.Weaker, a); !slices.Equal(got, wantWeaker) {
			t.Errorf("%s weaker: %v, want %v", a, got, wantWeaker)
		}
		// The ENOSYS stub moved: 20.10 knew fewer syscalls.
		if got := labels(res, compare.Changed, a); !slices.Equal(got, []string{"set_mempolicy_home_node"}) {
			t.Errorf("%s changed: %v", a, got)
		}
	}
	if n := res.Count(compare.Undecided); n != 0 {
		t.Errorf("%d undecided findings", n)
	}
	// The AF_VSOCK rule: the example is socket(40), denied by v0.2.3 only.
	for _, f := range res.Findings {
		if f.Kind == compare.Stricter && f.Arch == "x86_64" && f.Syscall == "socket" {
			if f.Example == nil || uint32(f.Example.Args[0]) != 40 {
				t.Errorf("socket example %v, want AF_VSOCK (40)", f.Example)
			}
			if f.B.Kind() != bytecode.ActErrno {
				t.Errorf("socket(AF_VSOCK) under v0.2.3: %v", f.B)
			}
		}
	}
}

// Podman 4.3.1 on these machines uses Debian's containers-common
// seccomp.json, older than containers/common v0.64.2's default. The builtin
// lets through only what the newer profile deliberately allows.
func TestBuiltinPodmanDefaultVsPodman431(t *testing.T) {
	p, err := Builtin("podman-default", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range []string{RuntimeRunc, RuntimeCrun} {
		captured := readFixture(t, "podman-default."+rt+".bpf")
		res := diff(t, bytecode.Stack{captured}, mustStack(t, p, rt))
		for _, a := range []string{"x86_64", "x32", "x86"} {
			if got := labels(res, compare.Weaker, a); !slices.Equal(got, []string{"fanotify_init", "fchmodat2"}) {
				t.Errorf("%s %s weaker: %v", rt, a, got)
			}
		}
		if got := labels(res, compare.Stricter, "x86_64"); len(got) != 0 {
			t.Errorf("%s x86_64 stricter: %v", rt, got)
		}
	}
}

// With CAP_SYS_ADMIN Docker's default profile allows more, never less.
func TestDockerDefaultSysAdminAllowsMore(t *testing.T) {
	def, err := Builtin("docker-default", Options{})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := Builtin("docker-default", Options{Capabilities: append(DockerDefaultCapabilities(), "CAP_SYS_ADMIN")})
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range []string{RuntimeRunc, RuntimeCrun} {
		res := diff(t, mustStack(t, def, rt), mustStack(t, admin, rt))
		if n := res.Count(compare.Stricter) + res.Count(compare.Changed) + res.Count(compare.Undecided); n != 0 {
			t.Errorf("%s: %d findings other than weaker", rt, n)
		}
		weaker := labels(res, compare.Weaker, "x86_64")
		for _, name := range []string{"mount", "umount2", "setns", "unshare", "bpf", "clone"} {
			if !slices.Contains(weaker, name) {
				t.Errorf("%s: %s not allowed with CAP_SYS_ADMIN (weaker: %v)", rt, name, weaker)
			}
		}
	}
}

// runc answers ENOSYS above the highest syscall the profile names; crun
// the default errno.
func TestCompileENOSYSStub(t *testing.T) {
	p, err := Builtin("docker-default", Options{})
	if err != nil {
		t.Fatal(err)
	}
	runc, crun := mustStack(t, p, RuntimeRunc), mustStack(t, p, RuntimeCrun)
	high := bytecode.Data{Arch: arch.X86_64.Audit, Nr: arch.X86_64.MaxNr() + 100}
	if a := runc.Run(&high); a != bytecode.ActErrno|errnoENOSYS {
		t.Errorf("runc: unknown nr -> %v, want ERRNO(38)", a)
	}
	if a := crun.Run(&high); a != bytecode.ActErrno|1 {
		t.Errorf("crun: unknown nr -> %v, want ERRNO(1)", a)
	}
	// Known but denied syscalls keep the profile's action in both.
	nr, _ := arch.X86_64.SyscallNr("kexec_load")
	for rt, s := range map[string]bytecode.Stack{"runc": runc, "crun": crun} {
		if a := s.Run(&bytecode.Data{Arch: arch.X86_64.Audit, Nr: nr}); a != bytecode.ActErrno|1 {
			t.Errorf("%s: kexec_load -> %v", rt, a)
		}
	}
	// Permissive defaults get no stub.
	allow := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64},
		Syscalls: []specs.LinuxSyscall{{Names: []string{"kexec_load"}, Action: specs.ActErrno}}}
	s, err := Compile(allow, RuntimeRunc)
	if err != nil {
		t.Fatal(err)
	}
	if a := s.Run(&high); a != bytecode.ActAllow {
		t.Errorf("allow-by-default profile: unknown nr -> %v", a)
	}
}

// Rules testing one argument twice are split into an OR of rules, as both
// runtimes do; unknown names are skipped.
func TestCompileSplitsRepeatedArgumentAndSkipsUnknown(t *testing.T) {
	p, err := Load("testdata/oci.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range []string{RuntimeRunc, RuntimeCrun} {
		s := mustStack(t, p, rt)
		nr, _ := arch.X86_64.SyscallNr("personality")
		for _, tc := range []struct {
			arg  uint64
			want bytecode.Action
		}{{8, bytecode.ActErrno | 1}, {0, bytecode.ActErrno | 1}, {3, bytecode.ActAllow}} {
			if a := s.Run(&bytecode.Data{Arch: arch.X86_64.Audit, Nr: nr, Args: [6]uint64{tc.arg}}); a != tc.want {
				t.Errorf("%s: personality(%d) -> %v, want %v (arg0 == 8 OR arg0 == 0)", rt, tc.arg, a, tc.want)
			}
		}
	}
}

func TestCompileRuntimeDifferences(t *testing.T) {
	flags := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
		Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}}}
	if _, err := Compile(flags, RuntimeRunc); err == nil || !strings.Contains(err.Error(), "flags") {
		t.Errorf("runc with flags: %v", err)
	}
	if _, err := Compile(flags, RuntimeCrun); err != nil {
		t.Errorf("crun with flags: %v", err)
	}
	one := uint(1)
	errnoOnAllow := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow, ErrnoRet: &one}}}
	if _, err := Compile(errnoOnAllow, RuntimeCrun); err == nil || !strings.Contains(err.Error(), "errnoRet") {
		t.Errorf("crun with errnoRet on ALLOW: %v", err)
	}
	if _, err := Compile(errnoOnAllow, RuntimeRunc); err != nil {
		t.Errorf("runc ignores errnoRet on ALLOW: %v", err)
	}
	riscv := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchRISCV64},
		Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}}}
	if _, err := Compile(riscv, RuntimeRunc); err == nil || !strings.Contains(err.Error(), "SCMP_ARCH_RISCV64") {
		t.Errorf("runc 1.1 with riscv64: %v", err)
	}
	if _, err := Compile(&specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_NOPE"}, RuntimeCrun); err == nil || !strings.Contains(err.Error(), "SCMP_ACT_NOPE") {
		t.Errorf("unknown action: %v", err)
	}
	if s, err := Compile(nil, RuntimeRunc); err != nil || s != nil {
		t.Errorf("nil profile: %v %v", s, err)
	}
	// The bundle with crun's annotation: runc compiles the config's profile.
	p, err := Load("testdata/bundle-crun-bpf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	runc := mustStack(t, p, RuntimeRunc)
	if runc[0] == p.RawFilter || runc[0].Len() < 10 {
		t.Errorf("runc must ignore the annotation and compile linux.seccomp")
	}
	if res := diff(t, runc, mustStack(t, p, RuntimeCrun)); res.Count(compare.Weaker) == 0 {
		t.Error("crun's raw RET ALLOW filter is not weaker than the config's profile")
	}
}

// The engine-version builtins are what those engines loaded: compiled like
// each runtime, they decide exactly like the filters captured from Debian's
// dockerd 20.10 and podman 4.3.1 containers (default capabilities).
func TestEngineBuiltinsMatchCapturedDefaults(t *testing.T) {
	for name, fixture := range map[string]string{"docker-20.10": "docker-default", "podman-4.3": "podman-default"} {
		p, err := Builtin(name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range []string{RuntimeRunc, RuntimeCrun} {
			captured := readFixture(t, fixture+"."+rt+".bpf")
			if res := diff(t, bytecode.Stack{captured}, mustStack(t, p, rt)); !res.Equivalent() {
				for _, f := range res.Findings {
					t.Errorf("builtin:%s %s: %v %s %s: captured %v, builtin %v", name, rt, f.Kind, f.Arch, f.Label(), f.A, f.B)
				}
			}
		}
	}
}

// A SeccompProfile compiles to the filter of the OCI profile it stands for.
func TestSPOCompilesLikeItsOCIProfile(t *testing.T) {
	for _, rt := range []string{RuntimeRunc, RuntimeCrun} {
		spo, err := Load(filepath.Join("testdata", "spo.yaml"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		oci, err := Load(filepath.Join("testdata", "spo-same.oci.json"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res := diff(t, mustStack(t, oci, rt), mustStack(t, spo, rt)); !res.Equivalent() {
			t.Errorf("%s: %d findings, first %+v", rt, len(res.Findings), res.Findings[0])
		}
	}
}

// An errno beyond what libseccomp takes is reported as such, not as
// libseccomp-golang's reading of EINVAL ("two checks on same syscall
// argument"); 4094 is the largest errno that compiles.
func TestCompileErrnoBeyondMaxErrno(t *testing.T) {
	errno := func(n uint) *uint { return &n }
	for _, tc := range []struct {
		name    string
		profile *specs.LinuxSeccomp
		want    string
	}{
		{"errnoRet 5000", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"ptrace"}, Action: specs.ActErrno, ErrnoRet: errno(5000)}}},
			"errnoRet 5000 is beyond the kernel's maximum errno 4095 (MAX_ERRNO)"},
		{"errnoRet 4095", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"ptrace"}, Action: specs.ActErrno, ErrnoRet: errno(4095)}}},
			"errnoRet 4095 is the kernel's MAX_ERRNO"},
		{"defaultErrnoRet 5000", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: errno(5000),
			Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}}},
			"defaultErrnoRet 5000 is beyond the kernel's maximum errno 4095 (MAX_ERRNO)"},
	} {
		for _, rt := range []string{RuntimeRunc, RuntimeCrun} {
			_, err := Compile(tc.profile, rt)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "two checks") {
				t.Errorf("%s, %s: %v, want %q", tc.name, rt, err, tc.want)
			}
		}
	}
	largest := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"ptrace"}, Action: specs.ActErrno, ErrnoRet: errno(4094)}}}
	s, err := Compile(largest, RuntimeRunc)
	if err != nil {
		t.Fatalf("errnoRet 4094: %v", err)
	}
	nr, _ := arch.X86_64.SyscallNr("ptrace")
	if a := s.Run(&bytecode.Data{Arch: arch.X86_64.Audit, Nr: nr}); a != bytecode.ActErrno|4094 {
		t.Errorf("errnoRet 4094 compiles to %v", a)
	}
}

// A profile that would keep libseccomp busy for long is refused at
// MaxRules, quickly; a profile well below the cap compiles.
func TestCompileRefusesMoreThanMaxRules(t *testing.T) {
	names := []string{"read", "write", "openat", "close"}
	profile := func(rules int) *specs.LinuxSeccomp {
		p := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno}
		for i := range rules {
			p.Syscalls = append(p.Syscalls, specs.LinuxSyscall{Names: []string{names[i%len(names)]}, Action: specs.ActAllow,
				Args: []specs.LinuxSeccompArg{{Index: 1, Value: uint64(i / len(names)), Op: specs.OpEqualTo}}})
		}
		return p
	}
	start := time.Now()
	_, err := Compile(profile(MaxRules+1), RuntimeRunc)
	if err == nil || !strings.Contains(err.Error(), "more than 2048 rules") {
		t.Fatalf("%d rules: %v", MaxRules+1, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("refusing took %v", d)
	}
	if _, err := Compile(profile(MaxRules/4), RuntimeRunc); err != nil {
		t.Errorf("%d rules: %v", MaxRules/4, err)
	}
}
