package spec

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/internal/testfixture"
	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// hasValue is the membership test of a value set, the reference for its
// operations.
func (s valueSet) hasValue(v uint64) bool {
	if s.cubed {
		for _, c := range s.cubes {
			if v&c.mask == c.bits {
				return true
			}
		}
		return false
	}
	for _, sp := range s.spans {
		if v >= sp.lo && v <= sp.hi {
			return true
		}
	}
	return false
}

func (b box) hasArgs(args [6]uint64) bool {
	for i, s := range b {
		v := args[i]
		if s.width == 32 {
			v &= 0xffffffff
		}
		if !s.hasValue(v) {
			return false
		}
	}
	return true
}

var ociTestConstants = []uint64{0, 1, 2, 0x28, 0x7e020000, 0xfffffffe, 0xffffffff, 1 << 32, 0x100000028, 0x2900000000, 0x28ffffffff, 1 << 63, ^uint64(0) - 1, ^uint64(0)}

func ociRandomValue(rng *rand.Rand) uint64 {
	if rng.IntN(3) == 0 {
		return rng.Uint64() >> rng.IntN(64)
	}
	return ociTestConstants[rng.IntN(len(ociTestConstants))]
}

// ociRandomSet is a set made by one comparison, as a condition or a
// profile has them.
func ociRandomSet(rng *rand.Rand, width uint8) valueSet {
	if rng.IntN(3) == 0 {
		a, b := ociRandomValue(rng), ociRandomValue(rng)
		m := a | b
		s := cubeSet(width, cube{mask: m, bits: ociRandomValue(rng) & m})
		if rng.IntN(2) == 0 {
			s = s.complement()
		}
		return s
	}
	return orderSet(width, bytecode.CmpOp(rng.IntN(6)), ociRandomValue(rng))
}

func ociSamples(rng *rand.Rand, n int) []uint64 {
	out := slices.Clone(ociTestConstants)
	for _, c := range ociTestConstants {
		out = append(out, c+1, c-1, c^1<<32, c&0xffffffff)
	}
	for range n {
		out = append(out, ociRandomValue(rng))
	}
	return out
}

// ociWidth is the argument width of the i-th random case: every third is
// a 32-bit architecture's.
func ociWidth(i int) uint8 {
	if i%3 == 0 {
		return 32
	}
	return 64
}

// TestOCIValueSetOperations checks intersection, union, complement, the
// cube form and the OCI comparisons written for a set against membership.
func TestOCIValueSetOperations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	samples := ociSamples(rng, 200)
	for i := range 800 {
		width := ociWidth(i)
		a, b := ociRandomSet(rng, width), ociRandomSet(rng, width)
		and, or, not, cubes := intersectValues(a, b), unionValues(a, b), a.complement(), a.toCubes()
		alts, altsOK := and.comparisons(0, false)
		cubeAlts, cubeAltsOK := and.comparisons(0, true)
		for _, v := range samples {
			v &= widthMax(width)
			ina, inb := a.hasValue(v), b.hasValue(v)
			if !and.broken && and.hasValue(v) != (ina && inb) {
				t.Fatalf("%+v AND %+v at %#x: %v", a, b, v, and.hasValue(v))
			}
			if !or.broken && or.hasValue(v) != (ina || inb) {
				t.Fatalf("%+v OR %+v at %#x: %v", a, b, v, or.hasValue(v))
			}
			if !not.broken && not.hasValue(v) == ina {
				t.Fatalf("NOT %+v at %#x: %v", a, v, not.hasValue(v))
			}
			if !cubes.broken && cubes.hasValue(v) != ina {
				t.Fatalf("cubes of %+v at %#x: %v", a, v, cubes.hasValue(v))
			}
			for _, written := range []struct {
				alts []*specs.LinuxSeccompArg
				ok   bool
			}{{alts, altsOK}, {cubeAlts, cubeAltsOK}} {
				if !written.ok || and.broken {
					continue
				}
				hit := false
				for _, c := range written.alts {
					if c == nil || argsBox([]specs.LinuxSeccompArg{*c}, width).hasArgs([6]uint64{v}) {
						hit = true
					}
				}
				if hit != and.hasValue(v) {
					t.Fatalf("comparisons %v of %+v at %#x: %v", written.alts, and, v, hit)
				}
			}
		}
		for _, c := range cubeAlts {
			if c != nil && c.Op != specs.OpEqualTo && c.Op != specs.OpMaskedEqual {
				t.Fatalf("cubes-only comparisons of %+v include %v", and, c)
			}
		}
	}
}

