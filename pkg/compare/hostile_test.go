package compare

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// randomFilter builds a valid n-instruction body of loads of nr, arch,
// argument and ip words and short forward jumps on them, followed by
// returns: the shape of the random 51-instruction pair that made diff run
// for four minutes and grow past 1.5 GB before diff had a budget.
func randomFilter(rng *rand.Rand, n int) []bpf.Instruction {
	consts := []uint32{0, 1, 2, 0xffffffff, 0xc000003e, 0x40000000, 0x87, 59, 41, 1000}
	var prog []bpf.Instruction
	for i := range n {
		left := min(n-i, 8)
		if rng.IntN(4) == 0 {
			off := []uint32{bytecode.OffsetNr, bytecode.OffsetArch, 16, 20, 24, 28, 32, 36, 8}[rng.IntN(9)]
			prog = append(prog, bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: off})
			continue
		}
		op := []bpf.JumpOp{bpf.JmpJEQ, bpf.JmpJGT, bpf.JmpJGE, bpf.JmpJSET}[rng.IntN(4)]
		k := consts[rng.IntN(len(consts))]
		if rng.IntN(2) == 0 {
			k = rng.Uint32()
		}
		prog = append(prog, bpf.Instruction{Op: bpf.Jump(op, bpf.SrcK), K: k,
			Jt: uint8(rng.IntN(left)), Jf: uint8(rng.IntN(left))})
	}
	actions := []bytecode.Action{bytecode.ActAllow, bytecode.ActErrno | 2, bytecode.ActKillProcess, bytecode.ActLog, bytecode.ActTrap}
	for range 9 {
		prog = append(prog, bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(actions[rng.IntN(len(actions))])})
	}
	return prog
}

// hostilePair is the pair of seed s (seed 0 is the four-minute pair).
func hostilePair(t testing.TB, seed uint64) (bytecode.Stack, bytecode.Stack) {
	rng := rand.New(rand.NewPCG(seed, 3))
	a, err := bytecode.NewFilter(randomFilter(rng, 51))
	if err != nil {
		t.Fatal(err)
	}
	b, err := bytecode.NewFilter(randomFilter(rng, 51))
	if err != nil {
		t.Fatal(err)
	}
	return bytecode.Stack{a}, bytecode.Stack{b}
}

// A comparison stops when its context is done, as too complex, with the
// context's reason: seccomp-attestd's request deadline ends the work, not
// only the reply.
func TestStacksStopsWhenContextIsDone(t *testing.T) {
	a, b := hostilePair(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := StacksContext(ctx, a, b)
	if !errors.Is(err, bytecode.ErrTooComplex) || !errors.Is(err, context.Canceled) {
		t.Fatalf("StacksContext(cancelled) = %v, want ErrTooComplex and context.Canceled", err)
	}
	// The filters' own analyses were stopped too and are not kept as
	// failed: with time, the same filters compare.
	if _, err := Stacks(a, b); err != nil {
		t.Fatalf("Stacks after a cancelled run: %v", err)
	}
}

// Each (arch, number, kind, actions) is listed once, however many pairs of
// paths reach it: the four-minute pair now needs a few million units.
func TestStacksHostilePairWithinBudget(t *testing.T) {
	for seed := range uint64(40) {
		a, b := hostilePair(t, seed)
		res, err := Stacks(a, b)
		if errors.Is(err, bytecode.ErrTooComplex) {
			continue
		}
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		type key struct {
			arch   string
			nr     uint32
			kind   Kind
			ax, bx bytecode.Action
		}
		seen := map[key]bool{}
		for _, f := range res.Findings {
			for nr := uint64(f.First); nr <= uint64(f.Last) && nr < uint64(f.First)+4; nr++ {
				k := key{f.Arch, uint32(nr), f.Kind, f.A, f.B}
				if seen[k] {
					t.Fatalf("seed %d: %s nr %#x %v %v -> %v listed twice", seed, f.Arch, nr, f.Kind, f.A, f.B)
				}
				seen[k] = true
			}
			if f.Example != nil && f.Kind != Undecided && !f.Confirmed {
				t.Fatalf("seed %d: finding %s %s not confirmed by the evaluator", seed, f.Arch, f.Label())
			}
		}
	}
}

// Past its budget a comparison answers "too complex": a crafted pair whose
// paths each carry thousands of number intervals.
func TestStacksPastBudgetIsTooComplex(t *testing.T) {
	a, b := bytecode.Stack{maskedNrFilter(t, 1)}, bytecode.Stack{maskedNrFilter(t, 2)}
	_, err := Stacks(a, b)
	if !errors.Is(err, bytecode.ErrTooComplex) {
		t.Fatalf("Stacks(crafted) = %v, want ErrTooComplex", err)
	}
}

// maskedNrFilter tests a different pair of nr bits at each step and
// returns a different action at each, so that its paths carry sets of
// numbers with thousands of intervals.
func maskedNrFilter(t testing.TB, salt uint32) *bytecode.Filter {
	prog := []bpf.Instruction{{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: bytecode.OffsetNr}}
	actions := []bytecode.Action{bytecode.ActAllow, bytecode.ActErrno | 1, bytecode.ActKillProcess, bytecode.ActLog, bytecode.ActTrap, bytecode.ActErrno | 2}
	for i := uint32(0); len(prog) < bpf.MaxInstructions-1; i++ {
		mask := uint32(1)<<((i*7+salt)%12) | uint32(1)<<((i*5+salt)%31)
		prog = append(prog,
			bpf.Instruction{Op: bpf.Jump(bpf.JmpJSET, bpf.SrcK), K: mask, Jt: 0, Jf: 1},
			bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(actions[(i+salt)%uint32(len(actions))])})
	}
	prog = append(prog, bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActAllow)})
	f, err := bytecode.NewFilter(prog)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// argTreeFilter branches on a different argument word at each of depth
