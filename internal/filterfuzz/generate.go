// Package filterfuzz is the differential fuzzing kit of pkg/bytecode and
// pkg/compare: seccomp programs generated from fuzz bytes or mutated from
// captured filters, the boundary inputs to run them on, and checks of the
// engine (decision table, paths) against the concrete evaluator and, on
// Linux, of the evaluator against the running kernel. Only tests import it.
package filterfuzz

import (
	"encoding/binary"
	"errors"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// Source hands out the bytes of a fuzz input as choices. Past the end it
// returns zeros, so every input, however short, means one program.
type Source struct {
	b []byte
	i int
}

// NewSource reads choices from b.
func NewSource(b []byte) *Source { return &Source{b: b} }

// Byte returns the next byte, 0 past the end.
func (s *Source) Byte() byte {
	if s.i >= len(s.b) {
		return 0
	}
	s.i++
	return s.b[s.i-1]
}

// Uint32 returns the next four bytes, little-endian.
func (s *Source) Uint32() uint32 {
	var w [4]byte
	for i := range w {
		w[i] = s.Byte()
	}
	return binary.LittleEndian.Uint32(w[:])
}

// IntN returns a choice in [0, n); n must be positive.
func (s *Source) IntN(n int) int {
	if n <= 256 {
		return int(s.Byte()) % n
	}
	return int(uint32(s.Byte())|uint32(s.Byte())<<8|uint32(s.Byte())<<16) % n
}

// Instruction shorthands.
func stmt(op bpf.Opcode, k uint32) bpf.Instruction { return bpf.Instruction{Op: op, K: k} }

func jump(op bpf.Opcode, k uint32, jt, jf uint8) bpf.Instruction {
	return bpf.Instruction{Op: op, Jt: jt, Jf: jf, K: k}
}

// LoadWord is `ld [off]`.
func LoadWord(off uint32) bpf.Instruction { return stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), off) }

// Ret is `ret #action`.
func Ret(a bc.Action) bpf.Instruction { return stmt(bpf.Ret(bpf.RetK), uint32(a)) }

// auditValues are the AUDIT_ARCH values of the known architectures.
var auditValues = func() []uint32 {
	var out []uint32
	seen := map[uint32]bool{}
	for _, a := range arch.All {
		if !seen[a.Audit] {
			seen[a.Audit] = true
			out = append(out, a.Audit)
		}
	}
	return out
}()

// pickAction chooses a return value: every action, data at the limits of
// what the kernel keeps (errno above 4095 is capped), values no action has
// (the kernel kills the process), and raw random values.
func pickAction(src *Source) bc.Action {
	switch src.IntN(16) {
	case 0, 1, 2:
		return bc.ActAllow
	case 3, 4:
		return bc.ActErrno | bc.Action([]uint32{1, 13, 38, 4095, 4096, 0xffff}[src.IntN(6)])
	case 5:
		return bc.ActKillProcess
	case 6:
		return bc.ActKillThread
	case 7:
		return bc.ActTrap | bc.Action(src.IntN(3))
	case 8:
		return bc.ActTrace | bc.Action(src.IntN(3))
	case 9:
		return bc.ActLog
	case 10:
		return bc.ActUserNotif
	case 11:
		// Not an action: the kernel kills the process (and a stack
		// compares the raw bits, see Action.Stronger).
		return bc.Action([]uint32{0x00010000, 0x7ffe0000, 0x00040000, 0xfff00000}[src.IntN(4)])
	case 12:
		return bc.ActAllow | bc.Action(1+src.IntN(0xffff))
	case 13:
		return bc.ActErrno | 1
	case 14:
		return bc.ActKillProcess | 5
	}
	return bc.Action(src.Uint32())
}

// pickOffset chooses a word of seccomp_data to load: nr and arch most
// often, as real filters do.
func pickOffset(src *Source) uint32 {
	switch r := src.IntN(10); {
	case r < 3:
		return bc.OffsetNr
	case r < 5:
		return bc.OffsetArch
	case r == 5:
		return bc.OffsetIP + 4*uint32(src.IntN(2))
	}
	return bc.OffsetArgs + 4*uint32(src.IntN(12))
}

// pickConst chooses a constant to compare with or compute from: the
// values where seccomp filters (and their bugs) live.
func pickConst(src *Source) uint32 {
	switch src.IntN(16) {
	case 0:
		return 0
	case 1:
		return 0xffffffff
	case 2, 3:
		return auditValues[src.IntN(len(auditValues))]
	case 4:
		return auditValues[src.IntN(len(auditValues))] + uint32(src.IntN(3)) - 1
	case 5, 6:
		return uint32(src.IntN(512))
	case 7:
		return arch.X32SyscallBit | uint32(src.IntN(512))
	case 8:
		return []uint32{arch.X32SyscallBit, 0x7fffffff, 0x80000000, 0xfffffffe, 1, 0x3fffffff}[src.IntN(6)]
	case 9:
		return 1 << src.IntN(32)
	case 10:
		return []uint32{0xff, 0xffff, 0xffff0000, 0x87, 0x7e020000, 0xfffffff0, 0x80000001}[src.IntN(7)]
	case 11:
		return uint32(pickAction(src))
	}
	return src.Uint32()
}

