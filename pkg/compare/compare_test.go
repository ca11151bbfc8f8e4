package compare

import (
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/testfixture"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

func prog(t *testing.T, p ...bpf.Instruction) *bytecode.Filter {
	t.Helper()
	f, err := bytecode.NewFilter(p)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func ret(a bytecode.Action) bpf.Instruction {
	return bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(a)}
}

const libseccompFilter = "../bytecode/testdata/libseccomp-x86_64-x32-i386.bpf"

func TestSameFilterIsEquivalent(t *testing.T) {
	f := testfixture.ReadFilter(t, libseccompFilter)
	res, err := Stacks(bytecode.Stack{f}, bytecode.Stack{f})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Equivalent() {
		t.Fatalf("a filter differs from itself: %+v", res.Findings[0])
	}
}

func find(res *Result, arch, name string, k Kind) *Finding {
	for i := range res.Findings {
		f := &res.Findings[i]
		if f.Arch == arch && f.Syscall == name && f.Kind == k {
			return f
		}
	}
	return nil
}

func TestAllowAllIsWeakerWithConfirmedExamples(t *testing.T) {
	ref := testfixture.ReadFilter(t, libseccompFilter)
	allowAll := prog(t, ret(bytecode.ActAllow))
	res, err := Stacks(bytecode.Stack{ref}, bytecode.Stack{allowAll})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ arch, name string }{{"x86_64", "ptrace"}, {"x86_64", "mount"}, {"x32", "ptrace"}, {"x86", "mount"}} {
		f := find(res, c.arch, c.name, Weaker)
		if f == nil {
			t.Errorf("%s %s: no weaker finding", c.arch, c.name)
			continue
		}
		if !f.Confirmed || f.Example == nil {
			t.Errorf("%s %s: example not confirmed: %+v", c.arch, c.name, f)
		}
	}
	// The socket rule denies only AF_VSOCK (64-bit compare on x86_64):
	// the finding must carry arg0 == 40.
	f := find(res, "x86_64", "socket", Weaker)
	if f == nil || f.Example.Args[0] != 40 {
		t.Fatalf("socket finding %+v, want an example with args[0] == 40", f)
	}
	if res.Count(Stricter) != 0 || res.Count(Undecided) != 0 {
		t.Errorf("allow-all cannot be stricter: %d stricter, %d undecided", res.Count(Stricter), res.Count(Undecided))
	}
	// Other arch values: the reference kills, allow-all allows.
	foundOther := false
	for _, f := range res.Findings {
		if f.Arch != "x86_64" && f.Arch != "x32" && f.Arch != "x86" && f.Kind == Weaker && f.Confirmed {
			foundOther = true
		}
	}
	if !foundOther {
		t.Error("no weaker finding for other architectures")
	}
	// And the other way round everything is stricter.
	back, err := Stacks(bytecode.Stack{allowAll}, bytecode.Stack{ref})
	if err != nil {
		t.Fatal(err)
	}
	if back.Count(Weaker) != 0 || find(back, "x86_64", "ptrace", Stricter) == nil {
		t.Errorf("reverse comparison: %d weaker, ptrace stricter %v", back.Count(Weaker), find(back, "x86_64", "ptrace", Stricter))
	}
}

func TestStackedFilterArgumentCondition(t *testing.T) {
	ref := testfixture.ReadFilter(t, libseccompFilter)
	// read (0) with args[2] > 100 fails with EIO.
	second := prog(t,
		bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: bytecode.OffsetNr},
		bpf.Instruction{Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), Jt: 0, Jf: 3, K: 0},
		bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: bytecode.OffsetArgs + 16},
		bpf.Instruction{Op: bpf.Jump(bpf.JmpJGT, bpf.SrcK), Jt: 0, Jf: 1, K: 100},
		ret(bytecode.ActErrno|5),
		ret(bytecode.ActAllow),
	)
	res, err := Stacks(bytecode.Stack{ref}, bytecode.Stack{ref, second})
	if err != nil {
		t.Fatal(err)
	}
	f := find(res, "x86_64", "read", Stricter)
	if f == nil {
		t.Fatalf("no stricter finding for read: %+v", res.Findings)
	}
	if !f.Confirmed || uint32(f.Example.Args[2]) <= 100 {
		t.Errorf("read example %+v, want args[2] > 100, confirmed", f.Example)
	}
	if res.Count(Weaker) != 0 {
		t.Errorf("stacking a filter cannot make it weaker: %d weaker findings", res.Count(Weaker))
	}
}