// levels (a full binary tree: 2^depth paths, each with depth comparisons)
// and returns a different action at every leaf.
func argTreeFilter(t testing.TB, depth int, salt uint32) *bytecode.Filter {
	var prog []bpf.Instruction
	actions := []bytecode.Action{bytecode.ActAllow, bytecode.ActErrno | 1, bytecode.ActKillProcess, bytecode.ActLog, bytecode.ActTrap}
	var build func(level int, id uint32)
	build = func(level int, id uint32) {
		if level == depth {
			prog = append(prog, bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(actions[(id+salt)%uint32(len(actions))])})
			return
		}
		prog = append(prog, bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: uint32(bytecode.OffsetArgs + 4*(level%12))})
		jump := len(prog)
		prog = append(prog, bpf.Instruction{Op: bpf.Jump(bpf.JmpJGT, bpf.SrcK), K: id*31 + salt})
		build(level+1, 2*id)
		prog[jump].Jf = uint8(len(prog) - jump - 1)
		build(level+1, 2*id+1)
	}
	build(0, 1)
	f, err := bytecode.NewFilter(prog)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The worst cases found so far for one diff (target: an answer or "too
// complex" within 1 s and 256 MiB for any two filters of at most 4096
// instructions; peak memory is measured by bench/diff-worst.sh):
//
//	go test -run '^$' -bench DiffWorstCase -benchmem -count 5 ./pkg/compare
func BenchmarkDiffWorstCase(b *testing.B) {
	cases := []struct {
		name string
		a, b func() bytecode.Stack
	}{
		{"random51-seed0", func() bytecode.Stack { a, _ := hostilePair(b, 0); return a }, func() bytecode.Stack { _, c := hostilePair(b, 0); return c }},
		{"masked-nr", func() bytecode.Stack { return bytecode.Stack{maskedNrFilter(b, 1)} }, func() bytecode.Stack { return bytecode.Stack{maskedNrFilter(b, 2)} }},
		{"arg-tree-8", func() bytecode.Stack { return bytecode.Stack{argTreeFilter(b, 8, 1)} }, func() bytecode.Stack { return bytecode.Stack{argTreeFilter(b, 8, 2)} }},
		{"forking-4096", func() bytecode.Stack { return bytecode.Stack{forkingFilter(b)} }, func() bytecode.Stack { return bytecode.Stack{forkingFilter(b)} }},
		{"arg-tree-10", func() bytecode.Stack { return bytecode.Stack{argTreeFilter(b, 10, 1)} }, func() bytecode.Stack { return bytecode.Stack{argTreeFilter(b, 10, 2)} }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				// Fresh filters: each iteration analyses as a new process.
				_, err := Stacks(c.a(), c.b())
				if err != nil && !errors.Is(err, bytecode.ErrTooComplex) {
					b.Fatal(err)
				}
			}
		})
	}
}

// forkingFilter branches on an argument bit at every fourth instruction and
// joins again with a different A on each side, so that its paths double at
// each test: the symbolic execution stops at its budget.
func forkingFilter(t testing.TB) *bytecode.Filter {
	var prog []bpf.Instruction
	for i := uint32(0); len(prog) < bpf.MaxInstructions-4; i++ {
		prog = append(prog,
			bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: bytecode.OffsetArgs + 4*(i%12)},
			bpf.Instruction{Op: bpf.Jump(bpf.JmpJSET, bpf.SrcK), K: 1 << (i % 32), Jt: 0, Jf: 1},
			bpf.Instruction{Op: bpf.ALU(bpf.AluADD, bpf.SrcK), K: 1},
			bpf.Instruction{Op: bpf.Store, K: i % bpf.ScratchSlots})
	}
	prog = append(prog, bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActAllow)})
	f, err := bytecode.NewFilter(prog)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestWriteWorstCases is not a test: bench/diff-worst.sh runs it with
// COMPARE_WORST_CASES_DIR set to get the pairs of BenchmarkDiffWorstCase as
// raw filter files, to time the CLI's diff and measure its peak memory.
func TestWriteWorstCases(t *testing.T) {
	dir := os.Getenv("COMPARE_WORST_CASES_DIR")
	if dir == "" {
		t.Skip("helper of bench/diff-worst.sh")
	}
	a0, b0 := hostilePair(t, 0)
	pairs := map[string][2]*bytecode.Filter{
		"random51-seed0": {a0[0], b0[0]},
		"masked-nr":      {maskedNrFilter(t, 1), maskedNrFilter(t, 2)},
		"forking-4096":   {forkingFilter(t), forkingFilter(t)},
		"arg-tree-8":     {argTreeFilter(t, 8, 1), argTreeFilter(t, 8, 2)},
		"arg-tree-10":    {argTreeFilter(t, 10, 1), argTreeFilter(t, 10, 2)},
	}
	for name, p := range pairs {
		for i, f := range p {
			path := filepath.Join(dir, fmt.Sprintf("%s.%c.bpf", name, 'a'+i))
			if err := os.WriteFile(path, bpf.Encode(f.Instructions()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