// TestOCIConditionBox checks that a condition's box holds exactly the
// inputs the condition accepts, or more of them when some comparison has
// no OCI form.
func TestOCIConditionBox(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	samples := ociSamples(rng, 60)
	for i := range 3000 {
		width := ociWidth(i)
		var cond bytecode.Condition
		for range 1 + rng.IntN(3) {
			c := bytecode.Comparison{Operand: bytecode.Operand{Arg: rng.IntN(3) - 1, Half: bytecode.Half(rng.IntN(3))}, Op: bytecode.CmpOp(rng.IntN(6)), Value: ociRandomValue(rng)}
			c.Mask = ^uint64(0) // every bit of the operand: unmasked
			if c.Operand.Half != bytecode.Full {
				c.Mask = 0xffffffff
			}
			if rng.IntN(3) == 0 {
				c.Mask &= ociRandomValue(rng)
			}
			if c.Operand.Half != bytecode.Full {
				c.Value &= 0xffffffff
			}
			cond = append(cond, c)
		}
		b, exact := conditionBox(cond, width)
		if b.broken() {
			continue
		}
		for j, v := range samples {
			w := samples[(j*7+i)%len(samples)]
			d := bytecode.Data{InstructionPointer: w, Args: [6]uint64{v, w, v ^ w}}
			holds, in := cond.Holds(&d), b.hasArgs(d.Args)
			if exact && holds != in || !exact && holds && !in {
				t.Fatalf("condition %s (exact %v) at args %#x ip %#x: holds %v, box %v", cond, exact, d.Args, d.InstructionPointer, holds, in)
			}
		}
	}
}

// ociEntriesDecide is what libseccomp does with one syscall's entries: the
// action of the entry that matches (entries of different actions never
// overlap), else the default.
func ociEntriesDecide(rules []ociRule, width uint8, dflt bytecode.Action, args [6]uint64) bytecode.Action {
	for _, r := range rules {
		if argsBox(r.args, width).hasArgs(args) {
			return r.action
		}
	}
	return dflt
}

// TestOCIPlanSyscall writes the rules of generated filters against a deny
// and a permit default and runs the entries: exact plans decide like the
// rules, the others never let through what the rules deny.
func TestOCIPlanSyscall(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	samples := ociSamples(rng, 40)
	planned := 0
	for range 600 {
		prog := ociArgumentTree(rng, 3)
		f, err := bytecode.NewFilter(prog)
		if err != nil {
			t.Fatalf("generated an invalid program: %v", err)
		}
		tab, err := bytecode.Analyze(f)
		if err != nil {
			continue
		}
		_, sr := tab.Lookup(arch.X86_64.Audit, 39)
		for _, width := range []uint8{64, 32} {
			for _, dflt := range []bytecode.Action{bytecode.ActErrno | 1, bytecode.ActAllow} {
				sp := planSyscall("getpid", sr.Rules, width, dflt)
				planned++
				for i, v := range samples {
					w := samples[(i*5+3)%len(samples)]
					d := bytecode.Data{Arch: arch.X86_64.Audit, Nr: 39, InstructionPointer: v, Args: [6]uint64{v, w, w ^ v}}
					if width == 32 {
						// 32-bit tasks pass zero-extended arguments.
						for k := range d.Args {
							d.Args[k] &= 0xffffffff
						}
					}
					want := f.Run(&d).Effective()
					got := ociEntriesDecide(sp.rules, width, dflt, d.Args)
					if !want.Permits() && got.Permits() || sp.exact && got != representable(want, "getpid") {
						t.Fatalf("width %d default %v, args %#x ip %#x: filter %v, entries %v (exact %v)\nrules %s\nentries %+v\nwhy %v",
							width, dflt, d.Args, d.InstructionPointer, want, got, sp.exact, bytecode.RulesString(sr.Rules), sp.rules, sp.why)
					}
				}
			}
		}
	}
	if planned < 1000 {
		t.Fatalf("only %d plans checked", planned)
	}
}

