package bytecode

import "context"

// refineBudget bounds the work of refine over a whole table.
const refineBudget = DefaultBudget

// refine makes the approximate rows of named syscalls exact where it can.
// Tests on nr or arch that interval sets cannot express (a JSET mask with
// low bits splits the number space into millions of intervals) leave a
// row approximate, and an approximate rule list read in order may name the
// wrong action. For one architecture and one syscall number such tests are
// constants: the stack is analysed again for that single input of arch and
// nr, and the row replaced when that analysis is exact. Rows left
// approximate (arithmetic on arguments, the budget spent) stay marked so.
func refine(ctx context.Context, s Stack, t *Table) {
	if !t.Approximate {
		return
	}
	budget := NewBudget(ctx, "refine approximate rows", refineBudget)
	exact := true
	for i := range t.Arches {
		at := &t.Arches[i]
		archValue, single := at.Values.Single()
		for j := range at.Syscalls {
			sr := &at.Syscalls[j]
			if !rowApproximate(sr.Rules) {
				continue
			}
			if !single || sr.Name == "" || budget.Left() == 0 {
				exact = false
				continue
			}
			rules, ok := exactRow(budget, s, archValue, sr.First)
			if !ok {
				exact = false
				continue
			}
			sr.Rules = rules
		}
	}
	t.Approximate = !exact
}

// exactRow analyses s for one arch value and syscall number.
func exactRow(budget *Budget, s Stack, archValue, nr uint32) ([]Rule, bool) {
	one := func(v uint32) IntervalSet { return IntervalSet{{v, v}} }
	var combined []leaf
	for i, f := range s {
		an := &analyzer{prog: f.prog, budget: budget}
		if err := an.explore(one(archValue), one(nr)); err != nil {
			return nil, false
		}
		if i == 0 {
			combined = an.leaves
			continue
		}
		var err error
		if combined, err = combineLeaves(budget, combined, an.leaves); err != nil {
			return nil, false
		}
	}
	ids := make([]int, len(combined))
	for i := range combined {
		if combined[i].approx {
			return nil, false
		}
		ids[i] = i
	}
	return buildRules(combined, ids), true
}

// rowApproximate reports whether a rule list has an approximate rule.
func rowApproximate(rules []Rule) bool {
	for _, r := range rules {
		if r.Approximate {
			return true
		}
	}
	return false
}
