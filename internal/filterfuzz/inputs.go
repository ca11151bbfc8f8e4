package filterfuzz

import (
	"math/bits"
	"slices"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

const words = bc.DataSize / 4 // 32-bit words of seccomp_data

// Word indexes of nr and arch.
const (
	wordNr   = bc.OffsetNr / 4
	wordArch = bc.OffsetArch / 4
)

// Where a register's value comes from, as a bit set: bit w for word w of
// seccomp_data (maybe masked), plus these.
const (
	fromConst    = 1 << words
	fromComputed = 1 << (words + 1) // arithmetic, scratch memory: any word
)

// constants are the values a program compares each word of seccomp_data
// with, found by a forward pass over the program that tracks which words
// A and X may hold.
type constants struct {
	word    [words]map[uint32]bool
	generic map[uint32]bool // compared with a computed value: any word
	exact   [words]map[uint32]bool
}

func newConstants() *constants {
	c := &constants{generic: map[uint32]bool{}}
	for w := range c.word {
		c.word[w] = map[uint32]bool{}
		c.exact[w] = map[uint32]bool{}
	}
	return c
}

// add records that the words in from are compared with k by op.
func (c *constants) add(from uint32, op bpf.JumpOp, k uint32) {
	vals := []uint32{k - 1, k, k + 1}
	if op == bpf.JmpJSET {
		// The values with none, one and all of the tested bits.
		vals = append(vals, ^k, k&-k, 1<<(31-bits.LeadingZeros32(k|1)))
	}
	for w := range words {
		if from&(1<<w) != 0 {
			for _, v := range vals {
				c.word[w][v] = true
			}
			c.exact[w][k] = true
		}
	}
	if from&fromComputed != 0 {
		for _, v := range vals {
			c.generic[v] = true
		}
	}
}

// addMask records that the words in from are masked with m.
func (c *constants) addMask(from uint32, m uint32) {
	for w := range words {
		if from&(1<<w) != 0 {
			for _, v := range []uint32{m, ^m, m & -m, 1 << (31 - bits.LeadingZeros32(m|1))} {
				c.word[w][v] = true
			}
		}
	}
}

// sources tracks where A and X may come from at each instruction, by a
// forward pass (jumps only go forward, so one pass in order suffices).
// It also reports, to visit, each reachable instruction with the state it
// runs in.
func sources(prog []bpf.Instruction, visit func(pc int, a, x uint32)) {
	type regs struct{ a, x uint32 }
	states := make([]regs, len(prog)+1)
	reached := make([]bool, len(prog)+1)
	states[0], reached[0] = regs{fromConst, fromConst}, true
	flow := func(to int, st regs) {
		if to < len(states) {
			states[to].a |= st.a
			states[to].x |= st.x
			reached[to] = true
		}
	}
	for pc, in := range prog {
		if !reached[pc] {
			continue
		}
		st := states[pc]
		if visit != nil {
			visit(pc, st.a, st.x)
		}
		switch in.Class() {
		case bpf.ClassLD, bpf.ClassLDX:
			v := uint32(fromConst)
			switch in.Mode() {
			case bpf.ModeABS:
				v = 1 << (in.K / 4)
			case bpf.ModeMEM:
				v = fromComputed
			}
			if in.Class() == bpf.ClassLD {
				st.a = v
			} else {
				st.x = v
			}
		case bpf.ClassMISC:
			if in.MiscOp() == bpf.MiscTAX {
				st.x = st.a
			} else {
				st.a = st.x
			}
		case bpf.ClassALU:
			// AND with a constant keeps the word (masked); other
			// arithmetic on a word or with X computes a new value.
			if !(in.AluOp() == bpf.AluAND && in.Src() == bpf.SrcK) && (st.a != fromConst || in.Src() == bpf.SrcX) {
				st.a = fromComputed
			}
		case bpf.ClassRET:
			continue
		case bpf.ClassJMP:
			if in.JumpOp() == bpf.JmpJA {
				flow(pc+1+int(in.K), st)
			} else {
				flow(pc+1+int(in.Jt), st)
				flow(pc+1+int(in.Jf), st)
			}
			continue
		}
		flow(pc+1, st)
	}
}

// scan collects the constants of prog.
func (c *constants) scan(prog []bpf.Instruction) {
	var imm []uint32 // every immediate: what X may hold
	for _, in := range prog {
		if in.Class() == bpf.ClassLD || in.Class() == bpf.ClassLDX || in.Class() == bpf.ClassALU {
			imm = append(imm, in.K)
		}
	}
	sources(prog, func(pc int, a, x uint32) {
		in := prog[pc]
		switch {
		case in.Class() == bpf.ClassALU && in.AluOp() == bpf.AluAND && in.Src() == bpf.SrcK:
			c.addMask(a, in.K)
		case in.IsConditionalJump() && in.Src() == bpf.SrcK:
			c.add(a, in.JumpOp(), in.K)
		case in.IsConditionalJump():
			// A compared with X: any immediate may be on either side.
			for _, k := range imm {
				c.add(a|x|fromComputed, in.JumpOp(), k)
			}
		}
	})
}

// values returns the candidates for word w: the extremes and everything
// the programs compare it with.
func (c *constants) values(w int, extra []uint32) []uint32 {
	out := []uint32{0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff}
	for v := range c.word[w] {
		out = append(out, v)
	}
	for v := range c.generic {
		out = append(out, v)
	}
	out = append(out, extra...)
	slices.Sort(out)
	return slices.Compact(out)
}

// InputOptions bounds and steers Inputs.
type InputOptions struct {
	// Limit bounds the inputs returned (0: all): a limited set keeps
	// every so many inputs, from an offset Salt chooses, half of them at
	// Focus pairs, so that those are sampled much more densely.
	Limit int
	Salt  uint64
	// Focus values (and their neighbours) are tried as arch, nr and
	// argument words on every vector.
	Focus []uint32
	// OnlyArch keeps only inputs with this arch value (0: all).
	OnlyArch uint32
}

// maxVectors bounds the argument vectors of one (arch, nr) pair.
const maxVectors = 48

// Inputs returns the boundary inputs of the programs: every arch value
// and syscall number the programs compare with, their neighbours, 0 and
// 0xffffffff, the x32 form of each number, the edges of the tables' rows;
// for the (arch, nr) pairs the programs test exactly, argument vectors
// that try every compared constant (and its neighbours) in each argument
// word, with high words 0 and then set. The result is deterministic.
func Inputs(progs [][]bpf.Instruction, tables []*bc.Table, opt InputOptions) []bc.Data {
	c := newConstants()
	for _, p := range progs {
		c.scan(p)
	}
	var focus []uint32
	for _, v := range opt.Focus {
		focus = append(focus, v-1, v, v+1)
	}
	archExtra, nrExtra := slices.Clone(focus), slices.Clone(focus)
	for _, t := range tables {
		if t == nil {
			continue
		}
		for _, at := range t.Arches {
			for _, iv := range at.Values {
				archExtra = append(archExtra, iv.First-1, iv.First, iv.Last, iv.Last+1)
			}
			nrExtra = append(nrExtra, rowEdges(&at)...)
		}
	}
	for v := range c.word[wordNr] {
		// Each number as native and as x32 (same AUDIT_ARCH value).
		nrExtra = append(nrExtra, v^arch.X32SyscallBit)
	}
	nrExtra = append(nrExtra, arch.X32SyscallBit-1, arch.X32SyscallBit, 0xbfffffff, 0xc0000000)
	archs := c.values(wordArch, archExtra)
	nrs := c.values(wordNr, nrExtra)
	if opt.OnlyArch != 0 {
		archs = []uint32{opt.OnlyArch}
	}

	// Argument words: their own candidates, and how many vectors it takes
	// to try each in turn.
	var argWords [words][]uint32
	need := 0
	for w := bc.OffsetIP / 4; w < words; w++ {
		argWords[w] = c.values(w, focus)
		if len(c.word[w]) > 0 || len(c.generic) > 0 || len(focus) > 0 {
			need = max(need, len(argWords[w]))
		}
	}
	need = min(need, maxVectors/2)

	isFocus := map[uint32]bool{}
	for _, v := range focus {
		isFocus[v] = true
	}
	// Pairs the programs test exactly get every vector; a program that
	// never tests the arch (or nr) tests every value alike.
	exactArch := func(v uint32) bool {
		return len(c.exact[wordArch]) == 0 || c.exact[wordArch][v] || isFocus[v]
	}
	exactNr := func(v uint32) bool {
		return len(c.exact[wordNr]) == 0 || c.exact[wordNr][v] || c.exact[wordNr][v^arch.X32SyscallBit] || isFocus[v]
	}

	type pair struct {
		arch, nr uint32
		vectors  int
		focus    bool
	}
	var pairs []pair
	total, focusTotal := 0, 0
	for _, a := range archs {
		for _, nr := range nrs {
			p := pair{arch: a, nr: nr, vectors: 2}
			if exactArch(a) && exactNr(nr) {
				p.vectors += 2 * need
			}
			p.focus = isFocus[a] || isFocus[nr]
			pairs = append(pairs, p)
			total += p.vectors
			if p.focus {
				focusTotal += p.vectors
			}
		}
	}
	// A limited set takes every stride-th input, from an offset the salt
	// chooses; focus pairs get a stride of their own.
	stride, focusStride := 1, 1
	if half := max(1, opt.Limit/2); opt.Limit > 0 && total > opt.Limit {
		stride = (total + half - 1) / half
		focusStride = max(1, (focusTotal+half-1)/half)
	}
	var out []bc.Data
	k := 0
	for _, p := range pairs {
		for j := range p.vectors {
			s := stride
			if p.focus {
				s = focusStride
			}
			if (uint64(k)+opt.Salt)%uint64(s) == 0 {
				out = append(out, vector(p.arch, p.nr, j, &argWords))
			}
			k++
		}
	}
	return out
}

// vector is argument vector j of an (arch, nr) pair: 0 all zero, 1 all
// ones, then each word's candidates in turn, first with the high words
// (and the instruction pointer's) 0, then with them set.
func vector(a, nr uint32, j int, cands *[words][]uint32) bc.Data {
	d := bc.Data{Arch: a, Nr: nr}
	if j == 1 {
		d.InstructionPointer = ^uint64(0)
		for i := range d.Args {
			d.Args[i] = ^uint64(0)
		}
	}
	if j < 2 {
		return d
	}
	j -= 2
	highSet := j%2 == 1
	j /= 2
	word := func(w int) uint64 {
		vs := cands[w]
		// Shifting each word's start keeps vectors from repeating one
		// value in every word.
		return uint64(vs[(j+w)%len(vs)])
	}
	d.InstructionPointer = word(bc.OffsetIP / 4)
	if highSet {
		d.InstructionPointer |= word(bc.OffsetIP/4+1) << 32
	}
	for i := range d.Args {
		lo := bc.OffsetArgs/4 + 2*i
		d.Args[i] = word(lo)
		if highSet {
			d.Args[i] |= word(lo+1) << 32
		}
	}
	return d
}

// rowEdges returns the numbers around every change of rules in an arch
// table (rows of one region share their rule slice).
func rowEdges(at *bc.ArchTable) []uint32 {
	var out []uint32
	for i, sr := range at.Syscalls {
		if i > 0 && sameRules(at.Syscalls[i-1].Rules, sr.Rules) {
			continue
		}
		out = append(out, sr.First-1, sr.First)
		if i > 0 {
			out = append(out, at.Syscalls[i-1].Last)
		}
	}
	if n := len(at.Syscalls); n > 0 {
		out = append(out, at.Syscalls[n-1].Last, at.Syscalls[n-1].Last+1)
	}
	return out
}

func sameRules(a, b []bc.Rule) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
