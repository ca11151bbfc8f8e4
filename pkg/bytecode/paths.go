package bytecode

import (
	"context"
	"fmt"
)

// Path is one way through a filter (or a stack): the arch values and
// syscall numbers it applies to, the argument comparisons it passed (on
// 32-bit words, not fused), and the action the kernel then takes. The paths
// of a program partition its input space, so comparing two programs is
// comparing pairs of paths that can hold together.
type Path struct {
	Arch, Nr    IntervalSet
	When        Condition
	Action      Action
	Approximate bool // the condition over-approximates; see Table.Approximate
	AnyAction   bool // the action could not be computed: any action
}

// Paths runs the stack symbolically (oldest first) and returns its paths.
func Paths(s Stack) ([]Path, error) { return PathsContext(context.Background(), s) }

// PathsContext is Paths that stops, as too complex, when ctx is done.
func PathsContext(ctx context.Context, s Stack) ([]Path, error) {
	leaves, err := stackLeaves(ctx, s)
	if err != nil {
		return nil, err
	}
	out := make([]Path, len(leaves))
	for i, l := range leaves {
		when := make(Condition, len(l.atoms))
		for j, a := range l.atoms {
			when[j] = Comparison{Operand: operandAt(a.off), Op: a.op, Mask: uint64(a.mask), Value: uint64(a.k)}
		}
		out[i] = Path{Arch: l.arch, Nr: l.nr, When: when, Action: l.action.Effective(), Approximate: l.approx, AnyAction: l.anyAction}
	}
	return out, nil
}

// defaultLeaves is filterLeaves within DefaultBudget, computed once per
// filter. Callers only read the leaves (combineLeaves copies the atoms it
// extends), so they can be shared. An analysis that ctx stopped is not
// kept; one that ran out of budget is (it would again).
func (f *Filter) defaultLeaves(ctx context.Context) ([]leaf, error) {
	f.analysis.mu.Lock()
	defer f.analysis.mu.Unlock()
	if f.analysis.done {
		return f.analysis.leaves, f.analysis.err
	}
	leaves, err := filterLeaves(ctx, f, DefaultBudget, fullSet, fullSet)
	if ctx.Err() != nil && err != nil {
		return nil, err
	}
	f.analysis.done, f.analysis.leaves, f.analysis.err = true, leaves, err
	return leaves, err
}

// filterLeaves runs one filter symbolically within a budget, for the inputs
// whose arch and nr lie in the given sets.
func filterLeaves(ctx context.Context, f *Filter, budget int, arch, nr IntervalSet) ([]leaf, error) {
	an := &analyzer{prog: f.prog, budget: NewBudget(ctx, fmt.Sprintf("analyse %d-instruction filter", len(f.prog)), budget),
		leaves: make([]leaf, 0, len(f.prog))}
	if err := an.explore(arch, nr); err != nil {
		return nil, err
	}
	return an.leaves, nil
}

// stackLeaves is the symbolic execution of a whole stack.
func stackLeaves(ctx context.Context, s Stack) ([]leaf, error) {
	if len(s) == 0 {
		return nil, fmt.Errorf("analyse stack: no filters")
	}
	var combined []leaf
	budget := NewBudget(ctx, fmt.Sprintf("combine a stack of %d filters", len(s)), stackBudget)
	for i, f := range s {
		leaves, err := f.defaultLeaves(ctx)
		if err != nil {
			return nil, fmt.Errorf("filter %d of %d: %w", i, len(s), err)
		}
		if i == 0 {
			combined = leaves
			continue
		}
		if combined, err = combineLeaves(budget, combined, leaves); err != nil {
			return nil, err
		}
	}
	return combined, nil
}

// Intersect returns the values in both sets.
func (s IntervalSet) Intersect(o IntervalSet) IntervalSet { return intersect(s, o) }