// A filter doing arithmetic on an argument cannot be modelled exactly: the
// comparison must not claim equivalence, and say "undecided" or show a
// confirmed difference.
func TestApproximateFilterIsNotEquivalent(t *testing.T) {
	arith := prog(t,
		bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: bytecode.OffsetArgs},
		bpf.Instruction{Op: bpf.ALU(bpf.AluADD, bpf.SrcK), K: 1},
		bpf.Instruction{Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), Jt: 0, Jf: 1, K: 0},
		ret(bytecode.ActErrno|1),
		ret(bytecode.ActAllow),
	)
	allowAll := prog(t, ret(bytecode.ActAllow))
	res, err := Stacks(bytecode.Stack{arith}, bytecode.Stack{allowAll})
	if err != nil {
		t.Fatal(err)
	}
	if res.Equivalent() {
		t.Fatal("a filter that denies args[0] == 0xffffffff compares equivalent to allow-all")
	}
	if res.Count(Undecided) == 0 {
		t.Errorf("want undecided findings, got %+v", res.Findings)
	}
}

// Docker 20.10's default as runc and crun loaded it (captured): nothing is
// weaker or stricter; runc's ENOSYS stub answers ERRNO(38) where crun gives
// the default ERRNO(1), reported as changes with confirmed inputs. Podman's
// default errno is ENOSYS already, so its two captures are equivalent.
func TestCapturedRuncVsCrun(t *testing.T) {
	const dir = "../bytecode/testdata/fixtures/"
	res, err := Stacks(bytecode.Stack{testfixture.ReadFilter(t, dir+"docker-default.runc.bpf")}, bytecode.Stack{testfixture.ReadFilter(t, dir+"docker-default.crun.bpf")})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Count(Weaker) + res.Count(Stricter) + res.Count(Undecided); n != 0 {
		t.Fatalf("%d findings other than changed", n)
	}
	named := 0
	for _, f := range res.Findings {
		if f.A != bytecode.ActErrno|38 || f.B != bytecode.ActErrno|1 || !f.Confirmed {
			t.Errorf("%s %s: %v -> %v, confirmed %v", f.Arch, f.Label(), f.A, f.B, f.Confirmed)
		}
		if f.Syscall != "" {
			named++
		}
	}
	if find(res, "x86_64", "set_mempolicy_home_node", Changed) == nil || named == 0 {
		t.Errorf("the syscalls newer than the profile are not reported as changed (%d named)", named)
	}
	res, err = Stacks(bytecode.Stack{testfixture.ReadFilter(t, dir+"podman-default.runc.bpf")}, bytecode.Stack{testfixture.ReadFilter(t, dir+"podman-default.crun.bpf")})
	if err != nil || !res.Equivalent() {
		t.Fatalf("podman runc vs crun: %v, %d findings", err, len(res.Findings))
	}
}

// An empty stack is a process without a filter: everything the other side
// denies is weaker, with a confirmed input.
func TestEmptyStackIsAllowAll(t *testing.T) {
	deny := prog(t, ret(bytecode.ActErrno|1))
	res, err := Stacks(bytecode.Stack{deny}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Count(Weaker) == 0 {
		t.Fatalf("no weaker finding: %+v", res.Findings)
	}
	for _, f := range res.Findings {
		if f.Kind == Weaker && !f.Confirmed {
			t.Fatalf("unconfirmed: %+v", f)
		}
	}
	if res, err := Stacks(nil, bytecode.Stack{}); err != nil || !res.Equivalent() {
		t.Fatalf("no filter vs no filter: %v %+v", err, res)
	}
}
