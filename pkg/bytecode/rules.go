package bytecode

import (
	"cmp"
	"slices"
	"sort"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

// nrSpace returns the syscall numbers that belong to an arch table: on
// x86_64's AUDIT_ARCH value, numbers with X32SyscallBit are x32's.
func nrSpace(at *ArchTable) IntervalSet {
	if at.Arch == nil || at.Arch.Audit != arch.X86_64.Audit {
		return fullSet
	}
	if at.Arch == arch.X32 {
		return x32Space
	}
	return x86_64Space
}

// The numbers of x32 and of x86_64 on x86_64's AUDIT_ARCH value.
var x32Space, x86_64Space, _ = fullSet.splitMasked(arch.X32SyscallBit, opEQ, arch.X32SyscallBit)

// syscallRules lays out the rule lists of one arch table over its number
// space: nrRegions partition the numbers, rules[i] is region i's rule list.
func syscallRules(nrRegions []region, rules [][]Rule, at ArchTable) []SyscallRules {
	space := nrSpace(&at)
	var named []arch.Syscall
	if at.Arch != nil {
		named = at.Arch.Syscalls()
	}
	type piece struct {
		iv     Interval
		region int
	}
	n := 0
	for _, r := range nrRegions {
		n += len(r.values)
	}
	pieces := make([]piece, 0, n+len(space))
	for i, r := range nrRegions {
		for _, iv := range r.values {
			// Clip to the number space without building sets: space is
			// one or two intervals.
			for _, sp := range space {
				if lo, hi := max(iv.First, sp.First), min(iv.Last, sp.Last); lo <= hi {
					pieces = append(pieces, piece{Interval{lo, hi}, i})
				}
			}
		}
	}
	slices.SortFunc(pieces, func(a, b piece) int { return cmp.Compare(a.iv.First, b.iv.First) })
	out := make([]SyscallRules, 0, len(named)+len(pieces)+8)
	for _, p := range pieces {
		out = appendNamed(out, p.iv, named, rules[p.region])
	}
	return out
}

// appendNamed adds entries for [First, Last]: one per named syscall, and a
// range for each run of unnamed numbers. Entries share the rules slice.
func appendNamed(out []SyscallRules, iv Interval, named []arch.Syscall, rules []Rule) []SyscallRules {
	next := uint64(iv.First)
	i := sort.Search(len(named), func(i int) bool { return named[i].Nr >= iv.First })
	for ; i < len(named) && named[i].Nr <= iv.Last; i++ {
		nr := named[i].Nr
		if uint64(nr) > next {
			out = append(out, SyscallRules{First: uint32(next), Last: nr - 1, Rules: rules})
		}
		out = append(out, SyscallRules{First: nr, Last: nr, Name: named[i].Name, Rules: rules})
		next = uint64(nr) + 1
	}
	if next <= uint64(iv.Last) {
		out = append(out, SyscallRules{First: uint32(next), Last: iv.Last, Rules: rules})
	}
	return out
}

// intersect returns the values in both sets.
func intersect(a, b IntervalSet) IntervalSet {
	var out IntervalSet
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].First, b[j].First), min(a[i].Last, b[j].Last)
		if lo <= hi {
			out = out.appendInterval(lo, hi)
		}
		if a[i].Last < b[j].Last {
			i++
		} else {
			j++
		}
	}
	return out
}

// buildRules orders the leaves that apply to one set of syscall numbers
// into a rule list ending in an unconditional rule. Exact paths through a
// program are disjoint, so any order is correct; the action of the
// unconditional path (or the most common action) becomes the final rule.
func buildRules(leaves []leaf, ids []int) []Rule {
	// Leaves keep the raw return value (stacks compare raw values); the
	// table says what the kernel does with it.
	for _, id := range ids {
		leaves[id].action = leaves[id].action.Effective()
	}
	approx := false
	count := map[Action]int{}
	var dflt Action
	haveDefault := false
	for _, id := range ids {
		l := &leaves[id]
		approx = approx || l.approx
		if l.anyAction {
			continue
		}
		count[l.action]++
		if len(l.atoms) == 0 && !haveDefault {
			dflt, haveDefault = l.action, true
		}
	}
	if !haveDefault {
		best := -1
		for _, id := range ids {
			l := &leaves[id]
			if !l.anyAction && count[l.action] > best {
				dflt, best = l.action, count[l.action]
			}
		}
	}
	var rules []Rule
	var defaultConds []Condition
	for _, id := range ids {
		l := &leaves[id]
		cond := conditionOf(l.atoms)
		if !approx && l.action == dflt {
			defaultConds = append(defaultConds, cond)
			continue
		}
		r := Rule{When: cond, Action: l.action}
		if approx {
			r.Approximate, r.AnyAction = true, l.anyAction
			if !l.anyAction {
				r.Actions = []Action{l.action}
			}
		}
		rules = append(rules, r)
	}
	rules = fuseRules(rules)
	last := Rule{Action: dflt}
	if approx {
		last.Approximate, last.Actions = true, []Action{dflt}
		if len(count) == 0 {
			last.AnyAction, last.Actions = true, nil
		}
	}
	return append(rules, last)
}
