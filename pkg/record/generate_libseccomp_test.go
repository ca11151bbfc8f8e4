//go:build cgo && libseccomp

package record

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

const (
	ePERM  = bytecode.ActErrno | 1
	eNOSYS = bytecode.ActErrno | 38
)

// decides checks one input against the compiled filter (the interpreter)
// and its decision table, which must agree.
func decides(t *testing.T, rt string, s bytecode.Stack, tab *bytecode.Table, what string, d bytecode.Data, want bytecode.Action) {
	t.Helper()
	got := s.Run(&d)
	if got != want {
		t.Errorf("%s: %s -> %v, want %v", rt, what, got, want)
	}
	acts, exact, _ := tab.Decide(&d)
	if !exact || len(acts) != 1 || acts[0] != got {
		t.Errorf("%s: %s: decision table says %v (exact %v), the filter %v", rt, what, acts, exact, got)
	}
}

func nrOf(t *testing.T, a *arch.Arch, name string) uint32 {
	t.Helper()
	nr, ok := a.SyscallNr(name)
	if !ok {
		t.Fatalf("%s has no %s", a, name)
	}
	return nr
}

// newestKnown is the highest number of a's table that the host's
// libseccomp knows by name: runc names only those, so its ENOSYS stub
// starts above it (the syscalls between it and the table's newest are
// newer than the runtime's libseccomp and get ENOSYS).
func newestKnown(t *testing.T, a *arch.Arch) uint32 {
	t.Helper()
	sa, err := libseccomp.GetArchFromString(a.Name)
	if err != nil {
		t.Fatal(err)
	}
	all := a.Syscalls()
	for i := len(all) - 1; i >= 0; i-- {
		if _, err := libseccomp.GetSyscallFromNameByArch(all[i].Name, sa); err == nil {
			return all[i].Nr
		}
	}
	t.Fatalf("libseccomp knows no %s syscall", a)
	return 0
}

