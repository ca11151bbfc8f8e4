package spec

import (
	"math/bits"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// Sets of argument values, for writing decision-table conditions as OCI
// argument comparisons and for checking what libseccomp makes of those
// comparisons on each architecture.
//
// libseccomp compares an argument as a 64-bit value on 64-bit
// architectures and only its low 32 bits on 32-bit ones (it truncates the
// profile's values), so every set has a width. A set is kept as sorted
// disjoint spans while it comes from order comparisons (so that it reads
// back as LT, GT, EQ and NE), and as cubes, (value & mask) == bits, once a
// masked test is involved. Both forms are closed under intersection,
// union and complement; sizes are capped, and an operation past the cap
// reports failure, which callers treat as "cannot be written exactly".

// Caps on the size of sets, regions and rule lists (a real profile needs a
// handful of each).
const (
	maxCubes           = 256
	maxSpans           = 256
	maxBoxes           = 256
	maxRulesPerSyscall = 32
)

// span is the closed interval [lo, hi] of argument values.
type span struct{ lo, hi uint64 }

// cube is the set of values v with v & mask == bits (bits within mask).
type cube struct{ mask, bits uint64 }

func (c cube) meets(o cube) bool { return (c.bits^o.bits)&c.mask&o.mask == 0 }

func (c cube) within(o cube) bool { return o.mask&^c.mask == 0 && c.bits&o.mask == o.bits }

// valueSet is a set of values of one argument as libseccomp compares it.
type valueSet struct {
	width  uint8 // 32 or 64
	cubed  bool  // cubes holds the set; else spans
	spans  []span
	cubes  []cube
	broken bool // an operation exceeded a cap: the set is unknown
}

func widthMax(width uint8) uint64 {
	if width == 32 {
		return 0xffffffff
	}
	return ^uint64(0)
}

func allValues(width uint8) valueSet {
	return valueSet{width: width, spans: []span{{0, widthMax(width)}}}
}

func noValues(width uint8) valueSet { return valueSet{width: width} }

func spanSet(width uint8, lo, hi uint64) valueSet {
	if lo > hi {
		return noValues(width)
	}
	return valueSet{width: width, spans: []span{{lo, hi}}}
}

func cubeSet(width uint8, c cube) valueSet {
	c.mask &= widthMax(width)
	if c.bits&^c.mask != 0 {
		return noValues(width)
	}
	return valueSet{width: width, cubed: true, cubes: []cube{c}}
}

func (s valueSet) empty() bool { return !s.broken && len(s.spans) == 0 && len(s.cubes) == 0 }

func (s valueSet) all() bool {
	if s.broken {
		return false
	}
	if !s.cubed {
		return len(s.spans) == 1 && s.spans[0] == span{0, widthMax(s.width)}
	}
	c := s.complement()
	return c.empty()
}

// orderSet is the set of values v with "v op k".
func orderSet(width uint8, op bytecode.CmpOp, k uint64) valueSet {
	top := widthMax(width)
	k &= top
	switch op {
	case bytecode.OpEQ:
		return spanSet(width, k, k)
	case bytecode.OpNE:
		s := noValues(width)
		if k > 0 {
			s.spans = append(s.spans, span{0, k - 1})
		}
		if k < top {
			s.spans = append(s.spans, span{k + 1, top})
		}
		return s
	case bytecode.OpGT:
		if k == top {
			return noValues(width)
		}
		return spanSet(width, k+1, top)
	case bytecode.OpGE:
		return spanSet(width, k, top)
	case bytecode.OpLT:
		if k == 0 {
			return noValues(width)
		}
		return spanSet(width, 0, k-1)
	case bytecode.OpLE:
		return spanSet(width, 0, k)
	}
	return valueSet{width: width, broken: true}
}

// spanCubes splits [lo, hi] into aligned power-of-two blocks, each a cube.
func spanCubes(width uint8, lo, hi uint64, out []cube) []cube {
	top := widthMax(width)
	for {
		size := uint64(1) << min(bits.TrailingZeros64(lo), int(width)-1)
		if lo == 0 && width == 64 && hi == top {
			return append(out, cube{})
		}
		for size > 1 && (lo+size-1 > hi || lo+size-1 < lo) {
			size >>= 1
		}
		out = append(out, cube{mask: top &^ (size - 1), bits: lo})
		end := lo + size - 1
		if end >= hi {
			return out
		}
		lo = end + 1
	}
}

// toCubes returns the set in cube form.
func (s valueSet) toCubes() valueSet {
	if s.cubed || s.broken {
		return s
	}
	out := valueSet{width: s.width, cubed: true}
	for _, sp := range s.spans {
		out.cubes = spanCubes(s.width, sp.lo, sp.hi, out.cubes)
		if len(out.cubes) > maxCubes {
			return valueSet{width: s.width, broken: true}
		}
	}
	return out.simplify()
}

// asSpans returns a cube set whose cubes are all aligned blocks (masks of
// leading ones: intervals) as spans, which complement without blowing up;
// other sets unchanged.
func (s valueSet) asSpans() valueSet {
	if !s.cubed || s.broken {
		return s
	}
	top := widthMax(s.width)
	out := valueSet{width: s.width}
	for _, c := range s.cubes {
		free := top &^ c.mask
		if free&(free+1) != 0 {
			return s // not a block of the form [bits, bits+free]
		}
		out = unionValues(out, spanSet(s.width, c.bits, c.bits|free))
		if out.broken {
			return s
		}
	}
	return out
}

// simplify drops cubes inside others and merges pairs that differ in one
// fixed bit, so that equal sets tend to have equal, short forms.
func (s valueSet) simplify() valueSet {
	if !s.cubed || s.broken {
		return s
	}
	cs := slices.Clone(s.cubes)
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(cs) && !changed; i++ {
			for j := 0; j < len(cs) && !changed; j++ {
				if i == j {
					continue
				}
				a, b := cs[i], cs[j]
				if a.within(b) {
					cs = slices.Delete(cs, i, i+1)
					changed = true
				} else if a.mask == b.mask && bits.OnesCount64(a.bits^b.bits) == 1 {
					diff := a.bits ^ b.bits
					cs[i] = cube{mask: a.mask &^ diff, bits: a.bits &^ diff}
					cs = slices.Delete(cs, j, j+1)
					changed = true
				}
			}
		}
	}
	slices.SortFunc(cs, func(a, b cube) int {
		if a.bits != b.bits {
			if a.bits < b.bits {
				return -1
			}
			return 1
		}
		if a.mask < b.mask {
			return -1
		} else if a.mask > b.mask {
			return 1
		}
		return 0
	})
	s.cubes = cs
	return s
}

