// Package compare finds where two seccomp filter stacks decide differently:
// the semantic diff behind `seccomp-attest diff` and the policy verdicts.
// Every finding carries a concrete input, confirmed by running both
// programs on it with the kernel's semantics.
package compare

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// Kind classifies a difference from A (the reference) to B.
type Kind int

const (
	// Weaker: B lets the call through (ALLOW, LOG, TRACE, USER_NOTIF)
	// where A denies it (ERRNO, TRAP, KILL).
	Weaker Kind = iota
	// Stricter: B denies where A lets the call through.
	Stricter
	// Changed: both deny or both let through, differently (errno value,
	// kill vs errno, log vs allow).
	Changed
	// Undecided: the analysis could not model a rule exactly; policies
	// count it as weaker (fail closed).
	Undecided
)

func (k Kind) String() string {
	return [...]string{"weaker", "stricter", "changed", "undecided"}[k]
}

// Finding is one difference for one syscall (or unnamed number range) of
// one architecture.
type Finding struct {
	Kind        Kind
	Arch        string // x86_64, x32, x86, ..., or "arch:0x..." for other values
	Syscall     string // empty for unnamed numbers
	First, Last uint32 // syscall numbers (as in seccomp_data.nr)
	A, B        bytecode.Action
	When        bytecode.Condition // the argument conditions of both paths
	// Example is an input on which A and B decide as stated; Confirmed
	// says the concrete evaluator agreed on both sides.
	Example   *bytecode.Data
	Confirmed bool
}

// Label names the syscall or range of the finding.
func (f *Finding) Label() string {
	if f.Syscall != "" {
		return f.Syscall
	}
	if f.First == f.Last {
		return fmt.Sprintf("nr %#x", f.First)
	}
	return fmt.Sprintf("nr %#x-%#x", f.First, f.Last)
}

// Result is the comparison of A and B.
type Result struct {
	Findings []Finding
}

// Equivalent reports whether A and B decide alike on every input.
func (r *Result) Equivalent() bool { return len(r.Findings) == 0 }

// Count returns how many findings are of kind k.
func (r *Result) Count(k Kind) int {
	n := 0
	for _, f := range r.Findings {
		if f.Kind == k {
			n++
		}
	}
	return n
}

// Budget bounds one comparison after both stacks are analysed, in units of
// work and memory: a unit per pair of paths tried and per interval or
// comparison they bring, and for each finding listed its memory and the
// evaluator's runs that confirm its example. Comparing two real runtime
// filters needs under a million; past the budget the answer is
// bytecode.ErrTooComplex (fail closed).
const Budget = 1 << 23

// Stacks compares filter stacks a (reference) and b. An empty stack is a
// process without a filter: the kernel lets every call through.
func Stacks(a, b bytecode.Stack) (*Result, error) {
	return StacksContext(context.Background(), a, b)
}

// coverKey says which findings of one arch value are already listed: a
// later pair of paths adds nothing for numbers its key already covers.
type coverKey struct {
	arch uint32
	kind Kind
	a, b bytecode.Action
}

// archTodo is what one pair of paths may add for one arch value.
type archTodo struct {
	key coverKey
	nr  bytecode.IntervalSet
}

