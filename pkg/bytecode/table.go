package bytecode

import (
	"context"
	"fmt"
	"sort"
	"sync"

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
	b := builders.Get().(*tableBuilder)
	defer b.release()
	b.pt.partition(&b.archs, leaves, func(l *leaf) IntervalSet { return l.arch }, nil)
	for i, values := range b.archs.valueSets() {
		b.pt.partition(&b.nrs, leaves, func(l *leaf) IntervalSet { return l.nr }, b.archs.leaves(i))
		b.rules = b.rules[:0]
		for r := range b.nrs.regions {
			b.rules = append(b.rules, b.rb.build(leaves, b.nrs.leaves(r)))
		}
		for _, at := range archTablesFor(values) {
			at.Syscalls = syscallRules(b.nrs.runs, b.rules, at)
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

// tableBuilder is the scratch memory of building a table. Analyses reuse
// it (through builders): allocating it for each table was a third of the
// memory a table cost, and the collector's work with it.
type tableBuilder struct {
	pt         partitioner
	archs, nrs partitioning
	rules      [][]Rule
	rb         ruleBuilder
}

var builders = sync.Pool{New: func() any { return new(tableBuilder) }}

// maxKeptScratch bounds the scratch memory (in elements of its largest
// buffer) a builder keeps for the next table: a hostile filter's
// millions of paths are not held after its analysis.
const maxKeptScratch = 1 << 16

// release gives b back for the next table, holding no part of this one.
func (b *tableBuilder) release() {
	if b.pt.size() > maxKeptScratch || b.archs.size() > maxKeptScratch || b.nrs.size() > maxKeptScratch || cap(b.rules) > maxKeptScratch {
		return
	}
	clear(b.rules[:cap(b.rules)])
	b.archs.reset()
	b.nrs.reset()
	b.rb.reset()
	builders.Put(b)
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
