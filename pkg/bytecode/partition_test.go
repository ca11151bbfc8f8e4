package bytecode

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
)

// edgeProgram builds a small valid filter that tests nr and arch against
// the values where interval arithmetic goes wrong: 0, 0xffffffff and their
// neighbours, with every comparison seccomp has.
func edgeProgram(rng *rand.Rand) []bpf.Instruction {
	consts := []uint32{0, 1, 0xfffffffe, 0xffffffff, 0x40000000, 0x3fffffff, 0x7fffffff, 0x80000000, 0xc000003e, 0x87}
	ops := []bpf.JumpOp{bpf.JmpJEQ, bpf.JmpJGT, bpf.JmpJGE, bpf.JmpJSET}
	actions := []Action{ActAllow, ActErrno | 2, ActKillProcess, ActLog, ActTrap}
	n := 2 + rng.IntN(7)
	var prog []bpf.Instruction
	for i := range n {
		if rng.IntN(3) == 0 {
			prog = append(prog, bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: []uint32{OffsetNr, OffsetArch}[rng.IntN(2)]})
			continue
		}
		left := n - i // the returns after the body are reachable
		prog = append(prog, bpf.Instruction{Op: bpf.Jump(ops[rng.IntN(len(ops))], bpf.SrcK),
			K: consts[rng.IntN(len(consts))], Jt: uint8(rng.IntN(left)), Jf: uint8(rng.IntN(left))})
	}
	for range n + 1 {
		prog = append(prog, bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(actions[rng.IntN(len(actions))])})
	}
	return prog
}

// checkPartition asserts that the table's arch tables cover every arch
// value once and that each arch table's rows cover its whole number space
// once, both ends of the 32-bit space included.
func checkPartition(t *testing.T, tab *Table) {
	t.Helper()
	var archValues IntervalSet
	for i := range tab.Arches {
		at := &tab.Arches[i]
		if at.Arch == nil || at.Arch.Name != "x32" { // x32 shares x86_64's value
			if len(intersect(archValues, at.Values)) != 0 {
				t.Fatalf("arch values %v of %s overlap another table", at.Values, at.Name())
			}
			archValues = union(archValues, at.Values)
		}
		var nrs IntervalSet
		for _, sr := range at.Syscalls {
			if sr.First > sr.Last || len(nrs) > 0 && sr.First <= nrs[len(nrs)-1].Last {
				t.Fatalf("%s: row %#x-%#x out of order or overlapping", at.Name(), sr.First, sr.Last)
			}
			nrs = nrs.appendInterval(sr.First, sr.Last)
			if len(sr.Rules) == 0 || len(sr.Rules[len(sr.Rules)-1].When) != 0 {
				t.Fatalf("%s: row %#x-%#x does not end in an unconditional rule", at.Name(), sr.First, sr.Last)
			}
		}
		if want := nrSpace(at); !slices.Equal(nrs, want) {
			t.Fatalf("%s: rows cover %v, want %v", at.Name(), nrs, want)
		}
	}
	if !slices.Equal(archValues, fullSet) {
		t.Fatalf("arch tables cover %v, want every value", archValues)
	}
}

func union(a, b IntervalSet) IntervalSet {
	all := append(slices.Clone(a), b...)
	slices.SortFunc(all, func(x, y Interval) int {
		switch {
		case x.First < y.First:
			return -1
		case x.First > y.First:
			return 1
		}
		return 0
	})
	var out IntervalSet
	for _, iv := range all {
		out = out.appendInterval(iv.First, iv.Last)
	}
	return out
}

// A comparison on nr that is always true or always false (jgt 0xffffffff,
// jge 0) used to hand the path the shared set of all numbers as its own,
// and the next split cut 0xffffffff out of it in place: out of that
// table, and out of every later analysis in the process.
func TestAlwaysTrueNrTestKeepsEveryNumber(t *testing.T) {
	for _, first := range []bpf.Instruction{
		jump(bpf.Jump(bpf.JmpJGT, bpf.SrcK), 0xffffffff, 3, 0), // never taken
		jump(bpf.Jump(bpf.JmpJGE, bpf.SrcK), 0, 0, 3),          // always taken
	} {
		prog := []bpf.Instruction{
			stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetNr),
			first,
			jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 0xffffffff, 0, 1),
			stmt(bpf.Ret(bpf.RetK), uint32(ActAllow)),
			stmt(bpf.Ret(bpf.RetK), uint32(ActErrno|2)),
			stmt(bpf.Ret(bpf.RetK), uint32(ActKillProcess)),
		}
		f, err := NewFilter(prog)
		if err != nil {
			t.Fatal(err)
		}
		tab, err := Analyze(f)
		if err != nil {
			t.Fatal(err)
		}
		checkPartition(t, tab)
		for _, nr := range []uint32{0, 0xfffffffe, 0xffffffff} {
			d := &Data{Arch: 0xc000003e, Nr: nr}
			if got, exact, _ := tab.Decide(d); !exact || len(got) != 1 || got[0] != f.Run(d) {
				t.Errorf("%v: nr %#x: table %v, evaluator %v", first, nr, got, f.Run(d))
			}
		}
		if !slices.Equal(fullSet, IntervalSet{{0, 0xffffffff}}) {
			t.Fatalf("the analysis changed fullSet to %v", fullSet)
		}
	}
}

// Over generated programs that test nr and arch at the edges, the table
// partitions the whole input space and agrees with the evaluator there.
func TestTablePartitionsInputSpace(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	n := 20_000
	if testing.Short() {
		n = 2_000
	}
	edges := []uint32{0, 1, 0x3fffffff, 0x40000000, 0x7fffffff, 0x80000000, 0xc000003e, 0xfffffffe, 0xffffffff}
	for i := 0; i < n; i++ {
		prog := edgeProgram(rng)
		f, err := NewFilter(prog)
		if err != nil {
			continue
		}
		tab, err := Analyze(f)
		if err != nil {
			t.Fatalf("%v: %v", prog, err)
		}
		checkPartition(t, tab)
		for _, a := range edges {
			for _, nr := range edges {
				d := &Data{Arch: a, Nr: nr}
				want := Stack{f}.Run(d).Effective()
				got, exact, any := tab.Decide(d)
				if exact && (len(got) != 1 || got[0] != want) || !exact && !any && !slices.Contains(got, want) {
					t.Fatalf("%v\narch %#x nr %#x: table %v (exact %v), evaluator %v", Disassemble(prog, DisasmOptions{}), a, nr, got, exact, want)
				}
			}
		}
	}
	if !slices.Equal(fullSet, IntervalSet{{0, 0xffffffff}}) {
		t.Fatalf("the analysis changed fullSet to %v", fullSet)
	}
}
