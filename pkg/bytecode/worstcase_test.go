package bytecode

import (
	"errors"
	"testing"
)

// craftedWorstCase builds a 4096-instruction filter that branches on a
// different argument word at every step and joins again, so that the number
// of paths doubles with every test: 2^1000 paths if explored naively.
func craftedWorstCase() []Instruction {
	var prog []Instruction
	for len(prog) < MaxInstructions-2 {
		i := len(prog) / 4
		off := uint32(OffsetArgs + 4*(i%12))
		prog = append(prog,
			Instruction{Op: ClassLD | SizeW | ModeABS, K: off},
			Instruction{Op: ClassJMP | JmpJSET | SrcK, Jt: 0, Jf: 1, K: 1 << (i % 32)},
			Instruction{Op: ClassALU | AluADD | SrcK, K: 1}, // different A on each side
			Instruction{Op: ClassST, K: uint32(i % ScratchSlots)},
		)
	}
	prog = prog[:MaxInstructions-2]
	return append(prog,
		Instruction{Op: ClassLD | SizeW | ModeABS, K: OffsetNr},
		Instruction{Op: ClassRET | RetK, K: uint32(ActAllow)})
}

// craftedMaskedNr tests a different bit of nr at every step, splitting the
// number space into ever more intervals.
func craftedMaskedNr() []Instruction {
	prog := []Instruction{{Op: ClassLD | SizeW | ModeABS, K: OffsetNr}}
	for len(prog) < MaxInstructions-2 {
		i := len(prog) / 2
		prog = append(prog,
			Instruction{Op: ClassJMP | JmpJSET | SrcK, Jt: 0, Jf: 1, K: 1 << (i % 32)},
			Instruction{Op: ClassMISC | MiscTAX}) // only the taken side passes here
	}
	return append(prog, Instruction{Op: ClassRET | RetK, K: uint32(ActAllow)})
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
	f.Add(Encode(stackedProg))
	f.Add(Encode(craftedWorstCase()[:40]))
	f.Fuzz(func(t *testing.T, raw []byte) {
		prog, err := Decode(raw)
		if err != nil || Validate(prog) != nil {
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
func unanalysed(b *testing.B, prog []Instruction) *Filter {
	f, err := NewFilter(prog)
	if err != nil {
		b.Fatal(err)
	}
	return f
}
