package bytecode

import "context"

// stackBudget bounds the work of combining the paths of stacked filters:
// one unit per pair of paths tried, plus the comparisons each combined path
// copies.
const stackBudget = 1 << 22

// AnalyzeStack computes the decision table of a filter stack (oldest
// first), as the kernel runs it: every filter sees the call and the
// strongest action wins (see Stack.Run).
func AnalyzeStack(s Stack) (*Table, error) { return AnalyzeStackContext(context.Background(), s) }

// AnalyzeStackContext is AnalyzeStack that stops, as too complex, when ctx
// is done.
func AnalyzeStackContext(ctx context.Context, s Stack) (*Table, error) {
	leaves, err := stackLeaves(ctx, s)
	if err != nil {
		return nil, err
	}
	t := buildTable(leaves)
	refine(ctx, s, t)
	return t, nil
}

// combineLeaves pairs every path of the older filters with every path of a
// newer filter that can hold at the same time. The newer filter runs
// first, so it wins ties (and keeps its errno).
func combineLeaves(budget *Budget, older, newer []leaf) ([]leaf, error) {
	var out []leaf
	for i := range older {
		o := &older[i]
		for j := range newer {
			n := &newer[j]
			if err := budget.Spend(1 + len(o.atoms) + len(n.atoms)); err != nil {
				return nil, err
			}
			archs := intersect(o.arch, n.arch)
			if archs.Empty() {
				continue
			}
			nrs := intersect(o.nr, n.nr)
			if nrs.Empty() {
				continue
			}
			atoms := append([]atom(nil), o.atoms...)
			ok := true
			for _, a := range n.atoms {
				if !feasible(atoms, a) {
					ok = false
					break
				}
				atoms = append(atoms, a)
			}
			if !ok {
				continue
			}
			action := ActAllow
			for _, cur := range []Action{n.action, o.action} {
				if cur.precedence() < action.precedence() {
					action = cur
				}
			}
			out = append(out, leaf{arch: archs, nr: nrs, atoms: atoms, action: action,
				approx: o.approx || n.approx, anyAction: o.anyAction || n.anyAction})
		}
	}
	return out, nil
}
