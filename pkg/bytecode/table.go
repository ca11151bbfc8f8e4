package bytecode

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

// Table is the decision table of a filter or a stack of filters: for every
// architecture the program distinguishes and every syscall number, the
// ordered rules that decide the action.
type Table struct {
	Arches []ArchTable
	// Approximate is true when some rule could not be modelled exactly
	// (arithmetic on arguments, computed return values); such rules carry
	// the sound set of actions they may return.
	Approximate bool
}

// ArchTable holds the decisions for one architecture, or for a set of arch
// values the program does not tell apart ("other").
type ArchTable struct {
	// Arch is the architecture, nil for arch values the program does not
	// test individually.
	Arch *arch.Arch
	// Values are the seccomp_data.arch values this table covers.
	Values IntervalSet
	// Syscalls covers every syscall number of this architecture's number
	// space, in ascending order: named numbers one by one, unnamed ones
	// as ranges.
	Syscalls []SyscallRules
}

// Name names the table: the architecture, "other", or the arch value.
func (t *ArchTable) Name() string {
	if t.Arch != nil {
		return t.Arch.Name
	}
	if v, ok := t.Values.Single(); ok {
		return fmt.Sprintf("arch:%#08x", v)
	}
	return "other"
}

// SyscallRules is the rule list for one syscall number or an unnamed range
// of numbers that all behave alike.
type SyscallRules struct {
	First, Last uint32 // numbers as in seccomp_data.nr (x32 includes 0x40000000)
	Name        string // empty for unnamed numbers
	Rules       []Rule // the last rule's condition is always empty
}

// Rule says: when the condition holds, the action is taken. Rules are
// tried in order.
type Rule struct {
	When   Condition
	Action Action
	// Approximate rules may return any of Actions (all actions when
	// AnyAction) and their condition is an over-approximation.
	Approximate bool
	AnyAction   bool
	Actions     []Action
}

// Lookup finds the rules for an arch value and syscall number.
func (t *Table) Lookup(archValue, nr uint32) (*ArchTable, *SyscallRules) {
	for i := range t.Arches {
		at := &t.Arches[i]
		if !at.Values.Contains(archValue) {
			continue
		}
		if at.Arch != nil && at.Arch.Audit == arch.X86_64.Audit && (at.Arch == arch.X32) != (nr&arch.X32SyscallBit != 0) {
			continue
		}
		j := sort.Search(len(at.Syscalls), func(j int) bool { return at.Syscalls[j].Last >= nr })
		if j < len(at.Syscalls) && at.Syscalls[j].First <= nr {
			return at, &at.Syscalls[j]
		}
		return at, nil
	}
	return nil, nil
}

// Decide returns the action the table gives for d. For approximate rules it
// returns every action the program may return (any=true for all actions).
func (t *Table) Decide(d *Data) (actions []Action, exact, any bool) {
	_, sr := t.Lookup(d.Arch, d.Nr)
	if sr == nil {
		return nil, false, true
	}
	exact = true
	for _, r := range sr.Rules {
		if !r.When.Holds(d) {
			continue
		}
		if !r.Approximate {
			return append(actions, r.Action), exact, false
		}
		exact = false
		if r.AnyAction {
			any = true
		}
		actions = append(actions, r.Actions...)
	}
	return actions, exact, any
}

// Analyze computes the decision table of one validated filter.
func Analyze(f *Filter) (*Table, error) { return AnalyzeContext(context.Background(), f) }

// AnalyzeContext is Analyze that stops, as too complex, when ctx is done.
func AnalyzeContext(ctx context.Context, f *Filter) (*Table, error) {
	leaves, err := f.defaultLeaves(ctx)
	if err != nil {
		return nil, err
	}
	t := buildTable(leaves)
	refine(ctx, Stack{f}, t)
	return t, nil
}

// AnalyzeBudget is Analyze with an explicit budget of executed
// instructions over all paths.
func AnalyzeBudget(f *Filter, budget int) (*Table, error) {
	leaves, err := filterLeaves(context.Background(), f, budget, fullSet, fullSet)
	if err != nil {
		return nil, err
	}
	return buildTable(leaves), nil
}

