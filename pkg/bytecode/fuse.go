package bytecode

import (
	"cmp"
	"slices"
)

// conditionOf turns the atoms of a path into a readable condition: the
// constraints on each 32-bit word are reduced to their canonical form (an
// equality, or bounds plus excluded values), and a high and a low word
// equality on the same argument become one 64-bit comparison.
func conditionOf(atoms []atom) Condition {
	if len(atoms) == 0 {
		return nil
	}
	// Group the atoms by word and mask, words in order and wider masks
	// first; a stable sort keeps each group's atoms in path order. Paths
	// carry a few atoms: sort a copy on the stack.
	var buf [8]atom
	sorted := append(buf[:0], atoms...)
	slices.SortStableFunc(sorted, func(a, b atom) int {
		if a.off != b.off {
			return cmp.Compare(a.off, b.off)
		}
		return cmp.Compare(b.mask, a.mask)
	})
	var cond Condition
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j].off == sorted[i].off && sorted[j].mask == sorted[i].mask {
			j++
		}
		cond = append(cond, canonical(sorted[i].off, sorted[i].mask, sorted[i:j])...)
		i = j
	}
	return fuseHalves(cond)
}

// canonical reduces the atoms on one (word & mask) to: == v, or > lo and/or
// < hi plus != values within the bounds.
func canonical(off, mask uint32, atoms []atom) Condition {
	lo, hi := uint64(0), uint64(mask)
	var eq uint32
	hasEq := false
	var ne []uint32
	bounded := false
	for _, a := range atoms {
		bounded = bounded || a.op != OpEQ && a.op != OpNE
		k := a.k
		switch a.op {
		case OpEQ:
			eq, hasEq = k, true
		case OpNE:
			ne = append(ne, k)
		case OpGT:
			lo = max(lo, uint64(k)+1)
		case OpGE:
			lo = max(lo, uint64(k))
		case OpLT:
			if k == 0 {
				hi = 0 // infeasible, kept visible below
				lo = 1
			} else {
				hi = min(hi, uint64(k)-1)
			}
		case OpLE:
			hi = min(hi, uint64(k))
		}
	}
	op := operandAt(off)
	cmp := func(o CmpOp, v uint64) Comparison {
		return Comparison{Operand: op, Op: o, Mask: uint64(mask), Value: v}
	}
	if hasEq {
		return Condition{cmp(OpEQ, uint64(eq))}
	}
	// Excluded values at a bound move the bound.
	slices.Sort(ne)
	for changed := bounded; changed; {
		changed = false
		for _, v := range ne {
			if uint64(v) == lo && lo < hi {
				lo++
				changed = true
			} else if uint64(v) == hi && hi > lo {
				hi--
				changed = true
			}
		}
	}
	if lo == hi {
		for _, v := range ne {
			if uint64(v) == lo {
				// Nothing satisfies the atoms: keep the contradiction
				// visible rather than dropping the exclusion.
				return Condition{cmp(OpEQ, lo), cmp(OpNE, lo)}
			}
		}
		return Condition{cmp(OpEQ, lo)}
	}
	var out Condition
	if lo > 0 {
		out = append(out, cmp(OpGT, lo-1))
	}
	if hi < uint64(mask) {
		out = append(out, cmp(OpLT, hi+1))
	}
	for i, v := range ne {
		if uint64(v) >= lo && uint64(v) <= hi && (i == 0 || ne[i-1] != v) {
			out = append(out, cmp(OpNE, uint64(v)))
		}
	}
	return out
}

// fuseHalves merges "args[i].hi (& mh) == H" and "args[i].lo (& ml) == L"
// into "args[i] (& M) == H:L" when they are the only tests of those words.
func fuseHalves(cond Condition) Condition {
	out := cond[:0:0]
	used := make([]bool, len(cond))
	for i, c := range cond {
		if used[i] {
			continue
		}
		used[i] = true
		if c.Op == OpEQ && c.Operand.Half != Full && onlyOne(cond, c.Operand) {
			other := Operand{Arg: c.Operand.Arg, Half: Low + High - c.Operand.Half}
			for j, d := range cond {
				if !used[j] && d.Op == OpEQ && d.Operand == other && onlyOne(cond, other) {
					used[j] = true
					hi, lo := c, d
					if c.Operand.Half == Low {
						hi, lo = d, c
					}
					c = Comparison{Operand: Operand{Arg: c.Operand.Arg, Half: Full}, Op: OpEQ,
						Mask: hi.Mask<<32 | lo.Mask, Value: hi.Value<<32 | lo.Value}
					break
				}
			}
		}
		out = append(out, c)
	}
	return out
}

func onlyOne(cond Condition, o Operand) bool {
	n := 0
	for _, c := range cond {
		if c.Operand == o {
			n++
		}
	}
	return n == 1
}

// fuseRules merges pairs of rules with the same action that together
// express one 64-bit comparison as libseccomp compiles it:
//
//	hi != H            |  hi == H && lo != L   =>  arg != H:L
//	hi >  H            |  hi == H && lo >  L   =>  arg >  H:L
//	hi <  H            |  hi == H && lo <  L   =>  arg <  H:L
//
// (with masks for the inequality of MASKED_EQ's negation). The rules of one
// syscall are disjoint, so merging two of them keeps the meaning.
func fuseRules(rules []Rule) []Rule {
	for merged := true; merged; {
		merged = false
	search:
		for i := range rules {
			for j := range rules {
				if i == j || rules[i].Action != rules[j].Action || rules[i].Approximate || rules[j].Approximate {
					continue
				}
				if c, ok := fusePair(rules[i].When, rules[j].When); ok {
					rules[i].When = c
					rules = append(rules[:j], rules[j+1:]...)
					merged = true
					break search
				}
			}
		}
	}
	return rules
}

// fusePair matches a = C && hi op H, b = C && hi == H && lo op L.
func fusePair(a, b Condition) (Condition, bool) {
	if len(b) != len(a)+1 {
		return nil, false
	}
	for ai, hiCmp := range a {
		if hiCmp.Operand.Half != High || (hiCmp.Op != OpNE && hiCmp.Op != OpGT && hiCmp.Op != OpLT) {
			continue
		}
		arg := hiCmp.Operand.Arg
		var eqHi, loCmp = -1, -1
		for bi, c := range b {
			switch {
			case c.Operand == hiCmp.Operand && c.Op == OpEQ && c.Value == hiCmp.Value && c.Mask == hiCmp.Mask:
				eqHi = bi
			case c.Operand == (Operand{Arg: arg, Half: Low}) && c.Op == hiCmp.Op:
				loCmp = bi
			}
		}
		if eqHi < 0 || loCmp < 0 {
			continue
		}
		lo := b[loCmp]
		if hiCmp.Op != OpNE && (hiCmp.Mask != 0xffffffff || lo.Mask != 0xffffffff) {
			continue
		}
		// The rest of both conditions must be the same.
		restA := append(append(Condition{}, a[:ai]...), a[ai+1:]...)
		var restB Condition
		for bi, c := range b {
			if bi != eqHi && bi != loCmp {
				restB = append(restB, c)
			}
		}
		if !restA.equal(restB) {
			continue
		}
		full := Comparison{Operand: Operand{Arg: arg, Half: Full}, Op: hiCmp.Op,
			Mask: hiCmp.Mask<<32 | lo.Mask, Value: hiCmp.Value<<32 | lo.Value}
		return append(restA, full), true
	}
	return nil, false
}
