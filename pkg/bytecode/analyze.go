package bytecode

import (
	"slices"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
)

// symKind says what the analysis knows about a register or scratch slot.
type symKind uint8

const (
	symConst   symKind = iota // a known constant
	symWord                   // (32-bit word of seccomp_data at off) & mask
	symUnknown                // anything else: arithmetic the model cannot express
)

type sym struct {
	kind symKind
	off  uint32 // symWord: offset in seccomp_data
	mask uint32 // symWord: mask applied to the word
	k    uint32 // symConst: value
}

func constSym(k uint32) sym { return sym{kind: symConst, k: k} }

// atom is a 32-bit comparison on an argument or instruction pointer word
// recorded along a path: (word & mask) op k.
type atom struct {
	off  uint32
	mask uint32
	op   CmpOp
	k    uint32
}

// leaf is one complete path through the program.
type leaf struct {
	arch, nr IntervalSet
	atoms    []atom
	action   Action
	// approx marks a path whose condition the model could not express
	// exactly; anyAction a path that returns a value it could not compute.
	approx, anyAction bool
}

// state is one symbolic path under exploration.
type state struct {
	pc   int
	a, x sym
	// mem is shared between paths until one of them stores (copy on
	// write): runtime-generated filters never use scratch memory.
	mem      *[bpf.ScratchSlots]sym
	arch, nr IntervalSet
	atoms    []atom
	approx   bool
	// nrOwned says that no other path or leaf shares nr's memory, so a
	// split may reuse it.
	nrOwned bool
}

type analyzer struct {
	prog   []bpf.Instruction
	budget *Budget
	leaves []leaf
	// charge collects the cost of the current step's copies; explore
	// spends it with the step.
	charge int
	// free holds the states of ended paths for the next forks, and sets
	// the memory of the number sets that splits cut out: a real filter
	// forks about once an instruction, and allocating each of these
	// separately was a third of the analysis.
	free []*state
	sets intervalArena
}

// explore runs every feasible path of the program for the given arch
// values and syscall numbers and collects its leaves.
func (an *analyzer) explore(arch, nr IntervalSet) error {
	// nr starts as a copy: a path that owns its set of numbers splits it
	// in place, and the caller's set (often fullSet) must never change.
	stack := []*state{{a: constSym(0), x: constSym(0), mem: new([bpf.ScratchSlots]sym), arch: arch, nr: slices.Clone(nr), nrOwned: true}}
	for len(stack) > 0 {
		st := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for {
			next, fork, done := an.step(st)
			cost := 1 + an.charge
			an.charge = 0
			if fork != nil {
				// A fork copies the path's condition: charge for it so
				// that time and memory stay bounded together.
				cost += len(fork.atoms)
				stack = append(stack, fork)
			}
			if err := an.budget.Spend(cost); err != nil {
				return err
			}
			if done || next == nil {
				an.free = append(an.free, st)
				break
			}
			st = next
		}
	}
	return nil
}