// buildTable turns the leaves of the symbolic execution into per-arch,
// per-number rule lists.
func buildTable(leaves []leaf) *Table {
	t := &Table{}
	for _, l := range leaves {
		if l.approx {
			t.Approximate = true
			break
		}
	}
	for _, region := range partition(leaves, func(l *leaf) IntervalSet { return l.arch }, nil) {
		nrRegions := partition(leaves, func(l *leaf) IntervalSet { return l.nr }, region.leaves)
		rules := make([][]Rule, len(nrRegions))
		for i, r := range nrRegions {
			rules[i] = buildRules(leaves, r.leaves)
		}
		for _, at := range archTablesFor(region.values) {
			at.Syscalls = syscallRules(nrRegions, rules, at)
			t.Arches = append(t.Arches, at)
		}
	}
	// Known architectures first, in the order of arch.All, then the rest.
	rank := func(at ArchTable) int {
		for i, a := range arch.All {
			if a == at.Arch {
				return i
			}
		}
		return len(arch.All)
	}
	sort.SliceStable(t.Arches, func(i, j int) bool { return rank(t.Arches[i]) < rank(t.Arches[j]) })
	return t
}

// archTablesFor names an arch region: a single known AUDIT_ARCH value is
// that architecture (x86_64 gives x86_64 and x32), anything else is kept as
// values.
func archTablesFor(values IntervalSet) []ArchTable {
	if v, ok := values.Single(); ok {
		if as := arch.ByAudit(v); len(as) > 0 {
			out := make([]ArchTable, len(as))
			for i, a := range as {
				out[i] = ArchTable{Arch: a, Values: values}
			}
			return out
		}
	}
	return []ArchTable{{Values: values}}
}

// region is a set of values on which the same leaves apply.
type region struct {
	values IntervalSet
	leaves []int
}

// partition splits the 32-bit space into regions by which of the given
// leaves (all leaves when subset is nil) contain each value. Regions with
// the same leaves are merged, so the result has one region per distinct
// behaviour, in order of their lowest value.
func partition(leaves []leaf, domain func(*leaf) IntervalSet, subset []int) []region {
	// Events packed in one word sort fast: value (33 bits), then exits
	// before entries at the same value, then the leaf index (23 bits).
	const leafBits, maxLeaves = 23, 1 << 23
	n := 0
	if subset == nil {
		for i := range leaves {
			n += len(domain(&leaves[i]))
		}
	} else {
		for _, i := range subset {
			n += len(domain(&leaves[i]))
		}
	}
	events := make([]uint64, 0, 2*n)
	visit := func(i int) {
		for _, iv := range domain(&leaves[i]) {
			events = append(events,
				uint64(iv.First)<<(leafBits+1)|1<<leafBits|uint64(i),
				(uint64(iv.Last)+1)<<(leafBits+1)|uint64(i))
		}
	}
	if subset == nil {
		for i := range leaves {
			visit(i)
		}
	} else {
		for _, i := range subset {
			visit(i)
		}
	}
	if len(leaves) > maxLeaves {
		panic("partition: more leaves than the analysis budget allows")
	}
	slices.Sort(events)
	var active []int // sorted leaf indexes
	byKey := map[string]int{}
	// Regions reached by a single leaf, by leaf index (+1; 0 = none yet).
	bySingle := make([]int32, len(leaves))
	out := make([]region, 0, n)
	for i := 0; i < len(events); {
		at := events[i] >> (leafBits + 1)
		for ; i < len(events) && events[i]>>(leafBits+1) == at; i++ {
			id := int(events[i] & (maxLeaves - 1))
			enter := events[i]&(1<<leafBits) != 0
			pos, found := slices.BinarySearch(active, id)
			if enter && !found {
				active = slices.Insert(active, pos, id)
			} else if !enter && found {
				active = slices.Delete(active, pos, pos+1)
			}
		}
		if len(active) == 0 || at > 0xffffffff {
			continue
		}
		end := uint64(0x100000000)
		if i < len(events) {
			end = events[i] >> (leafBits + 1)
		}
		// Most values are reached by one path: key those by its index.
		var r int
		var ok bool
		if len(active) == 1 {
			r, ok = int(bySingle[active[0]])-1, bySingle[active[0]] != 0
		} else {
			r, ok = byKey[leafKey(active)]
		}
		if ok {
			out[r].values = out[r].values.appendInterval(uint32(at), uint32(end-1))
			continue
		}
		if len(active) == 1 {
			bySingle[active[0]] = int32(len(out) + 1)
		} else {
			byKey[leafKey(active)] = len(out)
		}
		out = append(out, region{values: IntervalSet{{uint32(at), uint32(end - 1)}}, leaves: slices.Clone(active)})
	}
	return out
}

// leafKey identifies a set of leaf indexes (sorted) as a map key.
func leafKey(ids []int) string {
	b := make([]byte, 0, 4*len(ids))
	for _, id := range ids {
		b = append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	}
	return string(b)
}