// StacksContext is Stacks within Budget that stops, as too complex, when ctx
// is done.
func StacksContext(ctx context.Context, a, b bytecode.Stack) (*Result, error) {
	a, b = orAllowAll(a), orAllowAll(b)
	if sameStack(a, b) {
		// The same programs decide alike, whatever the model could say of
		// them.
		return &Result{}, nil
	}
	pa, err := bytecode.PathsContext(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	pb, err := bytecode.PathsContext(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("compared: %w", err)
	}
	budget := bytecode.NewBudget(ctx, fmt.Sprintf("compare %d with %d paths", len(pa), len(pb)), Budget)
	// A finding costs its memory (about 200 bytes, so at most half a
	// million fit the budget) and the evaluator's run on its example,
	// which rarely executes more than a small part of the programs.
	groupCost := 32 + (stackLen(a)+stackLen(b))/16
	res := &Result{}
	covered := map[coverKey]bytecode.IntervalSet{}
	index := newPathIndex(pb)
	var cands []int
	for i := range pa {
		x := &pa[i]
		if len(x.Nr) == 0 {
			continue
		}
		cands = index.candidates(x.Nr[0].First, x.Nr[len(x.Nr)-1].Last, cands[:0])
		if err := budget.Spend(1 + len(cands)); err != nil {
			return nil, err
		}
		for _, j := range cands {
			y := &pb[j]
			// Two paths with the same known action agree wherever both
			// hold, even when their conditions are over-approximated (the
			// extra inputs belong to other pairs). A computed action
			// (AnyAction) agrees with nothing for sure.
			if x.Action == y.Action && !x.AnyAction && !y.AnyAction {
				continue
			}
			undecided := x.Approximate || y.Approximate
			if err := budget.Spend(min(len(x.Arch), len(y.Arch)) + min(len(x.Nr), len(y.Nr))); err != nil {
				return nil, err
			}
			if !meets(x.Arch, y.Arch) || !meets(x.Nr, y.Nr) {
				continue
			}
			if err := budget.Spend(len(x.Arch) + len(y.Arch) + len(x.Nr) + len(y.Nr)); err != nil {
				return nil, err
			}
			archs, nrs := x.Arch.Intersect(y.Arch), x.Nr.Intersect(y.Nr)
			if archs.Empty() || nrs.Empty() {
				continue
			}
			kind := classify(x.Action, y.Action)
			if undecided {
				kind = Undecided
			}
			// What this pair could add: numbers no earlier pair of the same
			// kind and actions listed, per arch value.
			var todo []archTodo
			for _, av := range archValues(archs) {
				key := coverKey{av, kind, x.Action, y.Action}
				if err := budget.Spend(1 + len(nrs) + len(covered[key])); err != nil {
					return nil, err
				}
				if nr := nrs.Minus(covered[key]); !nr.Empty() {
					todo = append(todo, archTodo{key, nr})
				}
			}
			if len(todo) == 0 {
				continue
			}
			// Conditions are on arguments and the instruction pointer only:
			// one witness serves every arch value and number of the pair.
			// The search tries a few values per comparison against all of
			// them: charge it by the square.
			n := len(x.When) + len(y.When)
			if err := budget.Spend(n * n); err != nil {
				return nil, err
			}
			var witness bytecode.Data
			found := bytecode.Witness(&witness, x.When, y.When)
			if !found && !undecided {
				// No input found for this pair: typically contradictory
				// conditions the pruning kept.
				continue
			}
			var when bytecode.Condition
			for _, t := range todo {
				var listed bytecode.IntervalSet
				for _, g := range syscallGroups(t.key.arch, t.nr) {
					if err := budget.Spend(groupCost); err != nil {
						return nil, err
					}
					f := Finding{Arch: g.arch, Syscall: g.name, First: g.first, Last: g.last, A: x.Action, B: y.Action, Kind: kind}
					if found {
						d := witness
						d.Arch, d.Nr = t.key.arch, g.first
						ra, rb := a.Run(&d).Effective(), b.Run(&d).Effective()
						f.Example, f.Confirmed = &d, ra == x.Action && rb == y.Action
						if undecided && ra != rb {
							// The evaluator decides the example: a difference
							// there is proved, and listed besides the
							// undecided finding, which stands for every other
							// input the model could not decide (a computed
							// action may be ALLOW for another argument).
							proved := coverKey{t.key.arch, classify(ra, rb), ra, rb}
							if err := budget.Spend(groupCost + len(covered[proved])); err != nil {
								return nil, err
							}
							here := bytecode.IntervalSet{{First: g.first, Last: g.last}}
							if !here.Minus(covered[proved]).Empty() {
								covered[proved] = covered[proved].Union(here)
								p := f
								p.Kind, p.A, p.B, p.Example, p.Confirmed = proved.kind, ra, rb, &d, true
								if when == nil {
									when = append(append(bytecode.Condition{}, x.When...), y.When...).Simplify()
								}
								p.When = when
								res.Findings = append(res.Findings, p)
							}
						}
					}
					if when == nil {
						when = append(append(bytecode.Condition{}, x.When...), y.When...).Simplify()
					}
					f.When = when
					res.Findings = append(res.Findings, f)
					listed = listed.Append(g.first, g.last) // groups come in order
				}
				covered[t.key] = covered[t.key].Union(listed)
			}
		}
	}
	sort.SliceStable(res.Findings, func(i, j int) bool {
		fi, fj := &res.Findings[i], &res.Findings[j]
		if fi.Kind != fj.Kind {
			return fi.Kind < fj.Kind
		}
		if fi.Arch != fj.Arch {
			return archRank(fi.Arch) < archRank(fj.Arch)
		}
		return fi.First < fj.First
	})
	return res, nil
}

// sameStack reports whether a and b are the same programs in the same
// order.
func sameStack(a, b bytecode.Stack) bool {
	return slices.EqualFunc(a, b, func(f, g *bytecode.Filter) bool {
		return f == g || slices.Equal(f.Instructions(), g.Instructions())
	})
}

// stackLen is the number of instructions the evaluator may run for one
// input of s.
func stackLen(s bytecode.Stack) int {
	n := 0
	for _, f := range s {
		n += f.Len()
	}
	return n
}

// pathIndex finds the paths whose syscall numbers can overlap a range
// without pairing every path of A with every path of B (a million pairs
// for two 1000-instruction filters): paths over a narrow range of numbers
// (a syscall, typically) are sorted by their first number; the few wide
// ones (defaults, unnamed ranges, "everything else") are always candidates.
type pathIndex struct {
	narrow   []int    // path indexes, by first number
	first    []uint32 // the first number of each narrow path
	maxWidth uint32   // the widest narrow path's last - first
	wide     []int
}

// narrowWidth is the widest range of numbers a narrow path covers.
const narrowWidth = 1 << 12

func newPathIndex(paths []bytecode.Path) *pathIndex {
	ix := &pathIndex{}
	for j := range paths {
		nr := paths[j].Nr
		if len(nr) == 0 {
			continue
		}
		if w := nr[len(nr)-1].Last - nr[0].First; w <= narrowWidth {
			ix.narrow = append(ix.narrow, j)
			ix.maxWidth = max(ix.maxWidth, w)
		} else {
			ix.wide = append(ix.wide, j)
		}
	}
	sort.SliceStable(ix.narrow, func(a, b int) bool { return paths[ix.narrow[a]].Nr[0].First < paths[ix.narrow[b]].Nr[0].First })
	ix.first = make([]uint32, len(ix.narrow))
	for k, j := range ix.narrow {
		ix.first[k] = paths[j].Nr[0].First
	}
	return ix
}

// candidates appends to buf, in ascending order, the indexes of the paths
// whose numbers may meet [lo, hi].
func (ix *pathIndex) candidates(lo, hi uint32, buf []int) []int {
	from := uint32(0)
	if lo > ix.maxWidth {
		from = lo - ix.maxWidth
	}
	k := sort.Search(len(ix.first), func(k int) bool { return ix.first[k] >= from })
	for ; k < len(ix.first) && ix.first[k] <= hi; k++ {
		buf = append(buf, ix.narrow[k])
	}
	buf = append(buf, ix.wide...)
	slices.Sort(buf)
	return buf
}

func classify(a, b bytecode.Action) Kind {
	switch {
	case b.Permits() && !a.Permits():
		return Weaker
	case a.Permits() && !b.Permits():
		return Stricter
	}
	return Changed
}

// meets reports whether two sets share a value, without building their
// intersection: for each interval of the smaller set, a binary search in
// the larger one (a default path's set of numbers has hundreds of
// intervals).
func meets(a, b bytecode.IntervalSet) bool {
	if len(a) == 0 || len(b) == 0 || a[0].First > b[len(b)-1].Last || b[0].First > a[len(a)-1].Last {
		return false
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	for _, iv := range a {
		k := sort.Search(len(b), func(k int) bool { return b[k].Last >= iv.First })
		if k < len(b) && b[k].First <= iv.Last {
			return true
		}
	}
	return false
}

// archValues picks the arch values to report for a set: every known
// AUDIT_ARCH value in it, or one representative value.
func archValues(s bytecode.IntervalSet) []uint32 {
	var out []uint32
	for _, a := range arch.All {
		if s.Contains(a.Audit) && !slices.Contains(out, a.Audit) {
			out = append(out, a.Audit)
		}
	}
	if len(out) == 0 {
		out = append(out, s[0].First)
	}
	return out
}

func archRank(name string) int {
	for i, a := range arch.All {
		if a.Name == name {
			return i
		}
	}
	return len(arch.All)
}

type group struct {
	arch        string
	name        string
	first, last uint32
}

// syscallGroups splits a set of numbers of one arch value into named
// syscalls and unnamed ranges.
func syscallGroups(archValue uint32, nrs bytecode.IntervalSet) []group {
	var out []group
	for _, iv := range nrs {
		next := uint64(iv.First)
		for next <= uint64(iv.Last) {
			nr := uint32(next)
			a := arch.ForNr(archValue, nr)
			archName := fmt.Sprintf("arch:%#08x", archValue)
			if a != nil {
				archName = a.Name
				if name, ok := a.SyscallName(nr); ok {
					out = append(out, group{archName, name, nr, nr})
					next++
					continue
				}
			}
			// An unnamed run: up to the next named number, the end of the
			// interval, or the x32 boundary.
			end := uint64(iv.Last)
			if a != nil {
				for _, sc := range a.Syscalls() {
					if uint64(sc.Nr) > next && uint64(sc.Nr)-1 < end {
						end = uint64(sc.Nr) - 1
						break
					}
				}
				if archValue == arch.X86_64.Audit {
					bit := uint64(arch.X32SyscallBit)
					if next&bit == 0 && (next|(bit-1)) < end {
						end = next | (bit - 1)
					} else if next&bit != 0 && next < 0x80000000 && end >= 0x80000000 {
						end = 0x7fffffff
					}
				}
			}
			out = append(out, group{archName, "", nr, uint32(end)})
			next = end + 1
		}
	}
	return out
}

// Call writes the finding's example input as a system call, e.g.
// "socket(0x100000028, 0x1, 0x0, 0x0, 0x0, 0x0)", with the instruction
// pointer when it matters and a warning when the evaluator did not confirm it.
func (f *Finding) Call() string {
	d := f.Example
	if d == nil {
		return "no concrete input found"
	}
	args := make([]string, len(d.Args))
	for i, a := range d.Args {
		args[i] = fmt.Sprintf("%#x", a)
	}
	name := f.Syscall
	if name == "" {
		name = fmt.Sprintf("syscall %#x", d.Nr)
	}
	s := fmt.Sprintf("%s(%s)", name, strings.Join(args, ", "))
	if d.InstructionPointer != 0 {
		s += fmt.Sprintf(" at ip %#x", d.InstructionPointer)
	}
	if !f.Confirmed {
		s += " (not confirmed by the evaluator)"
	}
	return s
}

// allowAll is the program the kernel's behaviour without a filter equals.
var allowAll = func() *bytecode.Filter {
	f, err := bytecode.NewFilter([]bpf.Instruction{{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActAllow)}})
	if err != nil {
		panic(err) // a constant program
	}
	return f
}()

func orAllowAll(s bytecode.Stack) bytecode.Stack {
	if len(s) == 0 {
		return bytecode.Stack{allowAll}
	}
	return s
}