// step executes the instruction at st.pc. It returns the state to continue
// with, an optional second state to explore later, and done when the path
// ended (its leaf recorded) or proved infeasible.
func (an *analyzer) step(st *state) (next, fork *state, done bool) {
	in := an.prog[st.pc]
	switch in.Class() {
	case bpf.ClassLD, bpf.ClassLDX:
		var v sym
		switch in.Mode() {
		case bpf.ModeABS:
			v = sym{kind: symWord, off: in.K, mask: 0xffffffff}
		case bpf.ModeLEN:
			v = constSym(DataSize)
		case bpf.ModeIMM:
			v = constSym(in.K)
		case bpf.ModeMEM:
			v = st.mem[in.K]
		}
		if in.Class() == bpf.ClassLD {
			st.a = v
		} else {
			st.x = v
		}
	case bpf.ClassST:
		st.store(in.K, st.a)
	case bpf.ClassSTX:
		st.store(in.K, st.x)
	case bpf.ClassMISC:
		if in.MiscOp() == bpf.MiscTAX {
			st.x = st.a
		} else {
			st.a = st.x
		}
	case bpf.ClassALU:
		if an.alu(st, in) {
			return nil, nil, true
		}
	case bpf.ClassRET:
		l := leaf{arch: st.arch, nr: st.nr, atoms: st.atoms, approx: st.approx}
		switch {
		case in.RetSrc() == bpf.RetK:
			l.action = Action(in.K)
		case st.a.kind == symConst:
			l.action = Action(st.a.k)
		default:
			// RET A of a value the model does not know: any action.
			l.approx, l.anyAction = true, true
		}
		an.leaves = append(an.leaves, l)
		return nil, nil, true
	case bpf.ClassJMP:
		if in.JumpOp() == bpf.JmpJA {
			st.pc += int(in.K) + 1
			return st, nil, false
		}
		return an.branch(st, in)
	}
	st.pc++
	return st, nil, false
}

// alu applies an ALU instruction to A. It returns true when the path ends
// (division by an X that is zero on this path: the program returns 0).
func (an *analyzer) alu(st *state, in bpf.Instruction) bool {
	operand := constSym(in.K)
	if in.Src() == bpf.SrcX {
		operand = st.x
	}
	op := in.AluOp()
	if op == bpf.AluNEG {
		operand = constSym(0)
	}
	if op == bpf.AluDIV && operand.kind == symConst && operand.k == 0 {
		an.leaves = append(an.leaves, leaf{arch: st.arch, nr: st.nr, atoms: st.atoms, approx: st.approx, action: 0})
		return true
	}
	switch {
	case st.a.kind == symConst && operand.kind == symConst:
		st.a = constSym(op.Apply(st.a.k, operand.k))
	case st.a.kind == symWord && op == bpf.AluAND && operand.kind == symConst:
		st.a.mask &= operand.k
		if st.a.mask == 0 {
			st.a = constSym(0)
		}
	case op == bpf.AluAND && operand.kind == symConst && operand.k == 0:
		st.a = constSym(0)
	default:
		if op == bpf.AluDIV && operand.kind != symConst {
			// X may be zero: then the kernel returns 0. Record that as a
			// possible outcome of this path.
			an.leaves = append(an.leaves, leaf{arch: st.arch, nr: st.nr, atoms: st.atoms, approx: true, action: 0})
		}
		st.a = sym{kind: symUnknown}
	}
	return false
}

// branch splits the path at a conditional jump.
func (an *analyzer) branch(st *state, in bpf.Instruction) (next, fork *state, done bool) {
	taken, notTaken := st.pc+1+int(in.Jt), st.pc+1+int(in.Jf)
	if taken == notTaken {
		st.pc = taken
		return st, nil, false
	}
	lhs, rhs := st.a, constSym(in.K)
	if in.Src() == bpf.SrcX {
		rhs = st.x
	}
	op := in.JumpOp()
	// k op word: turn it around so that the word is on the left.
	if lhs.kind == symConst && rhs.kind == symWord {
		lhs, rhs = rhs, lhs
		switch op {
		case bpf.JmpJGT: // k > w  <=>  !(w >= k)
			op = bpf.JmpJGE
			taken, notTaken = notTaken, taken
		case bpf.JmpJGE: // k >= w  <=>  !(w > k)
			op = bpf.JmpJGT
			taken, notTaken = notTaken, taken
		}
	}
	switch {
	case lhs.kind == symConst && rhs.kind == symConst:
		if op.Taken(lhs.k, rhs.k) {
			st.pc = taken
		} else {
			st.pc = notTaken
		}
		return st, nil, false
	case lhs.kind == symWord && rhs.kind == symConst:
		return an.branchOnWord(st, lhs, op, rhs.k, taken, notTaken)
	}
	// A comparison the model cannot express: both ways are possible.
	other := an.fork(st)
	other.pc, other.approx = notTaken, true
	st.pc, st.approx = taken, true
	return st, other, false
}