func intersectValues(a, b valueSet) valueSet {
	if a.broken || b.broken {
		return valueSet{width: a.width, broken: true}
	}
	a, b = a.asSpans(), b.asSpans()
	if !a.cubed && !b.cubed {
		out := valueSet{width: a.width}
		for i, j := 0, 0; i < len(a.spans) && j < len(b.spans); {
			lo, hi := max(a.spans[i].lo, b.spans[j].lo), min(a.spans[i].hi, b.spans[j].hi)
			if lo <= hi {
				out.spans = append(out.spans, span{lo, hi})
			}
			if a.spans[i].hi < b.spans[j].hi {
				i++
			} else {
				j++
			}
		}
		return out
	}
	a, b = a.toCubes(), b.toCubes()
	if a.broken || b.broken {
		return valueSet{width: a.width, broken: true}
	}
	out := valueSet{width: a.width, cubed: true}
	for _, x := range a.cubes {
		for _, y := range b.cubes {
			if x.meets(y) {
				out.cubes = append(out.cubes, cube{mask: x.mask | y.mask, bits: x.bits | y.bits})
				if len(out.cubes) > maxCubes {
					return valueSet{width: a.width, broken: true}
				}
			}
		}
	}
	return out.simplify()
}

func unionValues(a, b valueSet) valueSet {
	if a.broken || b.broken {
		return valueSet{width: a.width, broken: true}
	}
	if !a.cubed && !b.cubed {
		all := append(slices.Clone(a.spans), b.spans...)
		slices.SortFunc(all, func(x, y span) int {
			if x.lo < y.lo {
				return -1
			} else if x.lo > y.lo {
				return 1
			}
			return 0
		})
		out := valueSet{width: a.width}
		for _, sp := range all {
			if n := len(out.spans); n > 0 && (sp.lo <= out.spans[n-1].hi || sp.lo == out.spans[n-1].hi+1) {
				out.spans[n-1].hi = max(out.spans[n-1].hi, sp.hi)
				continue
			}
			out.spans = append(out.spans, sp)
		}
		if len(out.spans) > maxSpans {
			return valueSet{width: a.width, broken: true}
		}
		return out
	}
	a, b = a.toCubes(), b.toCubes()
	if a.broken || b.broken || len(a.cubes)+len(b.cubes) > maxCubes {
		return valueSet{width: a.width, broken: true}
	}
	out := valueSet{width: a.width, cubed: true, cubes: append(slices.Clone(a.cubes), b.cubes...)}
	return out.simplify()
}

