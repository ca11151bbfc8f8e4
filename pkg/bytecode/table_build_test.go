package bytecode

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
)

// randomSet returns a set of a few intervals near the values where
// interval arithmetic goes wrong.
func randomSet(rng *rand.Rand) IntervalSet {
	points := []uint32{0, 1, 2, 5, 6, 0x3fffffff, 0x40000000, 0x40000001, 0xfffffffe, 0xffffffff}
	var bounds []uint32
	for range 2 * (1 + rng.IntN(3)) {
		bounds = append(bounds, points[rng.IntN(len(points))])
	}
	slices.Sort(bounds)
	var s IntervalSet
	for i := 0; i+1 < len(bounds); i += 2 {
		if len(s) > 0 && uint64(bounds[i]) <= uint64(s[len(s)-1].Last)+1 {
			continue // keep the set disjoint and non-adjacent
		}
		s = append(s, Interval{bounds[i], bounds[i+1]})
	}
	return s
}

// The partition agrees with a direct reading of the leaves: every value
// lies in at most one run, that run's region holds exactly the leaves
// containing the value, no value outside every leaf is in a run, and no
// two regions have the same leaves. Leaves sharing a set's memory (as the
// paths below one arch test do) are grouped without changing the answer.
func TestPartitionMatchesLeaves(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 2))
	// Reused, as buildTable does.
	var pt partitioner
	var p partitioning
	for range 3000 {
		leaves := make([]leaf, 1+rng.IntN(8))
		for i := range leaves {
			if i > 0 && rng.IntN(3) == 0 {
				leaves[i].nr = leaves[i-1].nr // shared memory
			} else {
				leaves[i].nr = randomSet(rng)
			}
		}
		var subset []int
		if rng.IntN(2) == 0 {
			for i := range leaves {
				if rng.IntN(3) > 0 {
					subset = append(subset, i)
				}
			}
		}
		pt.partition(&p, leaves, func(l *leaf) IntervalSet { return l.nr }, subset)
		considered := func(i int) bool { return subset == nil || slices.Contains(subset, i) }
		for i := 1; i < len(p.runs); i++ {
			if p.runs[i].First <= p.runs[i-1].Last {
				t.Fatalf("runs %v not ascending", p.runs)
			}
		}
		for i := range p.regions {
			for j := range i {
				if slices.Equal(p.leaves(i), p.leaves(j)) {
					t.Fatalf("regions %d and %d both have leaves %v", i, j, p.leaves(i))
				}
			}
		}
		var probes []uint32
		for _, l := range leaves {
			for _, iv := range l.nr {
				probes = append(probes, iv.First, iv.First-1, iv.Last, iv.Last+1)
			}
		}
		for _, v := range append(probes, 0, 3, 0x80000000, 0xffffffff) {
			var want []int
			for i := range leaves {
				if considered(i) && leaves[i].nr.Contains(v) {
					want = append(want, i)
				}
			}
			var got []int
			found := 0
			for _, r := range p.runs {
				if r.First <= v && v <= r.Last {
					got = p.leaves(r.region)
					found++
				}
			}
			if found > 1 || !slices.Equal(got, want) {
				t.Fatalf("value %#x: in %d runs, leaves %v, want %v\nruns %v", v, found, got, want, p.runs)
			}
		}
		sets := p.valueSets()
		for i := range p.regions {
			if len(sets[i]) == 0 {
				t.Fatalf("region %d (%v) has no values", i, p.leaves(i))
			}
		}
	}
}

// radixSort orders keys by their bits from lowBit up and keeps every key.
func TestRadixSortSorts(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 3))
	for _, n := range []int{0, 1, 63, 64, 65, 1000, 5000} {
		for _, bits := range [][2]uint{{0, 1}, {0, 8}, {0, 9}, {0, 44}, {3, 37}, {11, 45}, {0, 61}} {
			lowBit, highBit := bits[0], bits[1]
			keys := make([]uint64, n)
			for i := range keys {
				keys[i] = rng.Uint64() & (1<<highBit - 1)
				if rng.IntN(4) == 0 {
					keys[i] &= 0xfff // many keys sharing their high bytes
				}
			}
			want := slices.Sorted(slices.Values(keys))
			got := radixSort(keys, make([]uint64, n), lowBit, highBit)
			for i := 1; i < len(got); i++ {
				if got[i]>>lowBit < got[i-1]>>lowBit {
					t.Fatalf("n %d, bits %d-%d: %#x before %#x", n, lowBit, highBit, got[i-1], got[i])
				}
			}
			if slices.Sort(got); !slices.Equal(got, want) {
				t.Fatalf("n %d, bits %d-%d: keys lost or changed", n, lowBit, highBit)
			}
		}
	}
}