// branchOnWord splits on (word & mask) op k.
func (an *analyzer) branchOnWord(st *state, w sym, op bpf.JumpOp, k uint32, taken, notTaken int) (next, fork *state, done bool) {
	mask, cop := w.mask, OpEQ
	switch op {
	case bpf.JmpJGT:
		cop = OpGT
	case bpf.JmpJGE:
		cop = OpGE
	case bpf.JmpJSET:
		// (w & mask & k) != 0 is the negation of (w & (mask&k)) == 0.
		mask &= k
		k = 0
		taken, notTaken = notTaken, taken
	}
	if w.off == OffsetNr || w.off == OffsetArch {
		set := st.nr
		if w.off == OffsetArch {
			set = st.arch
		}
		var t, f IntervalSet
		ok, owned := true, true
		switch {
		case w.off == OffsetNr && st.nrOwned && mask == 0xffffffff && cop == OpEQ:
			t, f = set.splitRangeOwned(k, k, &an.sets)
		case w.off == OffsetNr && st.nrOwned && mask == 0xffffffff && (cop == OpGE || cop == OpGT && k != 0xffffffff):
			lo := k
			if cop == OpGT {
				lo++
			}
			t, f = set.splitRangeOwned(lo, 0xffffffff, &an.sets)
		default:
			t, f, ok = set.splitMasked(mask, cop, k)
			// Masked splits copy the set: charge for its size. A test that
			// is always true or always false returns the set itself, which
			// other paths and leaves share: the path must not own it.
			an.charge += len(t) + len(f)
			owned = !aliases(t, set) && !aliases(f, set)
		}
		if !ok {
			other := an.fork(st)
			other.pc, other.approx = notTaken, true
			st.pc, st.approx = taken, true
			return st, other, false
		}
		return an.splitOnSets(st, w.off, t, f, owned, taken, notTaken)
	}
	// Checking and copying the path's condition costs its length: charge
	// it, so that long conditions cannot make a step arbitrarily expensive.
	an.charge += 2 * len(st.atoms)
	yes := atom{off: w.off, mask: mask, op: cop, k: k}
	no := atom{off: w.off, mask: mask, op: cop.negate(), k: k}
	yesOK, noOK := feasible(st.atoms, yes), feasible(st.atoms, no)
	switch {
	case yesOK && noOK:
		other := an.fork(st)
		other.atoms = appendAtom(other.atoms, no)
		other.pc = notTaken
		st.atoms = appendAtom(st.atoms, yes)
		st.pc = taken
		return st, other, false
	case yesOK:
		st.atoms = appendAtom(st.atoms, yes)
		st.pc = taken
	case noOK:
		st.atoms = appendAtom(st.atoms, no)
		st.pc = notTaken
	default:
		return nil, nil, true
	}
	return st, nil, false
}

// splitOnSets continues st on the side(s) whose set of values is not empty.
// owned says that t and f are the path's own memory (see state.nrOwned).
func (an *analyzer) splitOnSets(st *state, off uint32, t, f IntervalSet, owned bool, taken, notTaken int) (next, fork *state, done bool) {
	set := func(s *state, v IntervalSet) {
		if off == OffsetNr {
			s.nr, s.nrOwned = v, owned
		} else {
			s.arch = v
		}
	}
	switch {
	case !t.Empty() && !f.Empty() && an.prog[taken].Op == bpf.Ret(bpf.RetK):
		// The taken side returns at once, as in the chains of "nr == k"
		// that runtimes compile: record its leaf here rather than fork a
		// path for one step. The leaves, their order (the taken side
		// first) and the work charged are those of the fork.
		l := leaf{arch: st.arch, nr: st.nr, atoms: st.atoms, approx: st.approx, action: Action(an.prog[taken].K)}
		if off == OffsetNr {
			l.nr = t
		} else {
			l.arch = t
		}
		an.leaves = append(an.leaves, l)
		an.charge += 1 + len(st.atoms)
		st.nrOwned = false // the leaf may hold st.nr
		set(st, f)
		st.pc = notTaken
	case !t.Empty() && !f.Empty():
		other := an.fork(st)
		set(other, f)
		other.pc = notTaken
		set(st, t)
		st.pc = taken
		return st, other, false
	case !t.Empty():
		set(st, t)
		st.pc = taken
	case !f.Empty():
		set(st, f)
		st.pc = notTaken
	default:
		return nil, nil, true
	}
	return st, nil, false
}