// The generated profile, compiled as runc and crun compile it (with the
// host's libseccomp): every recorded call is allowed, other values of the
// recorded arguments and every known syscall never made get EPERM, and
// numbers newer than seccomp-attest's table get ENOSYS under runc.
func TestGeneratedProfileDecides(t *testing.T) {
	calls := append(shellCalls(), call{arch: arch.X32, name: "read"})
	g, err := Generate(testRecording(t, calls), GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range []string{spec.RuntimeRunc, spec.RuntimeCrun} {
		s, err := spec.Compile(g.Seccomp, rt)
		if err != nil {
			t.Fatalf("%s: %v", rt, err)
		}
		tab, err := bytecode.AnalyzeStack(s)
		if err != nil {
			t.Fatal(err)
		}
		x := arch.X86_64
		data := func(name string, args ...uint64) bytecode.Data {
			d := bytecode.Data{Arch: x.Audit, Nr: nrOf(t, x, name)}
			copy(d.Args[:], args)
			return d
		}
		for _, c := range calls {
			d := bytecode.Data{Arch: c.arch.Audit, Nr: nrOf(t, c.arch, c.name), Args: c.args}
			decides(t, rt, s, tab, c.arch.Name+" recorded "+c.name, d, bytecode.ActAllow)
		}
		for _, tc := range []struct {
			what string
			d    bytecode.Data
			want bytecode.Action
		}{
			{"clone(CLONE_NEWNET|SIGCHLD)", data("clone", cloneNewNet|0x11), ePERM},
			{"clone(CLONE_NEWUSER|thread flags)", data("clone", 0x10000000|cloneThread), ePERM},
			{"clone(vfork flags, no namespace)", data("clone", 0x4111), bytecode.ActAllow},
			{"socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC)", data("socket", 2, 0x80001), ePERM},
			{"socket(AF_UNIX, SOCK_DGRAM)", data("socket", 1, 2), ePERM},
			{"socket(AF_VSOCK|1<<32, ...)", data("socket", 40|1<<32, 0x80001), ePERM},
			// Other high bits match no allow rule: denied, never a bypass.
			{"socket(AF_UNIX|1<<32, ...)", data("socket", 1|1<<32, 0x80001), ePERM},
			{"personality(0xffffffff) sign-extended", data("personality", 0xffffffffffffffff), ePERM},
			{"personality(0)", data("personality", 0), ePERM},
			{"unshare", data("unshare", 0x10000000), ePERM},
			{"mount", data("mount"), ePERM},
			{"keyctl", data("keyctl"), ePERM},
			{"clone3", data("clone3"), ePERM},
			{"the newest syscall libseccomp knows too", bytecode.Data{Arch: x.Audit, Nr: newestKnown(t, x)}, ePERM},
			{"x32 keyctl", bytecode.Data{Arch: x.Audit, Nr: nrOf(t, arch.X32, "keyctl")}, ePERM},
		} {
			decides(t, rt, s, tab, tc.what, tc.d, tc.want)
		}
		newer := bytecode.Data{Arch: x.Audit, Nr: newestKnown(t, x) + 1}
		want := eNOSYS
		if rt == spec.RuntimeCrun {
			want = ePERM // crun has no ENOSYS stub: the default errno
		}
		decides(t, rt, s, tab, "a number newer than the table", newer, want)
		x32newer := bytecode.Data{Arch: x.Audit, Nr: newestKnown(t, arch.X32) + 1}
		decides(t, rt, s, tab, "an x32 number newer than the table", x32newer, want)
	}
}

// Against Docker's default profile the generated one is strictly stricter:
// nothing it lets through is denied by Docker's, and it denies more.
func TestGeneratedProfileStricterThanDockerDefault(t *testing.T) {
	g, err := Generate(testRecording(t, shellCalls()), GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	docker, err := spec.Builtin("docker-default", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := docker.Stack(spec.RuntimeRunc)
	if err != nil {
		t.Fatal(err)
	}
	gs, err := spec.Compile(g.Seccomp, spec.RuntimeRunc)
	if err != nil {
		t.Fatal(err)
	}
	res, err := compare.Stacks(ds, gs)
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Count(compare.Weaker) + res.Count(compare.Undecided); n > 0 {
		for _, f := range res.Findings {
			if f.Kind == compare.Weaker || f.Kind == compare.Undecided {
				t.Errorf("%v %s %s: docker %v, generated %v when %v", f.Kind, f.Arch, f.Label(), f.A, f.B, f.When)
			}
		}
	}
	if res.Count(compare.Stricter) == 0 {
		t.Error("no syscall denied that Docker's default allows")
	}
}

// --base: only what the base does not allow remains, and the base plus
// the remainder allows every recorded call.
func TestGenerateWithBase(t *testing.T) {
	calls := append(shellCalls(),
		call{arch: arch.X86_64, name: "unshare", args: [6]uint64{0x20000}},          // denied by Docker's default
		call{arch: arch.X86_64, name: "socket", args: [6]uint64{40, 1, 0}},          // AF_VSOCK: denied by Docker's
		call{arch: arch.X86_64, name: "clone", args: [6]uint64{cloneNewNet | 0x11}}, // a namespace: denied by Docker's
	)
	docker, err := spec.Builtin("docker-default", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := docker.Stack(spec.RuntimeRunc)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Generate(testRecording(t, calls), GenerateOptions{Base: ds, BaseSource: "builtin:docker-default"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range g.Seccomp.Syscalls {
		names = append(names, s.Names...)
	}
	// socket's recorded values are (AF_UNIX|AF_VSOCK) x (types) x (0):
	// the combinations Docker denies remain, the clone rule for
	// CLONE_NEWNET, and unshare.
	for _, s := range g.Seccomp.Syscalls {
		switch s.Names[0] {
		case "unshare", "socket", "clone":
		default:
			t.Errorf("rule for %v: Docker's default allows it already", s.Names)
		}
		if s.Names[0] == "socket" && s.Args[0].Value != 40 {
			t.Errorf("socket rule %+v: Docker's default allows that family", s.Args)
		}
		if s.Names[0] == "clone" && s.Args[0].ValueTwo != cloneNewNet {
			t.Errorf("clone rule %+v: Docker's default allows clone without namespaces", s.Args)
		}
	}
	extra, err := spec.Compile(g.Seccomp, spec.RuntimeRunc)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		d := bytecode.Data{Arch: c.arch.Audit, Nr: nrOf(t, c.arch, c.name), Args: c.args}
		if !ds.Run(&d).Permits() && !extra.Run(&d).Permits() {
			t.Errorf("%s%v: allowed by neither the base nor the additions %v", c.name, c.args, names)
		}
	}
}

// The Docker form decides as the OCI form on this host also for a
// recording of a 32-bit ABI without its 64-bit architecture: Docker takes
// the archMap entry of the host's native architecture only.
func TestGeneratedDockerFormDecidesLikeOCIFor32BitOnly(t *testing.T) {
	if arch.Native() != arch.X86_64 {
		t.Skip("needs an x86_64 host")
	}
	for _, a := range []*arch.Arch{arch.X86, arch.X32} {
		calls := []call{{arch: a, name: "execve"}, {arch: a, name: "read"}, {arch: a, name: "getpid"}}
		g, err := Generate(testRecording(t, calls), GenerateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var stacks []bytecode.Stack
		for _, f := range []Format{FormatOCI, FormatDocker} {
			out, err := g.Encode(f, "x")
			if err != nil {
				t.Fatal(err)
			}
			p, err := spec.Parse(out, "generated."+string(f), spec.Options{})
			if err != nil {
				t.Fatal(err)
			}
			s, err := p.Stack(spec.RuntimeRunc)
			if err != nil {
				t.Fatal(err)
			}
			stacks = append(stacks, s)
		}
		for _, c := range append(calls, call{arch: a, name: "mount"}) {
			d := bytecode.Data{Arch: c.arch.Audit, Nr: nrOf(t, c.arch, c.name)}
			if oci, docker := stacks[0].Run(&d), stacks[1].Run(&d); oci != docker {
				t.Errorf("%s %s: OCI form %v, Docker form %v", a, c.name, oci, docker)
			}
		}
	}
}

// --base: a syscall the base leaves to a supervisor (SCMP_ACT_NOTIFY) or
// a tracer (SCMP_ACT_TRACE) is not already allowed: without them it fails
// with ENOSYS, and a supervisor may deny it.
func TestGenerateWithBaseThatNotifiesOrTraces(t *testing.T) {
	base := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64}, ListenerPath: "/run/x.sock",
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"execve", "read"}, Action: specs.ActAllow},
			{Names: []string{"mount"}, Action: specs.ActNotify},
			{Names: []string{"unshare"}, Action: specs.ActTrace},
			{Names: []string{"socket"}, Action: specs.ActNotify, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 40, Op: specs.OpEqualTo}}},
			{Names: []string{"socket"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpEqualTo}}},
		}}
	bs, err := spec.Compile(base, spec.RuntimeCrun)
	if err != nil {
		t.Fatal(err)
	}
	calls := []call{{arch: arch.X86_64, name: "execve"}, {arch: arch.X86_64, name: "read"}, {arch: arch.X86_64, name: "mount"},
		{arch: arch.X86_64, name: "unshare"}, {arch: arch.X86_64, name: "socket", args: [6]uint64{40, 1, 0}}}
	g, err := Generate(testRecording(t, calls), GenerateOptions{Base: bs, BaseSource: "notify"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range g.Seccomp.Syscalls {
		for _, n := range s.Names {
			got[n] = s.Action == specs.ActAllow
		}
	}
	for _, n := range []string{"mount", "unshare", "socket"} {
		if !got[n] {
			t.Errorf("%s, which the base notifies or traces, is not among the additions %v", n, g.Seccomp.Syscalls)
		}
	}
	if got["read"] || got["execve"] {
		t.Errorf("additions %v hold what the base allows", g.Seccomp.Syscalls)
	}
}

// runc's ENOSYS stub starts at the highest named syscall its libseccomp
// resolves. An i386 recording whose newest syscall is newer than that
// libseccomp, with socket (which libseccomp resolves to a pseudo number on
// i386), still runs socket: the pinned names reach above it.
func TestGeneratedProfileRecordedI386SocketBelowTheStub(t *testing.T) {
	x86, err := libseccomp.GetArchFromString("x86")
	if err != nil {
		t.Fatal(err)
	}
	var unknown string
	all := arch.X86.Syscalls()
	for i := len(all) - 1; i >= 0; i-- {
		if _, err := libseccomp.GetSyscallFromNameByArch(all[i].Name, x86); err != nil {
			unknown = all[i].Name
			break
		}
	}
	if unknown == "" {
		t.Skip("this libseccomp knows every i386 syscall of the table")
	}
	calls := []call{{arch: arch.X86_64, name: "execve"}, {arch: arch.X86, name: "execve"},
		{arch: arch.X86, name: "socket", args: [6]uint64{1, 1, 0}}, {arch: arch.X86, name: unknown}}
	g, err := Generate(testRecording(t, calls), GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Compile(g.Seccomp, spec.RuntimeRunc)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := bytecode.AnalyzeStack(s)
	if err != nil {
		t.Fatal(err)
	}
	d := bytecode.Data{Arch: arch.X86.Audit, Nr: nrOf(t, arch.X86, "socket"), Args: [6]uint64{1, 1, 0}}
	decides(t, spec.RuntimeRunc, s, tab, "i386 socket(AF_UNIX, SOCK_STREAM, 0), recorded with "+unknown, d, bytecode.ActAllow)
}
