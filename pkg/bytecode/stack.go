package bytecode

// maxStackPairs bounds the work of combining the paths of stacked filters.
const maxStackPairs = 1 << 24

// AnalyzeStack computes the decision table of a filter stack (oldest
// first), as the kernel runs it: every filter sees the call and the
// strongest action wins (see Stack.Run).
func AnalyzeStack(s Stack) (*Table, error) {
	leaves, err := stackLeaves(s)
	if err != nil {
		return nil, err
	}
	return buildTable(leaves), nil
}

// combineLeaves pairs every path of the older filters with every path of a
// newer filter that can hold at the same time. The newer filter runs
// first, so it wins ties (and keeps its errno).
func combineLeaves(older, newer []leaf) ([]leaf, error) {
	if len(older)*len(newer) > maxStackPairs {
		return nil, ErrTooComplex
	}
	var out []leaf
	for i := range older {
		o := &older[i]
		for j := range newer {
			n := &newer[j]
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