func (s valueSet) complement() valueSet {
	if s.broken {
		return s
	}
	s = s.asSpans()
	top := widthMax(s.width)
	if !s.cubed {
		out := valueSet{width: s.width}
		next := uint64(0)
		done := false
		for _, sp := range s.spans {
			if sp.lo > next {
				out.spans = append(out.spans, span{next, sp.lo - 1})
			}
			if sp.hi == top {
				done = true
				break
			}
			next = sp.hi + 1
		}
		if !done {
			out.spans = append(out.spans, span{next, top})
		}
		return out
	}
	if len(s.cubes) == 1 {
		// Not (v & m == b) is "some bit of m differs from b": one
		// cube per bit, which reads as the bit tests people write.
		c := s.cubes[0]
		out := valueSet{width: s.width, cubed: true}
		for m := c.mask & top; m != 0; m &= m - 1 {
			bit := m & -m
			out.cubes = append(out.cubes, cube{mask: bit, bits: ^c.bits & bit})
		}
		return out.simplify()
	}
	rest := []cube{{}}
	for _, c := range s.cubes {
		var next []cube
		for _, r := range rest {
			next = appendSharp(next, r, c, top)
			if len(next) > maxCubes {
				return valueSet{width: s.width, broken: true}
			}
		}
		rest = next
	}
	return valueSet{width: s.width, cubed: true, cubes: rest}.simplify()
}

// appendSharp appends r minus c as disjoint cubes.
func appendSharp(out []cube, r, c cube, top uint64) []cube {
	if !r.meets(c) {
		return append(out, r)
	}
	free := c.mask &^ r.mask & top
	fixed := r
	for free != 0 {
		bit := free & -free
		free &^= bit
		out = append(out, cube{mask: fixed.mask | bit, bits: fixed.bits | (^c.bits & bit)})
		fixed = cube{mask: fixed.mask | bit, bits: fixed.bits | (c.bits & bit)}
	}
	return out
}

// box is a set of argument tuples: the product of one set per argument.
type box [6]valueSet

func allBox(width uint8) box {
	var b box
	for i := range b {
		b[i] = allValues(width)
	}
	return b
}

func (b box) empty() bool {
	for _, s := range b {
		if s.empty() {
			return true
		}
	}
	return false
}

func (b box) broken() bool {
	for _, s := range b {
		if s.broken {
			return true
		}
	}
	return false
}

func intersectBoxes(a, b box) box {
	var out box
	for i := range a {
		out[i] = intersectValues(a[i], b[i])
	}
	return out
}

