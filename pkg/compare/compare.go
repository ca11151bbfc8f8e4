// Package compare finds where two seccomp filter stacks decide differently:
// the semantic diff behind `seccomp-attest diff` and the policy verdicts.
// Every finding carries a concrete input, confirmed by running both
// programs on it with the kernel's semantics.
package compare

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
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

// maxPairs bounds the pairing of paths.
const maxPairs = 1 << 26

// Stacks compares filter stacks a (reference) and b. An empty stack is a
// process without a filter: the kernel lets every call through.
func Stacks(a, b bytecode.Stack) (*Result, error) {
	a, b = orAllowAll(a), orAllowAll(b)
	pa, err := bytecode.Paths(a)
	if err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	pb, err := bytecode.Paths(b)
	if err != nil {
		return nil, fmt.Errorf("compared: %w", err)
	}
	if len(pa)*len(pb) > maxPairs {
		return nil, fmt.Errorf("compare %d x %d paths: %w", len(pa), len(pb), bytecode.ErrTooComplex)
	}
	res := &Result{}
	seen := map[string]bool{}
	index := newPathIndex(pb)
	var cands []int
	for i := range pa {
		x := &pa[i]
		if len(x.Nr) == 0 {
			continue
		}
		cands = index.candidates(x.Nr[0].First, x.Nr[len(x.Nr)-1].Last, cands[:0])
		for _, j := range cands {
			y := &pb[j]
			undecided := x.Approximate || y.Approximate
			if !undecided && x.Action == y.Action {
				continue
			}
			if !meets(x.Arch, y.Arch) || !meets(x.Nr, y.Nr) {
				continue
			}
			archs, nrs := x.Arch.Intersect(y.Arch), x.Nr.Intersect(y.Nr)
			if archs.Empty() || nrs.Empty() {
				continue
			}
			for _, av := range archValues(archs) {
				for _, g := range syscallGroups(av, nrs) {
					d := &bytecode.Data{Arch: av, Nr: g.first}
					found := bytecode.Witness(d, x.When, y.When)
					if !found && !undecided {
						// No input found for this pair: typically
						// contradictory conditions the pruning kept.
						continue
					}
					f := Finding{Arch: g.arch, Syscall: g.name, First: g.first, Last: g.last,
						A: x.Action, B: y.Action, When: append(append(bytecode.Condition{}, x.When...), y.When...).Simplify()}
					f.Kind = classify(x.Action, y.Action)
					if undecided {
						f.Kind = Undecided
					}
					if found {
						f.Example = d
						f.Confirmed = a.Run(d).Effective() == x.Action && b.Run(d).Effective() == y.Action
						if undecided {
							// The evaluator decides the example.
							ra, rb := a.Run(d).Effective(), b.Run(d).Effective()
							if ra == rb && ra == x.Action && x.Action == y.Action {
								continue
							}
						}
					}
					key := fmt.Sprintf("%s/%d/%d/%v/%v/%v", g.arch, g.first, g.last, f.Kind, f.A, f.B)
					if seen[key] {
						continue
					}
					seen[key] = true
					res.Findings = append(res.Findings, f)
				}
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
	seen := map[uint32]bool{}
	for _, a := range arch.All {
		if s.Contains(a.Audit) && !seen[a.Audit] {
			seen[a.Audit] = true
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
	f, err := bytecode.NewFilter([]bytecode.Instruction{{Op: bytecode.ClassRET | bytecode.RetK, K: uint32(bytecode.ActAllow)}})
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