// sortEvents orders keys by their bits from lowBit up and keeps every
// key, whether they come in order, as a long run and a short rest (as the
// leaves of a chain of tests and its catch-all leaves do), with keys out
// of place, or in no order at all.
func TestSortEventsSorts(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 7))
	var pt partitioner
	for range 2000 {
		n := rng.IntN(3000)
		lowBit := uint(rng.IntN(12))
		keys := make([]uint64, n)
		v := uint64(0)
		for i := range keys {
			v += uint64(rng.IntN(5))
			keys[i] = v<<lowBit | uint64(rng.IntN(1<<lowBit))
		}
		random := func() uint64 { return rng.Uint64() & (1<<(34+lowBit) - 1) }
		if rng.IntN(2) == 0 {
			for range rng.IntN(1 + n/[]int{1, 8, 30, 200}[rng.IntN(4)]) {
				if n > 0 {
					keys[rng.IntN(n)] = random()
				}
			}
		} else {
			for i := n - rng.IntN(1+n/3); i < n; i++ {
				keys[i] = random() // the rest
			}
		}
		want := slices.Sorted(slices.Values(keys))
		pt.scratch = make([]uint64, n)
		got := pt.sortEvents(keys, lowBit, 34+lowBit)
		for i := 1; i < len(got); i++ {
			if got[i]>>lowBit < got[i-1]>>lowBit {
				t.Fatalf("n %d: %#x before %#x", n, got[i-1], got[i])
			}
		}
		if slices.Sort(got); !slices.Equal(got, want) {
			t.Fatalf("n %d: keys lost or changed", n)
		}
	}
}

// Rows cover exactly the runs within the number space, in order, one row
// per named syscall, with the rules of the run they lie in.
func TestSyscallRulesLayOut(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 4))
	rules := [][]Rule{{{Action: ActAllow}}, {{Action: ActErrno | 1}}, {{Action: ActKillProcess}}}
	for _, at := range []ArchTable{{Arch: arch.X86_64}, {Arch: arch.X32}, {Arch: arch.X86}, {}} {
		named := map[uint32]string{}
		if at.Arch != nil {
			for _, s := range at.Arch.Syscalls() {
				named[s.Nr] = s.Name
			}
		}
		for range 300 {
			var runs []run
			var next uint64
			for next <= 0xffffffff {
				first := next + uint64(rng.IntN(3))
				if first > 0xffffffff {
					break
				}
				// Lengths near the syscalls, or to the far ends.
				length := uint64(rng.IntN(40))
				if rng.IntN(8) == 0 {
					length = uint64(rng.Uint32())
				}
				last := min(first+length, 0xffffffff)
				runs = append(runs, run{Interval{uint32(first), uint32(last)}, rng.IntN(len(rules))})
				next = last + 1
			}
			rows := syscallRules(runs, rules, at)
			if len(rows) != cap(rows) {
				t.Fatalf("%s: %d rows in room for %d", at.Name(), len(rows), cap(rows))
			}
			var want IntervalSet
			for _, r := range runs {
				want = want.Union(IntervalSet{r.Interval}.Intersect(nrSpace(&at)))
			}
			var got IntervalSet
			for i, sr := range rows {
				if i > 0 && sr.First <= rows[i-1].Last {
					t.Fatalf("%s: rows %d and %d out of order", at.Name(), i-1, i)
				}
				got = got.Union(IntervalSet{{sr.First, sr.Last}})
				if name, ok := named[sr.First]; ok && (sr.First != sr.Last || sr.Name != name) || !ok && sr.Name != "" {
					t.Fatalf("%s: row %#x-%#x named %q", at.Name(), sr.First, sr.Last, sr.Name)
				}
				for _, r := range runs {
					if r.First <= sr.First && sr.First <= r.Last {
						if sr.Last > r.Last || &sr.Rules[0] != &rules[r.region][0] {
							t.Fatalf("%s: row %#x-%#x does not follow run %v", at.Name(), sr.First, sr.Last, r)
						}
					}
				}
				if sr.Name == "" && sr.Last > sr.First {
					for nr := range named {
						if sr.First <= nr && nr <= sr.Last {
							t.Fatalf("%s: unnamed row %#x-%#x holds %s", at.Name(), sr.First, sr.Last, named[nr])
						}
					}
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: rows cover %v, want %v", at.Name(), got, want)
			}
		}
	}
}

// The analysis of one filter is kept and shared with the stacks it is
// part of. Building a table must not change it: stacks compare raw return
// values (an unknown action, KILL_PROCESS alone, is weaker in a stack than
// ERRNO), so a table that wrote the kernel's reading into the shared
// leaves made later stack tables name the wrong action.
func TestTableLeavesSharedAnalysisAlone(t *testing.T) {
	unknown := Action(0x7ffe0000)
	older, err := NewFilter([]bpf.Instruction{stmt(bpf.Ret(bpf.RetK), uint32(unknown))})
	if err != nil {
		t.Fatal(err)
	}
	newer, err := NewFilter([]bpf.Instruction{stmt(bpf.Ret(bpf.RetK), uint32(ActErrno|1))})
	if err != nil {
		t.Fatal(err)
	}
	d := &Data{Arch: arch.X86_64.Audit, Nr: 1}
	alone, err := Analyze(older)
	if err != nil {
		t.Fatal(err)
	}
	if got, exact, _ := alone.Decide(d); !exact || !slices.Equal(got, []Action{ActKillProcess}) {
		t.Fatalf("unknown action alone: table %v, want KILL_PROCESS", got)
	}
	s := Stack{older, newer}
	tab, err := AnalyzeStack(s)
	if err != nil {
		t.Fatal(err)
	}
	want := s.Run(d).Effective()
	if got, exact, _ := tab.Decide(d); !exact || !slices.Equal(got, []Action{want}) {
		t.Fatalf("stack after the older filter's table: %v, the kernel's precedence gives %v", got, want)
	}
}

