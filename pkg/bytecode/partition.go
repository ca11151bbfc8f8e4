package bytecode

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
)

// region is a set of values on which the same leaves apply: their sorted
// indexes are arena[first:end] of its partitioning (offsets, not a slice:
// regions hold no pointers for the collector to trace or clear).
type region struct{ first, end int }

// run is a maximal interval of values that all fall in one region.
type run struct {
	Interval
	region int
}

func (r run) String() string { return fmt.Sprintf("%#x-%#x:r%d", r.First, r.Last, r.region) }

// partitioning is the 32-bit space split by which leaves contain each
// value: one region per distinct set of leaves, in order of their lowest
// value, and the runs that make up the regions in ascending order (values
// no leaf contains are in no run).
type partitioning struct {
	regions []region
	runs    []run
	arena   []int // the regions' leaves
}

// leaves returns the sorted indexes of the leaves of region r.
func (p *partitioning) leaves(r int) []int {
	reg := p.regions[r]
	return p.arena[reg.first:reg.end:reg.end]
}

// reset empties p, keeping its memory.
func (p *partitioning) reset() {
	p.regions, p.runs, p.arena = p.regions[:0], p.runs[:0], p.arena[:0]
}

// size is the length of p's largest buffer.
func (p *partitioning) size() int { return max(cap(p.regions), cap(p.runs), cap(p.arena)) }

// valueSets returns the values of each region.
func (p *partitioning) valueSets() []IntervalSet {
	out := make([]IntervalSet, len(p.regions))
	for _, r := range p.runs {
		out[r.region] = out[r.region].appendInterval(r.First, r.Last)
	}
	return out
}

// partitioner computes partitionings, keeping its scratch memory from one
// to the next (a table partitions the arch values once and the numbers
// once per arch region).
type partitioner struct {
	// members are the leaves in the order visited; group g is
	// members[groups[g]:groups[g+1]].
	members, groups []int
	events, scratch []uint64
	active          []int // sorted groups containing the current value
	// bySingle maps a group to its single-group region (+1; 0 = none
	// yet): most values are reached by one path, so those need no key.
	bySingle []int32
	byKey    map[string]int
	key      []byte
}

// maxPartitionLeaves bounds the leaves partition can index: events pack
// the group index into the bits below the value. The analysis budget
// keeps real counts far below it.
const maxPartitionLeaves = 1 << 26

// size is the length of pt's largest buffer.
func (pt *partitioner) size() int {
	return max(cap(pt.members), cap(pt.groups), cap(pt.events), cap(pt.scratch), cap(pt.active), cap(pt.bySingle), cap(pt.key))
}

// partition splits the 32-bit space into regions by which of the given
// leaves (all leaves when subset is nil; subset ascending) contain each
// value. Values with the same leaves are one region, so there is one
// region per distinct behaviour. It writes the result over p, reusing
// its memory.
func (pt *partitioner) partition(p *partitioning, leaves []leaf, domain func(*leaf) IntervalSet, subset []int) {
	if len(leaves) > maxPartitionLeaves {
		panic(fmt.Sprintf("partition: %d leaves, more than the analysis budget allows", len(leaves)))
	}
	// Consecutive leaves with the very same set (the paths below one arch
	// test share its memory) form one group and one pair of events per
	// interval. Groups follow the leaves' order, so the leaves of
	// ascending groups, one group after the other, are ascending.
	size := len(leaves)
	if subset != nil {
		size = len(subset)
	}
	pt.members, pt.groups = slices.Grow(pt.members[:0], size), pt.groups[:0]
	var prev IntervalSet
	n := 0
	visit := func(i int) {
		if d := domain(&leaves[i]); len(pt.groups) == 0 || !sameSet(d, prev) {
			pt.groups = append(pt.groups, len(pt.members))
			n += len(d)
			prev = d
		}
		pt.members = append(pt.members, i)
	}
	if subset == nil {
		for i := range leaves {
			visit(i)
		}
	} else {
		for _, i := range subset {
			visit(i)
		}
	}
	groups := len(pt.groups)
	pt.groups = append(pt.groups, len(pt.members))

	// An event packs value (33 bits: an interval ends after it), exit (0)
	// before entry (1) at the same value, and the group, so that sorting
	// integers orders them.
	idBits := uint(bits.Len(uint(groups)))
	enterBit := uint64(1) << idBits
	shift := idBits + 1
	events := slices.Grow(pt.events[:0], 2*n)
	for g := range groups {
		for _, iv := range domain(&leaves[pt.members[pt.groups[g]]]) {
			events = append(events,
				uint64(iv.First)<<shift|enterBit|uint64(g),
				(uint64(iv.Last)+1)<<shift|uint64(g))
		}
	}
	pt.events = events[:0] // keep the grown buffer
	pt.scratch = slices.Grow(pt.scratch[:0], len(events))[:len(events)]
	// Events at one value may come in any order: sort on the value and
	// the entry bit only.
	events = pt.sortEvents(events, idBits, 34+idBits)
	if cap(pt.bySingle) < groups {
		pt.bySingle = make([]int32, groups)
	}
	bySingle := pt.bySingle[:groups]
	if pt.byKey == nil {
		pt.byKey = map[string]int{}
	}

	// Sized for the common case, where each group is a region and each
	// interval a run: growing them was half the cost of a partition.
	p.reset()
	p.regions = slices.Grow(p.regions, groups)
	p.runs = slices.Grow(p.runs, n+1)
	arena := slices.Grow(p.arena, len(pt.members))
	active := pt.active[:0]
	for i := 0; i < len(events); {
		at := events[i] >> shift
		for ; i < len(events) && events[i]>>shift == at; i++ {
			g := int(events[i] & (enterBit - 1))
			// active is short (the groups of one number): move by hand
			// rather than through slices.Insert and Delete, which cost
			// more than the move here.
			pos, found := slices.BinarySearch(active, g)
			switch {
			case events[i]&enterBit != 0 && !found:
				active = append(active, g)
				if pos < len(active)-1 {
					copy(active[pos+1:], active[pos:])
					active[pos] = g
				}
			case events[i]&enterBit == 0 && found:
				if pos < len(active)-1 {
					copy(active[pos:], active[pos+1:])
				}
				active = active[:len(active)-1]
			}
		}
		if len(active) == 0 || at > 0xffffffff {
			continue
		}
		end := uint64(1) << 32
		if i < len(events) {
			end = events[i] >> shift
		}
		r, ok := 0, false
		if len(active) == 1 {
			r, ok = int(bySingle[active[0]])-1, bySingle[active[0]] != 0
		} else {
			pt.key = groupKey(pt.key[:0], active)
			r, ok = pt.byKey[string(pt.key)]
		}
		if !ok {
			r = len(p.regions)
			if len(active) == 1 {
				bySingle[active[0]] = int32(r + 1)
			} else {
				pt.byKey[string(pt.key)] = r
			}
			first := len(arena)
			for _, g := range active {
				arena = append(arena, pt.members[pt.groups[g]:pt.groups[g+1]]...)
			}
			p.regions = append(p.regions, region{first, len(arena)})
		}
		p.runs = append(p.runs, run{Interval{uint32(at), uint32(end - 1)}, r})
	}
	p.arena = arena
	// Leave the scratch memory clean for the next call.
	clear(bySingle)
	clear(pt.byKey)
	pt.active = active[:0]
}