// store writes a scratch slot, copying the slots first if another path
// may share them.
func (st *state) store(slot uint32, v sym) {
	m := *st.mem
	m[slot] = v
	st.mem = &m
}

// fork returns a copy of st to explore later. Neither may then split its
// numbers in place; atoms are shared copy-on-append (see appendAtom).
func (an *analyzer) fork(st *state) *state {
	st.nrOwned = false
	var c *state
	if n := len(an.free); n > 0 {
		c, an.free = an.free[n-1], an.free[:n-1]
	} else {
		c = new(state)
	}
	*c = *st
	return c
}

// appendAtom returns atoms with a appended, never writing into memory a
// sibling path may share.
func appendAtom(atoms []atom, a atom) []atom {
	out := make([]atom, len(atoms), len(atoms)+1)
	copy(out, atoms)
	return append(out, a)
}

// feasible reports whether the atoms plus a can all hold. It answers false
// only when that is proved (so pruning is sound); when unsure it says true.
func feasible(atoms []atom, a atom) bool {
	if a.k&^a.mask != 0 {
		// (w & mask) == k with a bit of k outside mask can never hold,
		// and != always holds.
		switch a.op {
		case OpEQ:
			return false
		case OpGT, OpGE:
			if a.k > a.mask {
				return false
			}
		}
	}
	lo, hi := uint64(0), uint64(a.mask)
	narrow := func(b atom) bool {
		switch b.op {
		case OpGT:
			lo = max(lo, uint64(b.k)+1)
		case OpGE:
			lo = max(lo, uint64(b.k))
		case OpLT:
			if b.k == 0 {
				return false
			}
			hi = min(hi, uint64(b.k)-1)
		case OpLE:
			hi = min(hi, uint64(b.k))
		}
		return true
	}
	check := func(b atom) bool {
		if b.off != a.off {
			return true
		}
		if b.mask == a.mask {
			if !narrow(b) {
				return false
			}
			if b.op == OpEQ && a.op == OpNE && b.k == a.k || b.op == OpNE && a.op == OpEQ && b.k == a.k {
				return false
			}
		}
		// Two equalities on overlapping masks must agree on shared bits.
		return !(a.op == OpEQ && b.op == OpEQ && (a.k^b.k)&a.mask&b.mask != 0)
	}
	for _, b := range atoms {
		if !check(b) {
			return false
		}
	}
	if !check(a) || lo > hi {
		return false
	}
	// Excluded values may cover what the bounds leave (hi <= 0 && hi != 0).
	if hi-lo < 64 {
		excluded := map[uint64]bool{}
		collect := func(b atom) {
			if b.off == a.off && b.mask == a.mask && b.op == OpNE {
				excluded[uint64(b.k)] = true
			}
		}
		collect(a)
		for _, b := range atoms {
			collect(b)
		}
		covered := true
		for v := lo; v <= hi; v++ {
			if !excluded[v] {
				covered = false
				break
			}
		}
		if covered {
			return false
		}
	}
	outside := func(b atom) bool {
		return b.off == a.off && b.mask == a.mask && b.op == OpEQ && (uint64(b.k) < lo || uint64(b.k) > hi)
	}
	if outside(a) {
		return false
	}
	for _, b := range atoms {
		if outside(b) {
			return false
		}
	}
	return true
}