// Witness finds concrete argument and instruction pointer values that
// satisfy every comparison of the conditions, filling them into d. It
// returns false when its search finds none (which does not prove that none
// exists, unless the comparisons contradict each other outright).
func Witness(d *Data, conds ...Condition) bool {
	// Group the 32-bit comparisons by word.
	byWord := map[uint32][]atom{}
	for _, c := range conds {
		for _, cmp := range c {
			for _, a := range cmp.atoms() {
				byWord[a.off] = append(byWord[a.off], a)
			}
		}
	}
	for off, atoms := range byWord {
		v, ok := solveWord(atoms)
		if !ok {
			return false
		}
		setWord(d, off, v)
	}
	for _, c := range conds {
		if !c.Holds(d) {
			return false
		}
	}
	return true
}

// atoms splits a comparison into 32-bit word comparisons. Only comparisons
// on one word, or equalities on a whole argument, can be split exactly;
// others are left to the final check in Witness.
func (c Comparison) atoms() []atom {
	base := uint32(OffsetIP)
	if c.Operand.Arg >= 0 {
		base = uint32(OffsetArgs + 8*c.Operand.Arg)
	}
	switch c.Operand.Half {
	case Low:
		return []atom{{off: base, mask: uint32(c.Mask), op: c.Op, k: uint32(c.Value)}}
	case High:
		return []atom{{off: base + 4, mask: uint32(c.Mask), op: c.Op, k: uint32(c.Value)}}
	}
	if c.Op == OpEQ {
		return []atom{
			{off: base, mask: uint32(c.Mask), op: OpEQ, k: uint32(c.Value)},
			{off: base + 4, mask: uint32(c.Mask >> 32), op: OpEQ, k: uint32(c.Value >> 32)},
		}
	}
	// Other 64-bit comparisons: aim the high word at the value's high word
	// and let the low word decide.
	return []atom{
		{off: base + 4, mask: uint32(c.Mask >> 32), op: OpEQ, k: uint32(c.Value >> 32)},
		{off: base, mask: uint32(c.Mask), op: c.Op, k: uint32(c.Value)},
	}
}

func setWord(d *Data, off, v uint32) {
	switch {
	case off == OffsetIP:
		d.InstructionPointer = d.InstructionPointer&^0xffffffff | uint64(v)
	case off == OffsetIP+4:
		d.InstructionPointer = d.InstructionPointer&0xffffffff | uint64(v)<<32
	default:
		i := (off - OffsetArgs) / 8
		if (off-OffsetArgs)%8 == 4 {
			d.Args[i] = d.Args[i]&0xffffffff | uint64(v)<<32
		} else {
			d.Args[i] = d.Args[i]&^0xffffffff | uint64(v)
		}
	}
}

// solveWord searches a value of one 32-bit word satisfying all atoms:
// candidates are built from the atoms' constants (each one, its
// neighbours, the bits equalities require) and the word's extremes.
func solveWord(atoms []atom) (uint32, bool) {
	holds := func(v uint32) bool {
		for _, a := range atoms {
			if !a.op.holds(uint64(v&a.mask), uint64(a.k)) {
				return false
			}
		}
		return true
	}
	// Bits fixed by masked equalities.
	var fixedMask, fixedBits uint32
	for _, a := range atoms {
		if a.op == OpEQ {
			fixedMask |= a.mask
			fixedBits = fixedBits&^a.mask | a.k&a.mask
		}
	}
	candidates := []uint32{0, 1, 0xffffffff, 0x7fffffff, 0x80000000}
	for _, a := range atoms {
		candidates = append(candidates, a.k, a.k+1, a.k-1, a.k|^a.mask, ^a.k&a.mask)
	}
	for _, c := range candidates {
		for _, v := range []uint32{c, c&^fixedMask | fixedBits} {
			if holds(v) {
				return v, true
			}
		}
	}
	return 0, false
}

// Simplify rewrites a conjunction of 32-bit word comparisons (as paths
// carry them) in the canonical form the decision table uses: one equality or
// bounds per word, duplicates dropped, high/low equalities fused into 64-bit
// ones. Comparisons on whole 64-bit arguments are kept as they are.
func (c Condition) Simplify() Condition {
	var atoms []atom
	var rest Condition
	for _, cmp := range c {
		if cmp.Operand.Half == Full {
			rest = append(rest, cmp)
			continue
		}
		atoms = append(atoms, cmp.atoms()...)
	}
	return append(conditionOf(atoms), rest...)
}