// sameSet reports whether a and b are the same memory (not merely equal).
func sameSet(a, b IntervalSet) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// groupKey appends the identity of a sorted set of groups to b.
func groupKey(b []byte, ids []int) []byte {
	for _, id := range ids {
		b = append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	}
	return b
}

// sortEvents sorts keys (all below 1<<highBit) by their bits from lowBit
// up, as radixSort, and returns the sorted slice (keys or pt.scratch).
// Leaves mostly come in the order of the numbers they test (runtimes
// compile chains of tests in order) and the few catch-all leaves last, so
// the keys are mostly a long ascending run and a short rest: that rest is
// sorted apart and merged in. Otherwise a radix sort is faster.
func (pt *partitioner) sortEvents(keys []uint64, lowBit, highBit uint) []uint64 {
	ordered := 1
	for ordered < len(keys) && keys[ordered]>>lowBit >= keys[ordered-1]>>lowBit {
		ordered++
	}
	if ordered >= len(keys) {
		return keys
	}
	rest := keys[ordered:]
	if len(rest) > len(keys)/4 {
		return radixSort(keys, pt.scratch, lowBit, highBit)
	}
	rest = radixSort(rest, pt.scratch[ordered:], lowBit, highBit)
	// Merge into scratch from the front: the run stays in keys, and the
	// rest, wherever the sort left it, lies behind what the merge has
	// written so far.
	run, merged := keys[:ordered], pt.scratch[:0]
	i, j := 0, 0
	for i < len(run) && j < len(rest) {
		if rest[j]>>lowBit < run[i]>>lowBit {
			merged = append(merged, rest[j])
			j++
		} else {
			merged = append(merged, run[i])
			i++
		}
	}
	return append(append(merged, run[i:]...), rest[j:]...)
}

// radixSort sorts keys (all below 1<<highBit) by their bits from lowBit
// up, using scratch (at least as long as keys), and returns the sorted
// slice: keys or scratch. Keys equal in those bits may end in any order.
// By bytes: as fast as sorting by comparisons on a real table's thousands
// of events, and linear in their number in any order (a hostile filter's
// millions); bytes all keys share cost one counting pass.
func radixSort(keys, scratch []uint64, lowBit, highBit uint) []uint64 {
	if len(keys) < 64 {
		slices.SortFunc(keys, func(a, b uint64) int { return cmp.Compare(a>>lowBit, b>>lowBit) })
		return keys
	}
	src, dst := keys, scratch[:len(keys)]
	for shift := lowBit; shift < highBit; shift += 8 {
		var count [256]int
		for _, k := range src {
			count[byte(k>>shift)]++
		}
		if count[byte(src[0]>>shift)] == len(src) {
			continue
		}
		sum := 0
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for _, k := range src {
			d := byte(k >> shift)
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	return src
}