// Tables are built with scratch memory reused from one table to the next
// (and shared between goroutines through a pool): a table must keep its
// content while others are built, concurrently too.
func TestTablesKeepTheirContentWhileOthersAreBuilt(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 5))
	var progs [][]bpf.Instruction
	for len(progs) < 40 {
		prog := edgeProgram(rng)
		if _, err := NewFilter(prog); err == nil {
			progs = append(progs, prog)
		}
	}
	build := func(prog []bpf.Instruction) (*Table, string) {
		f, err := NewFilter(prog)
		if err != nil {
			t.Error(err)
			return nil, ""
		}
		tab, err := Analyze(f)
		if err != nil {
			t.Error(err)
			return nil, ""
		}
		js, err := tab.MarshalJSON()
		if err != nil {
			t.Error(err)
		}
		return tab, string(js)
	}
	first, want := build(progs[0])
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 50 {
				build(progs[(g+i)%len(progs)])
			}
		}()
	}
	for range 4 {
		<-done
	}
	if js, _ := first.MarshalJSON(); string(js) != want {
		t.Fatalf("the first table changed while others were built:\nbefore %s\nafter  %s", want, js)
	}
}

// Splitting a set in place, with the values within cut from an arena,
// gives what splitting a copy gives, and never writes into the memory of
// another set from the same arena.
func TestSplitRangeOwnedMatchesSplitRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 6))
	var arena intervalArena
	var kept []IntervalSet // sets cut earlier, with a copy of their values
	var copies []IntervalSet
	for range 20000 {
		s := randomSet(rng)
		first := []uint32{0, 1, 2, 5, 6, 0x40000000, 0xfffffffe, 0xffffffff}[rng.IntN(8)]
		last := first
		if rng.IntN(2) == 0 {
			last = 0xffffffff
		}
		wantIn, wantOut := s.splitRange(first, last)
		wantIn, wantOut = slices.Clone(wantIn), slices.Clone(wantOut)
		owned := arena.take(len(s))
		owned = append(owned, s...)
		in, out := owned.splitRangeOwned(first, last, &arena)
		if !slices.Equal(in, wantIn) || !slices.Equal(out, wantOut) {
			t.Fatalf("%v split at %#x-%#x: in place %v | %v, copied %v | %v", s, first, last, in, out, wantIn, wantOut)
		}
		if cap(in) != len(in) {
			t.Fatalf("the arena gave a set with spare room: len %d cap %d", len(in), cap(in))
		}
		kept, copies = append(kept, in, out), append(copies, slices.Clone(in), slices.Clone(out))
		if len(kept) > 64 {
			kept, copies = kept[2:], copies[2:]
		}
		for i := range kept {
			if !slices.Equal(kept[i], copies[i]) {
				t.Fatalf("a later split changed an earlier set: %v, was %v", kept[i], copies[i])
			}
		}
	}
}

// A test whose taken side returns at once is recorded without a fork; the
// leaf then shares the path's numbers, which the path must no longer cut
// in place (here: x86_64 returns ALLOW for every number, 5 and up too).
func TestReturningBranchKeepsItsNumbers(t *testing.T) {
	prog := []bpf.Instruction{
		stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetArch),
		jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), arch.X86_64.Audit, 0, 1),
		stmt(bpf.Ret(bpf.RetK), uint32(ActAllow)),
		stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetNr),
		jump(bpf.Jump(bpf.JmpJGE, bpf.SrcK), 5, 0, 1), // cut in place: [0, 4] is left
		stmt(bpf.Ret(bpf.RetK), uint32(ActErrno|1)),
		stmt(bpf.Ret(bpf.RetK), uint32(ActKillProcess)),
	}
	f, tab := analyzeProgram(t, prog)
	checkPartition(t, tab)
	for _, a := range []uint32{arch.X86_64.Audit, arch.X86.Audit} {
		for _, nr := range []uint32{0, 4, 5, 6, 0xffffffff} {
			d := &Data{Arch: a, Nr: nr}
			if got, exact, _ := tab.Decide(d); !exact || len(got) != 1 || got[0] != f.Run(d) {
				t.Errorf("arch %#x nr %#x: table %v, evaluator %v", a, nr, got, f.Run(d))
			}
		}
	}
}
