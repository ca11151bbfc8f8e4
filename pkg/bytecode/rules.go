package bytecode

import (
	"fmt"
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
var x32Space, x86_64Space, _ = fullSet.splitMasked(arch.X32SyscallBit, OpEQ, arch.X32SyscallBit)

// syscallRules lays out the rule lists of one arch table over its number
// space: runs (ascending) partition the numbers, rules[i] is region i's
// rule list.
func syscallRules(runs []run, rules [][]Rule, at ArchTable) []SyscallRules {
	var named []arch.Syscall
	if at.Arch != nil {
		named = at.Arch.Syscalls()
	}
	space := nrSpace(&at)
	// Rows are most of a table's memory: count them, then fill.
	rw := rowWriter{counting: true}
	rw.lay(runs, space, named, rules)
	rw = rowWriter{out: make([]SyscallRules, 0, rw.n)}
	rw.lay(runs, space, named, rules)
	return rw.out
}

// rowWriter collects rows, or only counts them.
type rowWriter struct {
	out      []SyscallRules
	n        int
	counting bool
}

func (rw *rowWriter) add(sr SyscallRules) {
	if rw.counting {
		rw.n++
		return
	}
	rw.out = append(rw.out, sr)
}

// lay adds the rows of runs clipped to space, in ascending order: one per
// named syscall, one for each stretch of unnamed numbers between them; a
// row of run r has the rules rules[r.region]. Runs, space and named are
// ascending: each interval of space searches its first run and syscall,
// then walks on (x86_64 and x32 skip each other's half of the runs).
func (rw *rowWriter) lay(runs []run, space IntervalSet, named []arch.Syscall, rules [][]Rule) {
	for _, sp := range space {
		i := sort.Search(len(runs), func(i int) bool { return runs[i].Last >= sp.First })
		j := sort.Search(len(named), func(j int) bool { return named[j].Nr >= sp.First })
		for ; i < len(runs) && runs[i].First <= sp.Last; i++ {
			r := &runs[i]
			rs := rules[r.region]
			first, last := max(r.First, sp.First), min(r.Last, sp.Last)
			for j < len(named) && named[j].Nr < first {
				j++
			}
			next := uint64(first)
			for ; j < len(named) && named[j].Nr <= last; j++ {
				nr := named[j].Nr
				if uint64(nr) > next {
					rw.add(SyscallRules{First: uint32(next), Last: nr - 1, Rules: rs})
				}
				rw.add(SyscallRules{First: nr, Last: nr, Name: named[j].Name, Rules: rs})
				next = uint64(nr) + 1
			}
			if next <= uint64(last) {
				rw.add(SyscallRules{First: uint32(next), Last: last, Rules: rs})
			}
		}
	}
}

// appendNamed adds the rows of [First, Last] to out, all with rules.
func appendNamed(out []SyscallRules, iv Interval, named []arch.Syscall, rules []Rule) []SyscallRules {
	rw := rowWriter{out: out}
	rw.lay([]run{{iv, 0}}, fullSet, named, [][]Rule{rules})
	return rw.out
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
// into a rule list ending in an unconditional rule.
func buildRules(leaves []leaf, ids []int) []Rule {
	var rb ruleBuilder
	return rb.build(leaves, ids)
}

// ruleBuilder builds the rule lists of one table. Most lists are one
// unconditional action: those are shared, as rows already share lists.
type ruleBuilder struct {
	always map[Action][]Rule
	// last is the list unconditional returned last: neighbouring numbers
	// mostly share their action.
	last   []Rule
	counts []actionCount
}

// actionCount counts the leaves of one action.
type actionCount struct {
	action Action
	n      int
}

func (c actionCount) String() string { return fmt.Sprintf("%v x%d", c.action, c.n) }

// build orders the leaves ids into a rule list ending in an unconditional
// rule. Exact paths through a program are disjoint, so any order is
// correct; the action of the unconditional path (or the most common
// action) becomes the final rule. Leaves keep the raw return value (stacks
// compare raw values, and leaves are shared); the rules say what the
// kernel does with it.
func (rb *ruleBuilder) build(leaves []leaf, ids []int) []Rule {
	approx := false
	rb.counts = rb.counts[:0]
	var dflt Action
	haveDefault := false
	for _, id := range ids {
		l := &leaves[id]
		approx = approx || l.approx
		if l.anyAction {
			continue
		}
		act := l.action.Effective()
		rb.count(act)
		if len(l.atoms) == 0 && !haveDefault {
			dflt, haveDefault = act, true
		}
	}
	if !haveDefault {
		// The most common action; of equally common ones, the first seen.
		best := -1
		for _, c := range rb.counts {
			if c.n > best {
				dflt, best = c.action, c.n
			}
		}
	}
	var rules []Rule
	for _, id := range ids {
		l := &leaves[id]
		act := l.action.Effective()
		if !approx && act == dflt {
			continue
		}
		r := Rule{When: conditionOf(l.atoms), Action: act}
		if approx {
			r.Approximate, r.AnyAction = true, l.anyAction
			if !l.anyAction {
				r.Actions = []Action{act}
			}
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 && !approx {
		return rb.unconditional(dflt)
	}
	rules = fuseRules(rules)
	last := Rule{Action: dflt}
	if approx {
		last.Approximate, last.Actions = true, []Action{dflt}
		if len(rb.counts) == 0 {
			last.AnyAction, last.Actions = true, nil
		}
	}
	return append(rules, last)
}

// reset forgets the lists shared so far: tables share no memory. An index
// grown large (a filter returning thousands of distinct TRACE or ERRNO
// values) is dropped rather than kept for the next table.
func (rb *ruleBuilder) reset() {
	if len(rb.always) > 64 || cap(rb.counts) > 64 {
		rb.always, rb.counts = nil, nil
	}
	clear(rb.always)
	rb.last, rb.counts = nil, rb.counts[:0]
}

// count adds one leaf of action a.
func (rb *ruleBuilder) count(a Action) {
	for i := range rb.counts {
		if rb.counts[i].action == a {
			rb.counts[i].n++
			return
		}
	}
	rb.counts = append(rb.counts, actionCount{a, 1})
}

// unconditional returns the shared one-rule list "always a".
func (rb *ruleBuilder) unconditional(a Action) []Rule {
	if len(rb.last) > 0 && rb.last[0].Action == a {
		return rb.last
	}
	if rules, ok := rb.always[a]; ok {
		rb.last = rules
		return rules
	}
	if rb.always == nil {
		rb.always = map[Action][]Rule{}
	}
	rules := []Rule{{Action: a}}
	rb.always[a], rb.last = rules, rules
	return rules
}
