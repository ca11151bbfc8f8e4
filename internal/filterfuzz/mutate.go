package filterfuzz

import (
	"fmt"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// Mutation is what Mutate did to a program.
type Mutation struct {
	// Focus holds the constants the mutation removed or introduced:
	// inputs around them are where the mutated program behaves
	// differently, so Inputs keeps them all.
	Focus []uint32
	// Steps says what changed, for failure messages.
	Steps []string
}

// Mutate applies one to three edits chosen by ops to a copy of prog, the
// edits a filter suffers between a reviewed profile and what a runtime
// loads: a RET's action, a jump offset, a compared constant, an arch
// check, an added argument compare, two syscall numbers swapped, a loaded
// word, a jump's operator. It returns ok=false when the result is not a
// valid filter.
func Mutate(prog []bpf.Instruction, ops []byte) (out []bpf.Instruction, m Mutation, ok bool) {
	src := NewSource(ops)
	out = append([]bpf.Instruction(nil), prog...)
	for range 1 + src.IntN(3) {
		out = mutateOnce(out, src, &m)
	}
	return out, m, bpf.Validate(out) == nil
}

// indexes returns the positions of the instructions keep selects.
func indexes(prog []bpf.Instruction, keep func(bpf.Instruction) bool) []int {
	var out []int
	for i, in := range prog {
		if keep(in) {
			out = append(out, i)
		}
	}
	return out
}

func isRetK(in bpf.Instruction) bool  { return in.Op == bpf.Ret(bpf.RetK) }
func isCondK(in bpf.Instruction) bool { return in.IsConditionalJump() && in.Src() == bpf.SrcK }
func isJump(in bpf.Instruction) bool  { return in.Class() == bpf.ClassJMP }
func isLoadW(in bpf.Instruction) bool { return in.Op == bpf.Load(bpf.SizeW, bpf.ModeABS) }
func isSyscallNr(k uint32) bool       { return k&^arch.X32SyscallBit < 0x1000 }
func pick(src *Source, idx []int) int { return idx[src.IntN(len(idx))] }

func mutateOnce(prog []bpf.Instruction, src *Source, m *Mutation) []bpf.Instruction {
	n := len(prog)
	note := func(format string, args ...any) { m.Steps = append(m.Steps, fmt.Sprintf(format, args...)) }
	switch src.IntN(8) {
	case 0: // one RET's action
		if rets := indexes(prog, isRetK); len(rets) > 0 {
			i := pick(src, rets)
			old := prog[i].K
			prog[i].K = uint32(pickAction(src))
			note("%d: ret %#x -> %#x", i, old, prog[i].K)
		}
	case 1: // a jump offset
		if js := indexes(prog, isJump); len(js) > 0 {
			i := pick(src, js)
			left := n - 2 - i // the largest valid offset
			off := src.IntN(left + 1)
			if src.IntN(2) == 0 {
				off = min(left, max(0, int(prog[i].Jt)+src.IntN(7)-3))
			}
			switch {
			case prog[i].JumpOp() == bpf.JmpJA:
				note("%d: ja %d -> %d", i, prog[i].K, off)
				prog[i].K = uint32(off)
			case src.IntN(2) == 0:
				note("%d: jt %d -> %d", i, prog[i].Jt, off)
				prog[i].Jt = uint8(min(off, 255))
			default:
				note("%d: jf %d -> %d", i, prog[i].Jf, off)
				prog[i].Jf = uint8(min(off, 255))
			}
		}
	case 2: // a compared constant
		if js := indexes(prog, isCondK); len(js) > 0 {
			i := pick(src, js)
			old := prog[i].K
			switch src.IntN(6) {
			case 0:
				prog[i].K++
			case 1:
				prog[i].K--
			case 2:
				prog[i].K ^= 1 << src.IntN(32)
			case 3:
				prog[i].K = 0
			case 4:
				prog[i].K = 0xffffffff
			default:
				prog[i].K = pickConst(src)
			}
			m.Focus = append(m.Focus, old, prog[i].K)
			note("%d: k %#x -> %#x", i, old, prog[i].K)
		}
	case 3: // an arch check: another arch, a neighbour, another operator
		var js []int
		sources(prog, func(pc int, a, _ uint32) {
			if isCondK(prog[pc]) && a&(1<<wordArch) != 0 {
				js = append(js, pc)
			}
		})
		if len(js) == 0 {
			break
		}
		i := pick(src, js)
		old := prog[i]
		switch src.IntN(4) {
		case 0:
			prog[i].K = auditValues[src.IntN(len(auditValues))]
		case 1:
			prog[i].K += uint32(src.IntN(3)) - 1
		case 2:
			prog[i].K = 0xffffffff
		default:
			prog[i].Op = otherJumpOp(src, old.Op)
		}
		if prog[i] == old {
			prog[i].K ^= 1 // a change, always
		}
		m.Focus = append(m.Focus, old.K, prog[i].K)
		note("%d: arch check %#04x %#x -> %#04x %#x", i, uint16(old.Op), old.K, uint16(prog[i].Op), prog[i].K)
	case 4: // an argument compare in front of a RET
		rets := indexes(prog, isRetK)
		if len(rets) == 0 {
			break
		}
		first := src.IntN(len(rets))
		off := bc.OffsetArgs + 4*uint32(src.IntN(12))
		if src.IntN(8) == 0 {
			off = bc.OffsetIP + 4*uint32(src.IntN(2))
		}
		k := pickConst(src)
		op := bpf.Jump(jumpOps[src.IntN(len(jumpOps))], bpf.SrcK)
		inserted := []bpf.Instruction{LoadWord(off), jump(op, k, 0, 1), Ret(pickAction(src))}
		// The first RET, from the chosen one on, that no jump of more
		// than 255 instructions spans.
		var out []bpf.Instruction
		r, ok := 0, false
		for j := range rets {
			r = rets[(first+j)%len(rets)]
			if out, ok = insertBefore(prog, r, inserted); ok {
				break
			}
		}
		if !ok {
			break
		}
		m.Focus = append(m.Focus, k)
		note("%d: inserted ld [%d]; %#04x %#x -> ret %#x", r, off, uint16(op), k, inserted[2].K)
		return out
	case 5: // two syscall numbers swapped
		js := indexes(prog, func(in bpf.Instruction) bool {
			return in.Op == bpf.Jump(bpf.JmpJEQ, bpf.SrcK) && isSyscallNr(in.K)
		})
		if len(js) < 2 {
			break
		}
		i, j := pick(src, js), pick(src, js)
		prog[i].K, prog[j].K = prog[j].K, prog[i].K
		m.Focus = append(m.Focus, prog[i].K, prog[j].K)
		note("%d, %d: swapped %#x and %#x", i, j, prog[j].K, prog[i].K)
	case 6: // a loaded word
		if ls := indexes(prog, isLoadW); len(ls) > 0 {
			i := pick(src, ls)
			old := prog[i].K
			prog[i].K = pickOffset(src)
			note("%d: ld [%d] -> ld [%d]", i, old, prog[i].K)
		}
	case 7: // a jump's operator
		if js := indexes(prog, isCondK); len(js) > 0 {
			i := pick(src, js)
			old := prog[i].Op
			prog[i].Op = otherJumpOp(src, old)
			m.Focus = append(m.Focus, prog[i].K)
			note("%d: op %#04x -> %#04x (k %#x)", i, uint16(old), uint16(prog[i].Op), prog[i].K)
		}
	}
	return prog
}

// otherJumpOp chooses a conditional jump operator other than op's.
func otherJumpOp(src *Source, op bpf.Opcode) bpf.Opcode {
	var others []bpf.JumpOp
	for _, o := range []bpf.JumpOp{bpf.JmpJEQ, bpf.JmpJGT, bpf.JmpJGE, bpf.JmpJSET} {
		if o != op.JumpOp() {
			others = append(others, o)
		}
	}
	return bpf.Jump(others[src.IntN(len(others))], op.Src())
}

// insertBefore puts ins in front of position r; jumps from before r to
// beyond it are lengthened (targets at r now reach the inserted code).
// It fails when a conditional jump would need an offset above 255.
func insertBefore(prog []bpf.Instruction, r int, ins []bpf.Instruction) ([]bpf.Instruction, bool) {
	out := make([]bpf.Instruction, 0, len(prog)+len(ins))
	out = append(out, prog[:r]...)
	grow := uint32(len(ins))
	for i := range out {
		in := &out[i]
		if in.Class() != bpf.ClassJMP {
			continue
		}
		if in.JumpOp() == bpf.JmpJA {
			if i+1+int(in.K) > r {
				in.K += grow
			}
			continue
		}
		for _, off := range []*uint8{&in.Jt, &in.Jf} {
			if i+1+int(*off) > r {
				if int(*off)+int(grow) > 255 {
					return nil, false
				}
				*off += uint8(grow)
			}
		}
	}
	out = append(out, ins...)
	return append(out, prog[r:]...), true
}