// ociArgumentTree is a program that returns for getpid on x86_64 whatever
// a random tree of argument (and sometimes instruction pointer) tests
// says, and ALLOW for everything else.
func ociArgumentTree(rng *rand.Rand, depth int) []bpf.Instruction {
	var tree func(depth int) []bpf.Instruction
	tree = func(depth int) []bpf.Instruction {
		if depth == 0 || rng.IntN(4) == 0 {
			acts := []bytecode.Action{bytecode.ActAllow, bytecode.ActLog, bytecode.ActErrno | 1, bytecode.ActErrno | 13, bytecode.ActKillProcess, bytecode.ActTrap, bytecode.ActTrace | 2}
			return []bpf.Instruction{{Op: bpf.Ret(bpf.RetK), K: uint32(acts[rng.IntN(len(acts))])}}
		}
		off := uint32(bytecode.OffsetArgs + 8*rng.IntN(3) + 4*rng.IntN(2))
		if rng.IntN(10) == 0 {
			off = bytecode.OffsetIP
		}
		out := []bpf.Instruction{{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: off}}
		if rng.IntN(5) == 0 {
			out = append(out, bpf.Instruction{Op: bpf.ALU(bpf.AluAND, bpf.SrcK), K: uint32(ociRandomValue(rng))})
		}
		taken, notTaken := tree(depth-1), tree(depth-1)
		op := []bpf.JumpOp{bpf.JmpJEQ, bpf.JmpJGT, bpf.JmpJGE, bpf.JmpJSET}[rng.IntN(4)]
		out = append(out, bpf.Instruction{Op: bpf.Jump(op, bpf.SrcK), K: uint32(ociRandomValue(rng)), Jf: uint8(len(taken))})
		return append(append(out, taken...), notTaken...)
	}
	body := tree(depth)
	prog := []bpf.Instruction{
		{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: bytecode.OffsetNr},
		{Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), K: 39, Jf: uint8(len(body))},
	}
	return append(append(prog, body...), bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActAllow)})
}

