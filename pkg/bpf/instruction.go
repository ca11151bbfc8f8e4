package bpf

import (
	"encoding/binary"
	"fmt"
)

// Instruction is one struct sock_filter: {code, jt, jf, k}.
type Instruction struct {
	Op Opcode
	Jt uint8
	Jf uint8
	K  uint32
}

// InstructionSize is sizeof(struct sock_filter).
const InstructionSize = 8

// MaxInstructions is BPF_MAXINSNS, the kernel's limit for one filter.
const MaxInstructions = 4096

// ScratchSlots is BPF_MEMWORDS, the number of scratch memory words.
const ScratchSlots = 16

// Class returns the instruction class (BPF_CLASS).
func (in Instruction) Class() Class { return in.Op.Class() }

// Size returns the load size (BPF_SIZE).
func (in Instruction) Size() Size { return in.Op.Size() }

// Mode returns the addressing mode (BPF_MODE).
func (in Instruction) Mode() Mode { return in.Op.Mode() }

// AluOp returns the operation of an ALU instruction (BPF_OP).
func (in Instruction) AluOp() AluOp { return in.Op.AluOp() }

// JumpOp returns the operation of a jump (BPF_OP).
func (in Instruction) JumpOp() JumpOp { return in.Op.JumpOp() }

// Src returns the operand source (BPF_SRC): SrcK or SrcX.
func (in Instruction) Src() Src { return in.Op.Src() }

// RetSrc returns the return value source (BPF_RVAL): RetK or RetA.
func (in Instruction) RetSrc() RetSrc { return in.Op.RetSrc() }

// MiscOp returns the BPF_MISCOP field.
func (in Instruction) MiscOp() MiscOp { return in.Op.MiscOp() }

// IsConditionalJump reports whether the instruction is JEQ, JGT, JGE or JSET.
func (in Instruction) IsConditionalJump() bool {
	return in.Class() == ClassJMP && in.JumpOp() != JmpJA
}

// Decode parses raw struct sock_filter bytes (host byte order, little-endian
// on the architectures this project supports). It checks only the framing;
// use Validate for the kernel's rules.
func Decode(raw []byte) ([]Instruction, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("decode filter: empty input")
	}
	// The size comes before the framing: an input cut at the limit (read
	// through a limit reader) is too long, not misaligned.
	if len(raw) > MaxInstructions*InstructionSize {
		return nil, fmt.Errorf("decode filter: %d bytes exceeds the kernel limit of %d instructions (%d bytes)",
			len(raw), MaxInstructions, MaxInstructions*InstructionSize)
	}
	if len(raw)%InstructionSize != 0 {
		return nil, fmt.Errorf("decode filter: %d bytes is not a multiple of %d (struct sock_filter)", len(raw), InstructionSize)
	}
	n := len(raw) / InstructionSize
	prog := make([]Instruction, n)
	for i := range prog {
		b := raw[i*InstructionSize:]
		prog[i] = Instruction{
			Op: Opcode(binary.LittleEndian.Uint16(b[0:2])),
			Jt: b[2],
			Jf: b[3],
			K:  binary.LittleEndian.Uint32(b[4:8]),
		}
	}
	return prog, nil
}

// Encode returns the raw struct sock_filter bytes of prog.
func Encode(prog []Instruction) []byte {
	raw := make([]byte, len(prog)*InstructionSize)
	for i, in := range prog {
		b := raw[i*InstructionSize:]
		binary.LittleEndian.PutUint16(b[0:2], uint16(in.Op))
		b[2] = in.Jt
		b[3] = in.Jf
		binary.LittleEndian.PutUint32(b[4:8], in.K)
	}
	return raw
}
