package bytecode

import (
	"errors"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
)

// craftedWorstCase builds a 4096-instruction filter that branches on a
// different argument word at every step and joins again, so that the number
// of paths doubles with every test: 2^1000 paths if explored naively.
func craftedWorstCase() []bpf.Instruction {
	var prog []bpf.Instruction
	for len(prog) < bpf.MaxInstructions-2 {
		i := len(prog) / 4
		off := uint32(OffsetArgs + 4*(i%12))
		prog = append(prog,
			bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: off},
			bpf.Instruction{Op: bpf.Jump(bpf.JmpJSET, bpf.SrcK), Jt: 0, Jf: 1, K: 1 << (i % 32)},
			bpf.Instruction{Op: bpf.ALU(bpf.AluADD, bpf.SrcK), K: 1}, // different A on each side
			bpf.Instruction{Op: bpf.Store, K: uint32(i % bpf.ScratchSlots)},
		)
	}
	prog = prog[:bpf.MaxInstructions-2]
	return append(prog,
		bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: OffsetNr},
		bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(ActAllow)})
}

// craftedMaskedNr tests a different bit of nr at every step, splitting the
// number space into ever more intervals.
func craftedMaskedNr() []bpf.Instruction {
	prog := []bpf.Instruction{{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: OffsetNr}}
	for len(prog) < bpf.MaxInstructions-2 {
		i := len(prog) / 2
		prog = append(prog,
			bpf.Instruction{Op: bpf.Jump(bpf.JmpJSET, bpf.SrcK), Jt: 0, Jf: 1, K: 1 << (i % 32)},
			bpf.Instruction{Op: bpf.Misc(bpf.MiscTAX)}) // only the taken side passes here
	}
	return append(prog, bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(ActAllow)})
}

// The analysis of a hostile filter stops at its budget with ErrTooComplex
// (callers fail closed) instead of running without bound.
func TestAnalyzeCraftedWorstCaseStopsAtBudget(t *testing.T) {
	f, err := NewFilter(craftedWorstCase())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Analyze(f)
	if !errors.Is(err, ErrTooComplex) {
		t.Fatalf("Analyze(crafted) = %v, want ErrTooComplex", err)
	}
	g, err := NewFilter(craftedMaskedNr())
	if err != nil {
		t.Fatal(err)
	}
	if tab, err := Analyze(g); err != nil && !errors.Is(err, ErrTooComplex) {
		t.Fatalf("Analyze(masked nr) = %v", err)
	} else if err == nil {
		checkDifferential(t, Stack{g}, tab, 1000)
	}
	// The same filter with a tiny budget fails the same way.
	if _, err := AnalyzeBudget(f, 100); !errors.Is(err, ErrTooComplex) {
		t.Fatalf("AnalyzeBudget(100) = %v, want ErrTooComplex", err)
	}
}

// Speed and memory target: a crafted 4096-instruction filter finishes
// (or stops at the budget) within 100 ms and 64 MiB:
//
//	go test -run '^$' -bench CraftedWorstCase -benchmem ./pkg/bytecode
func BenchmarkAnalyzeCraftedWorstCase(b *testing.B) {
	prog := craftedWorstCase()
	for b.Loop() {
		Analyze(unanalysed(b, prog))
	}
}

func BenchmarkAnalyzeCraftedMaskedNr(b *testing.B) {
	prog := craftedMaskedNr()
	for b.Loop() {
		Analyze(unanalysed(b, prog))
	}
}

// FuzzAnalyze checks, for any valid filter, that the analysis ends within
// its budget and that its table agrees with the concrete evaluator.
func FuzzAnalyze(f *testing.F) {
	f.Add(bpf.Encode(stackedProg))
	f.Add(bpf.Encode(craftedWorstCase()[:40]))
	f.Fuzz(func(t *testing.T, raw []byte) {
		prog, err := bpf.Decode(raw)
		if err != nil || bpf.Validate(prog) != nil {
			return
		}
		flt, _ := NewFilter(prog)
		tab, err := AnalyzeBudget(flt, 20_000)
		if err != nil {
			if !errors.Is(err, ErrTooComplex) {
				t.Fatal(err)
			}
			return
		}
		checkDifferential(t, Stack{flt}, tab, 300)
	})
}

// unanalysed is a new Filter of prog, without the memoised analysis of an
// earlier one: each benchmark iteration analyses afresh, as a new process
// does. Validation is part of what it measures.
func unanalysed(b *testing.B, prog []bpf.Instruction) *Filter {
	f, err := NewFilter(prog)
	if err != nil {
		b.Fatal(err)
	}
	return f
}
