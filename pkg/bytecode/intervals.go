package bytecode

import (
	"fmt"
	"sort"
	"strings"
)

// Interval is an inclusive range of 32-bit values.
type Interval struct{ First, Last uint32 }

// IntervalSet is a sorted list of disjoint, non-adjacent intervals: the
// domain the analysis uses for seccomp_data.nr and seccomp_data.arch.
type IntervalSet []Interval

// fullSet is every 32-bit value. It is shared: never split it in place.
var fullSet = IntervalSet{{0, 0xffffffff}}

// aliases reports whether a and b share their first element's memory: a
// split that keeps a whole set returns the set itself.
func aliases(a, b IntervalSet) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

// Contains reports whether v is in the set.
func (s IntervalSet) Contains(v uint32) bool {
	lo, hi := 0, len(s)
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case v < s[m].First:
			hi = m
		case v > s[m].Last:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

// Empty reports whether the set has no values.
func (s IntervalSet) Empty() bool { return len(s) == 0 }

// Single returns the value of a one-value set.
func (s IntervalSet) Single() (uint32, bool) {
	if len(s) == 1 && s[0].First == s[0].Last {
		return s[0].First, true
	}
	return 0, false
}

func (s IntervalSet) String() string {
	parts := make([]string, len(s))
	for i, iv := range s {
		if iv.First == iv.Last {
			parts[i] = fmt.Sprintf("%#x", iv.First)
		} else {
			parts[i] = fmt.Sprintf("%#x-%#x", iv.First, iv.Last)
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// appendInterval adds [first, last] after every interval already in s,
// merging it with the last one when they touch.
func (s IntervalSet) appendInterval(first, last uint32) IntervalSet {
	if n := len(s); n > 0 && s[n-1].Last != 0xffffffff && s[n-1].Last+1 >= first {
		if last > s[n-1].Last {
			s[n-1].Last = last
		}
		return s
	}
	return append(s, Interval{first, last})
}

// Append adds [first, last] after every interval already in s (first must
// lie above them), merging touching intervals.
func (s IntervalSet) Append(first, last uint32) IntervalSet { return s.appendInterval(first, last) }

// splitRange splits s into the values within [first, last] and the rest.
func (s IntervalSet) splitRange(first, last uint32) (in, out IntervalSet) {
	if len(s) == 0 || s[len(s)-1].Last < first || s[0].First > last {
		return nil, s
	}
	if s[0].First >= first && s[len(s)-1].Last <= last {
		return s, nil
	}
	for _, iv := range s {
		if iv.Last < first || iv.First > last {
			out = out.appendInterval(iv.First, iv.Last)
			continue
		}
		if iv.First < first {
			out = out.appendInterval(iv.First, first-1)
		}
		in = in.appendInterval(max(iv.First, first), min(iv.Last, last))
		if iv.Last > last {
			out = out.appendInterval(last+1, iv.Last)
		}
	}
	return in, out
}

// intervalArena hands out small interval sets from shared blocks, so that
// the thousands of sets an analysis cuts out cost a few allocations. A set
// it returns has no spare capacity: appending to it never writes into
// another set's memory.
type intervalArena struct{ block []Interval }

// arenaBlock is the largest number of intervals per block (blocks start
// small, for small filters, and double); larger sets are allocated on
// their own.
const arenaBlock = 512

// take returns an empty set with room for n intervals.
func (a *intervalArena) take(n int) IntervalSet {
	if a == nil || n > arenaBlock/8 {
		return make(IntervalSet, 0, n)
	}
	if cap(a.block)-len(a.block) < n {
		a.block = make([]Interval, 0, min(max(2*cap(a.block), 4*n, 16), arenaBlock))
	}
	i := len(a.block)
	a.block = a.block[:i+n]
	return a.block[i : i : i+n]
}

// splitRangeOwned is splitRange for a set whose memory the caller owns:
// the rest is written over s instead of into a copy, which keeps a long
// chain of "nr == k" tests linear in allocations. The values within come
// from arena (nil: the heap).
func (s IntervalSet) splitRangeOwned(first, last uint32, arena *intervalArena) (in, out IntervalSet) {
	// A chain of "nr == k" tests leaves s with one interval per test:
	// search it rather than walk it.
	lo := sort.Search(len(s), func(i int) bool { return s[i].Last >= first })
	hi := lo
	for hi < len(s) && s[hi].First <= last {
		hi++
	}
	if lo == hi {
		return nil, s
	}
	in = arena.take(hi - lo)
	for _, iv := range s[lo:hi] {
		in = append(in, Interval{max(iv.First, first), min(iv.Last, last)})
	}
	var keep [2]Interval
	n := 0
	if s[lo].First < first {
		keep[n] = Interval{s[lo].First, first - 1}
		n++
	}
	if s[hi-1].Last > last {
		keep[n] = Interval{last + 1, s[hi-1].Last}
		n++
	}
	// Replace s[lo:hi] with keep[:n].
	tail := len(s) - hi
	if n > hi-lo {
		s = append(s, Interval{})
	}
	copy(s[lo+n:], s[hi:hi+tail])
	copy(s[lo:], keep[:n])
	return in, s[:lo+n+tail]
}

// maxSplitIntervals bounds the size of a set produced by a masked
// comparison; beyond it the analysis gives up on exactness (and refine
// recovers named syscalls). Runtimes never split numbers with a mask
// beyond x32's bit; a hostile filter that does at every instruction would
// otherwise hold thousands of intervals on each of thousands of paths.
const maxSplitIntervals = 1024

// splitMasked splits s into the values v with (v & mask) op k true and
// false. It decomposes the set into aligned power-of-two blocks on which
// the masked value ranges over [fixed, fixed|free]; it returns ok=false when
// the result would need more than maxSplitIntervals intervals.
func (s IntervalSet) splitMasked(mask uint32, op CmpOp, k uint32) (t, f IntervalSet, ok bool) {
	if mask == 0xffffffff {
		switch op {
		case OpEQ:
			t, f = s.splitRange(k, k)
			return t, f, true
		case OpGT:
			if k == 0xffffffff {
				return nil, s, true
			}
			t, f = s.splitRange(k+1, 0xffffffff)
			return t, f, true
		case OpGE:
			t, f = s.splitRange(k, 0xffffffff)
			return t, f, true
		}
	}
	var walk func(base uint32, bits uint) bool
	walk = func(base uint32, bits uint) bool {
		var free uint32
		if bits == 32 {
			free = 0xffffffff
		} else {
			free = uint32(1)<<bits - 1
		}
		fixed := base & mask &^ free
		hi := fixed | (mask & free)
		allTrue, allFalse := blockVerdict(op, fixed, hi, mask&free, k)
		last := base | free
		switch {
		case allTrue:
			t = t.appendInterval(base, last)
		case allFalse:
			f = f.appendInterval(base, last)
		default:
			if bits == 0 {
				panic("unreachable: a single value has a verdict")
			}
			if !walk(base, bits-1) || !walk(base|uint32(1)<<(bits-1), bits-1) {
				return false
			}
		}
		return len(t)+len(f) <= maxSplitIntervals
	}
	for _, iv := range s {
		// Decompose [First, Last] into maximal aligned blocks.
		v := uint64(iv.First)
		for v <= uint64(iv.Last) {
			bits := uint(0)
			for bits < 32 && v&(uint64(1)<<bits) == 0 && v+(uint64(1)<<(bits+1))-1 <= uint64(iv.Last) {
				bits++
			}
			if !walk(uint32(v), bits) {
				return nil, nil, false
			}
			v += uint64(1) << bits
		}
	}
	return t, f, true
}

// blockVerdict decides (v & mask) op k over a block whose masked values are
// fixed | (any subset of varying): lo = fixed, hi = fixed|varying.
func blockVerdict(op CmpOp, lo, hi, varying, k uint32) (allTrue, allFalse bool) {
	switch op {
	case OpEQ:
		if lo == hi {
			return lo == k, lo != k
		}
		// Equality is possible only if k agrees with the fixed bits and
		// sets no bit outside them and the varying ones.
		possible := k&^varying == lo
		return false, !possible
	case OpGT:
		return lo > k, hi <= k
	case OpGE:
		return lo >= k, hi < k
	}
	panic("blockVerdict: unexpected operator")
}

// Minus returns the values of s that are not in o.
func (s IntervalSet) Minus(o IntervalSet) IntervalSet {
	if len(o) == 0 {
		return s
	}
	var out IntervalSet
	j := 0
	for _, iv := range s {
		first := uint64(iv.First)
		for j < len(o) && o[j].Last < iv.First {
			j++
		}
		k := j
		for ; k < len(o) && o[k].First <= iv.Last && first <= uint64(iv.Last); k++ {
			if uint64(o[k].First) > first {
				out = out.appendInterval(uint32(first), o[k].First-1)
			}
			first = uint64(o[k].Last) + 1
		}
		if first <= uint64(iv.Last) {
			out = out.appendInterval(uint32(first), iv.Last)
		}
	}
	return out
}

// Union returns the values in either set.
func (s IntervalSet) Union(o IntervalSet) IntervalSet {
	out := make(IntervalSet, 0, len(s)+len(o))
	i, j := 0, 0
	for i < len(s) || j < len(o) {
		var iv Interval
		if j == len(o) || i < len(s) && s[i].First <= o[j].First {
			iv, i = s[i], i+1
		} else {
			iv, j = o[j], j+1
		}
		if n := len(out); n > 0 && out[n-1].Last >= iv.First {
			out[n-1].Last = max(out[n-1].Last, iv.Last)
			continue
		}
		out = out.appendInterval(iv.First, iv.Last)
	}
	return out
}