// pickJump chooses a forward jump offset for an instruction with left
// instructions after it: short jumps mostly, as compiled filters have.
func pickJump(src *Source, left int) uint8 {
	limit := min(left, 256) // targets i+1 .. i+left are valid
	if src.IntN(4) != 0 {
		return uint8(src.IntN(min(limit, 4)))
	}
	return uint8(src.IntN(limit))
}

var aluOps = []bpf.AluOp{bpf.AluAND, bpf.AluAND, bpf.AluAND, bpf.AluADD, bpf.AluSUB, bpf.AluMUL, bpf.AluDIV, bpf.AluOR, bpf.AluLSH, bpf.AluRSH, bpf.AluNEG, bpf.AluXOR}

var jumpOps = []bpf.JumpOp{bpf.JmpJEQ, bpf.JmpJEQ, bpf.JmpJGT, bpf.JmpJGE, bpf.JmpJSET}

// Generate makes a valid seccomp program of 2 to maxLen instructions
// from fuzz bytes, deterministically: loads of nr, arch, arguments and
// the instruction pointer, compares with boundary constants, ALU
// operations, scratch memory, X register moves, RET K with every action
// and RET A.
func Generate(b []byte, maxLen int) []bpf.Instruction {
	src := NewSource(b)
	n := 2 + src.IntN(max(maxLen-1, 1))
	prog := make([]bpf.Instruction, n)
	for i := 0; i < n-1; i++ {
		prog[i] = generateOne(src, n-1-i)
	}
	prog[n-1] = Ret(pickAction(src))
	return Repair(prog)
}

// generateOne makes the instruction at a position with left instructions
// after it.
func generateOne(src *Source, left int) bpf.Instruction {
	switch r := src.IntN(100); {
	case r < 22:
		return LoadWord(pickOffset(src))
	case r < 52:
		op, from := jumpOps[src.IntN(len(jumpOps))], bpf.SrcK
		if src.IntN(8) == 0 {
			from = bpf.SrcX
		}
		return jump(bpf.Jump(op, from), pickConst(src), pickJump(src, left), pickJump(src, left))
	case r < 63:
		return Ret(pickAction(src))
	case r < 72:
		op := aluOps[src.IntN(len(aluOps))]
		k := pickConst(src)
		switch op {
		case bpf.AluLSH, bpf.AluRSH:
			k %= 32
		case bpf.AluDIV:
			k |= 1 // DIV K 0 is refused; DIV X is where 0 happens
		}
		in := stmt(bpf.ALU(op, bpf.SrcK), k)
		if op != bpf.AluNEG && src.IntN(6) == 0 {
			in.Op = bpf.ALU(op, bpf.SrcX)
		}
		return in
	case r < 77:
		return stmt([]bpf.Opcode{bpf.Store, bpf.StoreX}[src.IntN(2)], uint32(src.IntN(4)))
	case r < 81:
		return stmt([]bpf.Opcode{bpf.Load(bpf.SizeW, bpf.ModeMEM), bpf.LoadX(bpf.SizeW, bpf.ModeMEM)}[src.IntN(2)], uint32(src.IntN(4)))
	case r < 85:
		return stmt([]bpf.Opcode{bpf.Misc(bpf.MiscTAX), bpf.Misc(bpf.MiscTXA)}[src.IntN(2)], 0)
	case r < 90:
		op := []bpf.Opcode{bpf.Load(bpf.SizeW, bpf.ModeIMM), bpf.LoadX(bpf.SizeW, bpf.ModeIMM), bpf.Load(bpf.SizeW, bpf.ModeLEN), bpf.LoadX(bpf.SizeW, bpf.ModeLEN)}[src.IntN(4)]
		return stmt(op, pickConst(src))
	case r < 95:
		return stmt(bpf.Jump(bpf.JmpJA, bpf.SrcK), uint32(pickJump(src, left)))
	}
	return stmt(bpf.Ret(bpf.RetA), 0)
}

// Repair makes prog valid by replacing each instruction Validate refuses
// (a read of unwritten scratch memory, a jump past the end) with a load
// of nr, and a last instruction that does not return with RET ALLOW.
func Repair(prog []bpf.Instruction) []bpf.Instruction {
	for range len(prog) + 1 {
		err := bpf.Validate(prog)
		if err == nil {
			return prog
		}
		var ve *bpf.ValidationError
		if !errors.As(err, &ve) || ve.Index < 0 || ve.Index >= len(prog) {
			break
		}
		if ve.Index == len(prog)-1 {
			prog[ve.Index] = Ret(bc.ActAllow)
		} else {
			prog[ve.Index] = LoadWord(bc.OffsetNr)
		}
	}
	if bpf.Validate(prog) != nil {
		return []bpf.Instruction{Ret(bc.ActAllow)}
	}
	return prog
}