// argRegion is a union of boxes; ok is false once a cap was exceeded, and
// then the argRegion is unknown.
type argRegion struct {
	width uint8
	boxes []box
	ok    bool
}

func emptyRegion(width uint8) argRegion { return argRegion{width: width, ok: true} }

func (r argRegion) add(b box) argRegion {
	if !r.ok || b.broken() {
		return argRegion{width: r.width}
	}
	if b.empty() {
		return r
	}
	if len(r.boxes) >= maxBoxes {
		return argRegion{width: r.width}
	}
	r.boxes = append(slices.Clone(r.boxes), b)
	return r.merge()
}

func (r argRegion) union(o argRegion) argRegion {
	if !r.ok || !o.ok {
		return argRegion{width: r.width}
	}
	for _, b := range o.boxes {
		r = r.add(b)
	}
	return r
}

func (r argRegion) empty() bool { return r.ok && len(r.boxes) == 0 }

// merge joins boxes that differ in one argument only.
func (r argRegion) merge() argRegion {
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(r.boxes) && !changed; i++ {
			for j := i + 1; j < len(r.boxes) && !changed; j++ {
				diff := -1
				for k := range r.boxes[i] {
					if !sameValues(r.boxes[i][k], r.boxes[j][k]) {
						if diff >= 0 {
							diff = -2
							break
						}
						diff = k
					}
				}
				switch {
				case diff == -1:
					r.boxes = slices.Delete(r.boxes, j, j+1)
					changed = true
				case diff >= 0:
					u := unionValues(r.boxes[i][diff], r.boxes[j][diff])
					if u.broken {
						continue
					}
					r.boxes[i][diff] = u
					r.boxes = slices.Delete(r.boxes, j, j+1)
					changed = true
				}
			}
		}
	}
	return r
}

func sameValues(a, b valueSet) bool {
	return a.cubed == b.cubed && !a.broken && !b.broken && slices.Equal(a.spans, b.spans) && slices.Equal(a.cubes, b.cubes)
}

func (r argRegion) intersect(o argRegion) argRegion {
	if !r.ok || !o.ok {
		return argRegion{width: r.width}
	}
	out := emptyRegion(r.width)
	for _, a := range r.boxes {
		for _, b := range o.boxes {
			out = out.add(intersectBoxes(a, b))
			if !out.ok {
				return out
			}
		}
	}
	return out
}

func (r argRegion) complement() argRegion {
	if !r.ok {
		return r
	}
	out := emptyRegion(r.width).add(allBox(r.width))
	for _, b := range r.boxes {
		var notB = emptyRegion(r.width)
		for i, s := range b {
			if s.all() {
				continue
			}
			nb := allBox(r.width)
			nb[i] = s.complement()
			notB = notB.add(nb)
		}
		out = out.intersect(notB)
		if !out.ok {
			return out
		}
	}
	return out
}

// subsetOf reports whether r lies within o; false when unknown.
func (r argRegion) subsetOf(o argRegion) bool {
	d := r.intersect(o.complement())
	return d.ok && d.empty()
}

func (r argRegion) equal(o argRegion) bool {
	if r.ok && o.ok && slices.EqualFunc(r.boxes, o.boxes, func(a, b box) bool {
		for i := range a {
			if !sameValues(a[i], b[i]) {
				return false
			}
		}
		return true
	}) {
		return true
	}
	return r.subsetOf(o) && o.subsetOf(r)
}

func (r argRegion) disjoint(o argRegion) bool {
	d := r.intersect(o)
	return d.ok && d.empty()
}

