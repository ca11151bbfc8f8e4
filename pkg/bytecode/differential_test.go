package bytecode

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/bpftest"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
)

// checkDifferential compares the decision table with the concrete
// evaluator on n inputs: every arch value the program tests, every syscall
// number range of the table (both ends and a random inside), argument
// words at and around every constant, and random values.
func checkDifferential(t *testing.T, s Stack, tab *Table, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, uint64(len(s))))
	var prog []bpf.Instruction
	for _, f := range s {
		prog = append(prog, f.prog...)
	}
	vals := bpftest.InterestingValues(prog)
	var archValues []uint32
	for _, at := range tab.Arches {
		for _, iv := range at.Values {
			archValues = append(archValues, iv.First, iv.Last, iv.First+(iv.Last-iv.First)/2)
		}
	}
	var nrs []uint32
	for _, at := range tab.Arches {
		for _, sr := range at.Syscalls {
			nrs = append(nrs, sr.First, sr.Last)
			if sr.Last > sr.First {
				nrs = append(nrs, sr.First+uint32(rng.Uint64N(uint64(sr.Last-sr.First)+1)))
			}
		}
	}
	nrs = append(nrs, vals...)
	word := func() uint32 {
		if rng.IntN(3) == 0 {
			return rng.Uint32()
		}
		return vals[rng.IntN(len(vals))]
	}
	mismatches := 0
	for i := 0; i < n; i++ {
		d := Data{Arch: archValues[rng.IntN(len(archValues))], Nr: nrs[i%len(nrs)]}
		if i%7 == 0 {
			d.Nr = rng.Uint32()
		}
		if i%11 == 0 {
			d.Arch = rng.Uint32()
		}
		d.InstructionPointer = uint64(word())<<32 | uint64(word())
		for a := range d.Args {
			switch rng.IntN(4) {
			case 0:
				d.Args[a] = 0
			case 1:
				d.Args[a] = uint64(word())
			default:
				d.Args[a] = uint64(word())<<32 | uint64(word())
			}
		}
		want := s.Run(&d).Effective()
		got, exact, any := tab.Decide(&d)
		ok := any
		for _, g := range got {
			ok = ok || g == want
		}
		if exact && (len(got) != 1 || got[0] != want) {
			ok = false
		}
		if !ok {
			mismatches++
			if mismatches <= 5 {
				_, sr := tab.Lookup(d.Arch, d.Nr)
				t.Errorf("input arch=%#x nr=%#x ip=%#x args=%#x: evaluator %v, table %v (exact %v) rules %+v", d.Arch, d.Nr, d.InstructionPointer, d.Args, want, got, exact, sr)
			}
		}
	}
	if mismatches > 0 {
		t.Fatalf("%d of %d inputs disagree", mismatches, n)
	}
}

func loadFilter(t testing.TB, path string) *Filter {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFilter(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// realFilters lists the filters captured from real systems.
func realFilters(t testing.TB) []string {
	files, _ := filepath.Glob("testdata/*.bpf")
	more, _ := filepath.Glob("testdata/fixtures/*.bpf")
	files = append(files, more...)
	if len(files) == 0 {
		t.Fatal("no filter fixtures under testdata")
	}
	return files
}

func TestAnalyzeAgreesWithEvaluator(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	for _, path := range realFilters(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel() // each fixture is its own filter and inputs
			f := loadFilter(t, path)
			tab, err := Analyze(f)
			if err != nil {
				t.Fatal(err)
			}
			if tab.Approximate {
				t.Errorf("a filter compiled by a runtime should analyse exactly")
			}
			checkDifferential(t, Stack{f}, tab, n)
		})
	}
}

// A second filter as a container's program would stack it: read with a
// count above 100 fails with EIO, write is killed, the rest allowed.
var stackedProg = build(func(b *bpf.Builder) {
	b.Emit(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetNr)
	b.JumpIf(bpf.JmpJEQ, 0, "", "other")                     // read
	b.Emit(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetArgs+2*8) // args[2].lo
	b.JumpIf(bpf.JmpJGT, 100, "", "allow")
	b.Emit(bpf.Ret(bpf.RetK), uint32(ActErrno|5))
	b.Label("other")
	b.JumpIf(bpf.JmpJEQ, 1, "", "allow") // write
	b.Emit(bpf.Ret(bpf.RetK), uint32(ActKillProcess))
	b.Label("allow")
	b.Emit(bpf.Ret(bpf.RetK), uint32(ActAllow))
})

// build returns the program write puts into a builder; a test program
// whose labels do not resolve is a bug in the test.
func build(write func(b *bpf.Builder)) []bpf.Instruction {
	var b bpf.Builder
	write(&b)
	prog, err := b.Program()
	if err != nil {
		panic(err)
	}
	return prog
}

func TestAnalyzeStackAgreesWithEvaluator(t *testing.T) {
	second, err := NewFilter(stackedProg)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range realFilters(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			s := Stack{loadFilter(t, path), second}
			tab, err := AnalyzeStack(s)
			if err != nil {
				t.Fatal(err)
			}
			checkDifferential(t, s, tab, 10_000)
		})
	}
}

// The stack captured from a container whose program added a filter of its
// own on top of the runtime's.
func TestAnalyzeStackedFixtureAgreesWithEvaluator(t *testing.T) {
	s := Stack{loadFilter(t, "testdata/fixtures/stacked.0.bpf"), loadFilter(t, "testdata/fixtures/stacked.1.bpf")}
	tab, err := AnalyzeStack(s)
	if err != nil {
		t.Fatal(err)
	}
	checkDifferential(t, s, tab, 100_000)
}