// fixtureFilter parses the committed fixture filter name.
func fixtureFilter(t testing.TB, name string) *bytecode.Filter {
	t.Helper()
	f, err := bytecode.ParseFilter(testfixture.Read(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f
}

func ociProfileOf(t *testing.T, name string) *OCIProfile {
	t.Helper()
	tab, err := bytecode.Analyze(fixtureFilter(t, name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := FromTable(tab, OCIOptions{Native: arch.X86_64})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ociEntries(p *OCIProfile, name string) []specs.LinuxSyscall {
	var out []specs.LinuxSyscall
	for _, s := range p.Seccomp.Syscalls {
		if slices.Contains(s.Names, name) {
			out = append(out, s)
		}
	}
	return out
}

// TestOCIDockerDefault: runc's filter of Docker's default profile comes
// back as that profile: ERRNO(EPERM) by default (runc's stub gives ENOSYS
// above the highest syscall), clone allowed when no namespace flag is set,
// personality for its five values, and the three ABIs Docker lists.
func TestOCIDockerDefault(t *testing.T) {
	p := ociProfileOf(t, "docker-default.runc.bpf")
	if p.Seccomp.DefaultAction != specs.ActErrno || p.Seccomp.DefaultErrnoRet == nil || *p.Seccomp.DefaultErrnoRet != 1 {
		t.Errorf("default %s %v, want SCMP_ACT_ERRNO 1", p.Seccomp.DefaultAction, p.Seccomp.DefaultErrnoRet)
	}
	if want := []specs.Arch{"SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_X86"}; !slices.Equal(p.Seccomp.Architectures, want) {
		t.Errorf("architectures %v, want %v", p.Seccomp.Architectures, want)
	}
	clone := ociEntries(p, "clone")
	if len(clone) != 1 || clone[0].Action != specs.ActAllow || len(clone[0].Args) != 1 ||
		clone[0].Args[0] != (specs.LinuxSeccompArg{Index: 0, Op: specs.OpMaskedEqual, Value: 0x7e020000}) {
		t.Errorf("clone: %+v, want ALLOW when arg0 & 0x7e020000 == 0", clone)
	}
	var values []uint64
	for _, s := range ociEntries(p, "personality") {
		if s.Action != specs.ActAllow || len(s.Args) != 1 || s.Args[0].Op != specs.OpEqualTo {
			t.Errorf("personality entry %+v", s)
		}
		values = append(values, s.Args[0].Value)
	}
	slices.Sort(values)
	if want := []uint64{0, 8, 0x20000, 0x20008, 0xffffffff}; !slices.Equal(values, want) {
		t.Errorf("personality allowed for %#x, want %#x", values, want)
	}
	if len(ociEntries(p, "read")) != 1 || len(ociEntries(p, "mount")) != 0 {
		t.Errorf("read %+v, mount %+v: want read allowed, mount left to the default", ociEntries(p, "read"), ociEntries(p, "mount"))
	}
	if len(p.Approximations) != 0 {
		t.Errorf("approximations on an exact round trip: %v", p.Approximations)
	}
}

// TestOCIDefaultActions: the default action is the filter's own for the
// numbers it does not name, not the action most syscalls get.
func TestOCIDefaultActions(t *testing.T) {
	for file, want := range map[string]specs.LinuxSeccompAction{
		"kill-process.runc.bpf":   specs.ActKillProcess,
		"log.runc.bpf":            specs.ActLog,
		"denylist.runc.bpf":       specs.ActAllow,
		"podman-default.crun.bpf": specs.ActErrno,
		// The filter denies one number no profile can name: a deny
		// default, everything the filter allows listed.
		"stacked.1.bpf": specs.ActErrno,
	} {
		if got := ociProfileOf(t, file).Seccomp.DefaultAction; got != want {
			t.Errorf("%s: default %s, want %s", file, got, want)
		}
	}
}

// TestOCIArchitectures: an ABI the filter kills is left out (libseccomp
// kills what is not listed), and arch values nobody lists are reported
// when the filter does not kill them.
func TestOCIArchitectures(t *testing.T) {
	p := ociProfileOf(t, "i386.runc.bpf")
	if want := []specs.Arch{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}; !slices.Equal(p.Seccomp.Architectures, want) {
		t.Errorf("architectures %v, want %v (x32 is killed)", p.Seccomp.Architectures, want)
	}
	if len(p.Approximations) != 0 {
		t.Errorf("approximations: %v", p.Approximations)
	}
	p = ociProfileOf(t, "stacked.1.bpf")
	other := false
	for _, a := range p.Approximations {
		other = other || a.Arch == "other" && a.Stricter && a.ArchValues.Contains(0)
	}
	if !other {
		t.Errorf("a filter that allows every arch value: no stricter approximation for other arch values in %v", p.Approximations)
	}
}

// TestOCIUnwritableConditionsAreStricter: a condition on the instruction
// pointer, and arithmetic on an argument, have no OCI form; the syscall is
// denied where the filter might deny, and that is reported.
func TestOCIUnwritableConditionsAreStricter(t *testing.T) {
	ld := func(off uint32) bpf.Instruction {
		return bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: off}
	}
	ret := func(a bytecode.Action) bpf.Instruction {
		return bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(a)}
	}
	for name, body := range map[string][]bpf.Instruction{
		"instruction pointer": {ld(bytecode.OffsetIP), {Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), K: 0x1000, Jf: 1}, ret(bytecode.ActAllow), ret(bytecode.ActErrno | 1)},
		"arithmetic": {ld(bytecode.OffsetArgs), {Op: bpf.ALU(bpf.AluADD, bpf.SrcK), K: 3}, {Op: bpf.Jump(bpf.JmpJGT, bpf.SrcK), K: 10, Jf: 1},
			ret(bytecode.ActErrno | 1), ret(bytecode.ActAllow)},
	} {
		prog := append([]bpf.Instruction{ld(bytecode.OffsetArch), {Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), K: arch.X86_64.Audit, Jf: uint8(len(body) + 2)},
			ld(bytecode.OffsetNr), {Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), K: 39, Jf: uint8(len(body))}}, body...)
		prog = append(prog, ret(bytecode.ActAllow), ret(bytecode.ActKillThread))
		f, err := bytecode.NewFilter(prog)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tab, err := bytecode.Analyze(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p, err := FromTable(tab, OCIOptions{Native: arch.X86_64})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		getpid := ociEntries(p, "getpid")
		if p.Seccomp.DefaultAction != specs.ActAllow || len(getpid) != 1 || getpid[0].Action != specs.ActErrno || len(getpid[0].Args) != 0 {
			t.Errorf("%s: default %s, getpid %+v: want ALLOW, getpid always ERRNO", name, p.Seccomp.DefaultAction, getpid)
		}
		reported := false
		for _, a := range p.Approximations {
			reported = reported || a.Arch == "x86_64" && slices.Contains(a.Syscalls, "getpid") && a.Stricter
		}
		if !reported {
			t.Errorf("%s: getpid not reported as stricter: %v", name, p.Approximations)
		}
	}
}

// TestOCIMaskUnderPermitDefault: "deny when (arg & mask) != 0" under an
// allow default is one entry per bit of the mask.
func TestOCIMaskUnderPermitDefault(t *testing.T) {
	rules := []bytecode.Rule{
		{When: bytecode.Condition{{Operand: bytecode.Operand{Arg: 0, Half: bytecode.Low}, Op: bytecode.OpNE, Mask: 0x7e020000, Value: 0}}, Action: bytecode.ActErrno | 1},
		{Action: bytecode.ActAllow},
	}
	sp := planSyscall("clone", rules, 64, bytecode.ActAllow)
	if !sp.exact || len(sp.rules) != 7 {
		t.Fatalf("exact %v, %d entries %+v: want 7 exact single-bit entries", sp.exact, len(sp.rules), sp.rules)
	}
	for _, r := range sp.rules {
		c := r.args[0]
		if r.action != bytecode.ActErrno|1 || c.Op != specs.OpMaskedEqual || c.Value != c.ValueTwo || c.Value&(c.Value-1) != 0 || c.Value&0x7e020000 == 0 {
			t.Errorf("entry %+v: want ERRNO(1) when one bit of 0x7e020000 is set", r)
		}
	}
}

// TestOCILibseccompShapes: the entry sets libseccomp 2.5.4 compiles as
// written, and the ones it does not.
func TestOCILibseccompShapes(t *testing.T) {
	arg := func(i uint, op specs.LinuxSeccompOperator, v, v2 uint64) specs.LinuxSeccompArg {
		return specs.LinuxSeccompArg{Index: i, Op: op, Value: v, ValueTwo: v2}
	}
	rule := func(a bytecode.Action, args ...specs.LinuxSeccompArg) ociRule { return ociRule{action: a, args: args} }
	for name, c := range map[string]struct {
		rules []ociRule
		ok    bool
	}{
		"Docker's socket": {[]ociRule{rule(bytecode.ActAllow, arg(0, specs.OpLessThan, 38, 0)), rule(bytecode.ActAllow, arg(0, specs.OpEqualTo, 39, 0)),
			rule(bytecode.ActAllow, arg(0, specs.OpGreaterThan, 40, 0))}, true},
		"podman's socket": {[]ociRule{rule(bytecode.ActErrno|22, arg(0, specs.OpEqualTo, 16, 0), arg(2, specs.OpEqualTo, 9, 0)),
			rule(bytecode.ActAllow, arg(0, specs.OpNotEqual, 16, 0)), rule(bytecode.ActAllow, arg(2, specs.OpNotEqual, 9, 0))}, true},
		"masks only": {[]ociRule{rule(bytecode.ActAllow, arg(0, specs.OpMaskedEqual, 1<<40, 0), arg(1, specs.OpEqualTo, 1<<33, 0)),
			rule(bytecode.ActLog, arg(0, specs.OpMaskedEqual, 1<<40, 1<<40))}, true},
		"one entry": {[]ociRule{rule(bytecode.ActErrno|1, arg(1, specs.OpGreaterEqual, 1, 0), arg(2, specs.OpLessThan, 1<<33, 0))}, true},
		"high words in two order comparisons": {[]ociRule{rule(bytecode.ActErrno|38, arg(0, specs.OpLessThan, 0x2900000000, 0)),
			rule(bytecode.ActAllow, arg(0, specs.OpGreaterThan, 0x28ffffffff, 0))}, false},
		"the same order comparison, then another argument": {[]ociRule{rule(bytecode.ActAllow, arg(0, specs.OpGreaterThan, 5, 0), arg(2, specs.OpEqualTo, 0, 0)),
			rule(bytecode.ActAllow, arg(0, specs.OpGreaterThan, 5, 0), arg(2, specs.OpEqualTo, 1<<32, 0))}, false},
		"equalities next to an inequality of the same action": {[]ociRule{rule(bytecode.ActAllow, arg(0, specs.OpEqualTo, 0, 0), arg(1, specs.OpEqualTo, 0xfffffffe, 0)),
			rule(bytecode.ActAllow, arg(1, specs.OpNotEqual, 0xfffffffe, 0))}, false},
	} {
		if got := libseccompCompiles(c.rules); got != c.ok {
			t.Errorf("%s: libseccompCompiles %v, want %v", name, got, c.ok)
		}
	}
}

// TestOCIRulesCap: past MaxRules libseccomp rules, the syscalls with the
// most entries are cut down to the stricter side, and reported.
func TestOCIRulesCap(t *testing.T) {
	tab, err := bytecode.Analyze(fixtureFilter(t, "docker-default.runc.bpf"))
	if err != nil {
		t.Fatal(err)
	}
	const limit = 100
	p, err := FromTable(tab, OCIOptions{Native: arch.X86_64, MaxRules: limit})
	if err != nil {
		t.Fatal(err)
	}
	rules := 0
	for _, s := range p.Seccomp.Syscalls {
		if a, _ := ociAction(p.Default); s.Action != a {
			rules += len(s.Names)
		}
	}
	if rules > limit {
		t.Errorf("%d libseccomp rules, want at most %d", rules, limit)
	}
	reported := false
	for _, a := range p.Approximations {
		reported = reported || a.Stricter && strings.Contains(a.Reason, "more than 100 libseccomp rules")
	}
	if !reported {
		t.Errorf("the cut is not reported: %v", p.Approximations)
	}
}

// TestOCIRepresentableActions: what OCI or libseccomp cannot say becomes
// the nearest deny, never a permit.
func TestOCIRepresentableActions(t *testing.T) {
	for _, c := range []struct {
		in   bytecode.Action
		name string
		want bytecode.Action
	}{
		{bytecode.ActErrno | 4095, "read", bytecode.ActErrno | 4094}, // libseccomp refuses MAX_ERRNO
		{bytecode.ActErrno | 5000, "read", bytecode.ActErrno | 4094}, // the kernel caps it at MAX_ERRNO
		{bytecode.ActTrap | 7, "read", bytecode.ActTrap},
		{bytecode.ActUserNotif, "write", bytecode.ActErrno | 38},
		{bytecode.ActUserNotif, "", bytecode.ActErrno | 38},
		{bytecode.ActUserNotif, "read", bytecode.ActUserNotif},
		{0x12340000, "read", bytecode.ActKillProcess}, // unknown: the kernel kills the process
		{bytecode.ActTrace | 3, "read", bytecode.ActTrace | 3},
	} {
		if got := representable(c.in, c.name); got != c.want || c.in.Effective().Permits() == false && got.Permits() {
			t.Errorf("representable(%v, %q) = %v, want %v", c.in, c.name, got, c.want)
		}
	}
}