// conditionBox returns the tuples of argument values a condition accepts,
// as libseccomp compares arguments at this width. exact is false when some
// comparison has no OCI form (the instruction pointer, an order on masked
// bits, a high word on a 32-bit architecture); the box then drops those
// comparisons and accepts more than the condition.
func conditionBox(cond bytecode.Condition, width uint8) (b box, exact bool) {
	b = allBox(width)
	exact = true
	type halves struct {
		lo, hi         valueSet // unmasked order comparisons of each 32-bit word
		haveLo, haveHi bool
		masked         valueSet // everything else, at full width
	}
	var parts [6]halves
	for i := range parts {
		parts[i] = halves{lo: allValues(32), hi: allValues(32), masked: allValues(width)}
	}
	for _, c := range cond {
		if c.Operand.Arg < 0 || c.Operand.Arg >= 6 {
			exact = false
			continue
		}
		p := &parts[c.Operand.Arg]
		half := c.Operand.Half
		if width == 32 && half != bytecode.Low {
			exact = false
			continue
		}
		if !c.Masked() {
			switch half {
			case bytecode.Low:
				p.lo, p.haveLo = intersectValues(p.lo, orderSet(32, c.Op, c.Value)), true
			case bytecode.High:
				p.hi, p.haveHi = intersectValues(p.hi, orderSet(32, c.Op, c.Value)), true
			default:
				p.masked = intersectValues(p.masked, orderSet(width, c.Op, c.Value))
			}
			continue
		}
		if c.Op != bytecode.OpEQ && c.Op != bytecode.OpNE {
			exact = false
			continue
		}
		mask, value := c.Mask, c.Value
		if half == bytecode.High {
			mask, value = mask<<32, value<<32
		}
		s := cubeSet(width, cube{mask: mask, bits: value})
		if c.Op == bytecode.OpNE {
			s = s.complement()
		}
		p.masked = intersectValues(p.masked, s)
	}
	for i, p := range parts {
		s := p.masked
		if width == 32 {
			s = intersectValues(s, p.lo)
		} else if p.haveLo || p.haveHi {
			s = intersectValues(s, joinHalves(p.hi, p.lo))
		}
		b[i] = s
	}
	return b, exact
}

// joinHalves is the set of 64-bit values whose high word is in hi and low
// word in lo (both unmasked 32-bit span sets).
func joinHalves(hi, lo valueSet) valueSet {
	if hi.broken || lo.broken {
		return valueSet{width: 64, broken: true}
	}
	out := valueSet{width: 64}
	if lo.all() {
		for _, h := range hi.spans {
			out.spans = append(out.spans, span{h.lo << 32, h.hi<<32 | 0xffffffff})
		}
		return out
	}
	points := uint64(0)
	for _, h := range hi.spans {
		points += h.hi - h.lo + 1
		if points > 64 {
			break
		}
	}
	if points <= 64 {
		for _, h := range hi.spans {
			for v := h.lo; v <= h.hi; v++ {
				for _, l := range lo.spans {
					out = unionValues(out, spanSet(64, v<<32|l.lo, v<<32|l.hi))
				}
			}
		}
		return out
	}
	hc, lc := hi.toCubes(), lo.toCubes()
	if hc.broken || lc.broken || len(hc.cubes)*len(lc.cubes) > maxCubes {
		return valueSet{width: 64, broken: true}
	}
	out.cubed = true
	for _, h := range hc.cubes {
		for _, l := range lc.cubes {
			out.cubes = append(out.cubes, cube{mask: h.mask<<32 | l.mask, bits: h.bits<<32 | l.bits})
		}
	}
	return out.simplify()
}

// comparisons writes a set of one argument's values as alternative OCI
// comparisons (their union is the set; nil stands for "any value").
func (s valueSet) comparisons(index uint, cubesOnly bool) ([]*specs.LinuxSeccompArg, bool) {
	if s.broken {
		return nil, false
	}
	top := widthMax(s.width)
	arg := func(op specs.LinuxSeccompOperator, v, v2 uint64) *specs.LinuxSeccompArg {
		return &specs.LinuxSeccompArg{Index: index, Op: op, Value: v, ValueTwo: v2}
	}
	var out []*specs.LinuxSeccompArg
	if cubesOnly && !s.cubed {
		s = s.toCubes()
		if s.broken {
			return nil, false
		}
	}
	if !s.cubed {
		if s.all() {
			return []*specs.LinuxSeccompArg{nil}, true
		}
		// "Every value but one" is one NE.
		if c := s.complement(); len(c.spans) == 1 && c.spans[0].lo == c.spans[0].hi {
			return []*specs.LinuxSeccompArg{arg(specs.OpNotEqual, c.spans[0].lo, 0)}, true
		}
		for _, sp := range s.spans {
			switch {
			case sp.lo == sp.hi:
				out = append(out, arg(specs.OpEqualTo, sp.lo, 0))
			case sp.lo == 0:
				out = append(out, arg(specs.OpLessThan, sp.hi+1, 0))
			case sp.hi == top:
				out = append(out, arg(specs.OpGreaterThan, sp.lo-1, 0))
			default:
				for _, c := range spanCubes(s.width, sp.lo, sp.hi, nil) {
					out = append(out, cubeComparison(index, c, top))
				}
			}
		}
		return out, true
	}
	for _, c := range s.cubes {
		if c.mask == 0 {
			return []*specs.LinuxSeccompArg{nil}, true
		}
		out = append(out, cubeComparison(index, c, top))
	}
	return out, true
}

func cubeComparison(index uint, c cube, top uint64) *specs.LinuxSeccompArg {
	if c.mask == top {
		return &specs.LinuxSeccompArg{Index: index, Op: specs.OpEqualTo, Value: c.bits}
	}
	return &specs.LinuxSeccompArg{Index: index, Op: specs.OpMaskedEqual, Value: c.mask, ValueTwo: c.bits}
}

// argRules writes a box as OCI argument lists, each at most one comparison
// per argument (runc ORs two comparisons of one argument); their union is
// the box. ok is false past maxRulesPerSyscall. cubesOnly writes masked
// equalities only.
func (b box) argRules(cubesOnly bool) ([][]specs.LinuxSeccompArg, bool) {
	out := [][]specs.LinuxSeccompArg{nil}
	for i, s := range b {
		alts, ok := s.comparisons(uint(i), cubesOnly)
		if !ok {
			return nil, false
		}
		if len(alts) == 1 && alts[0] == nil {
			continue
		}
		if len(out)*len(alts) > maxRulesPerSyscall {
			return nil, false
		}
		var next [][]specs.LinuxSeccompArg
		for _, prefix := range out {
			for _, a := range alts {
				next = append(next, append(slices.Clone(prefix), *a))
			}
		}
		out = next
	}
	return out, true
}

// ociOrders are the OCI operators that compare an argument with a value,
// as the table's comparison operators.
var ociOrders = map[specs.LinuxSeccompOperator]bytecode.CmpOp{
	specs.OpEqualTo: bytecode.OpEQ, specs.OpNotEqual: bytecode.OpNE,
	specs.OpGreaterThan: bytecode.OpGT, specs.OpGreaterEqual: bytecode.OpGE,
	specs.OpLessThan: bytecode.OpLT, specs.OpLessEqual: bytecode.OpLE,
}

// argsBox is what libseccomp makes of a rule's comparisons at this width:
// values and masks are truncated to the low word on 32-bit architectures;
// the comparisons of one rule must all hold.
func argsBox(args []specs.LinuxSeccompArg, width uint8) box {
	b := allBox(width)
	top := widthMax(width)
	for _, a := range args {
		if a.Index >= 6 {
			return box{valueSet{width: width, broken: true}}
		}
		var s valueSet
		op, isOrder := ociOrders[a.Op]
		switch {
		case isOrder:
			s = orderSet(width, op, a.Value&top)
		case a.Op == specs.OpMaskedEqual:
			s = cubeSet(width, cube{mask: a.Value & top, bits: a.ValueTwo & top})
		default:
			s = valueSet{width: width, broken: true}
		}
		b[a.Index] = intersectValues(b[a.Index], s)
	}
	return b
}
