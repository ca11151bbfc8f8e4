package bytecode

import (
	"encoding/binary"
	"fmt"
)

// Instruction is one struct sock_filter: {code, jt, jf, k}.
type Instruction struct {
	Op uint16
	Jt uint8
	Jf uint8
	K  uint32
}

// InstructionSize is sizeof(struct sock_filter).
const InstructionSize = 8

// MaxInstructions is BPF_MAXINSNS, the kernel's limit for one filter.
const MaxInstructions = 4096

// Classic BPF opcode fields (linux/bpf_common.h).
const (
	ClassLD   = 0x00
	ClassLDX  = 0x01
	ClassST   = 0x02
	ClassSTX  = 0x03
	ClassALU  = 0x04
	ClassJMP  = 0x05
	ClassRET  = 0x06
	ClassMISC = 0x07

	SizeW = 0x00
	SizeH = 0x08
	SizeB = 0x10

	ModeIMM = 0x00
	ModeABS = 0x20
	ModeIND = 0x40
	ModeMEM = 0x60
	ModeLEN = 0x80
	ModeMSH = 0xa0

	AluADD = 0x00
	AluSUB = 0x10
	AluMUL = 0x20
	AluDIV = 0x30
	AluOR  = 0x40
	AluAND = 0x50
	AluLSH = 0x60
	AluRSH = 0x70
	AluNEG = 0x80
	AluMOD = 0x90
	AluXOR = 0xa0

	JmpJA   = 0x00
	JmpJEQ  = 0x10
	JmpJGT  = 0x20
	JmpJGE  = 0x30
	JmpJSET = 0x40

	SrcK = 0x00
	SrcX = 0x08

	RetK = 0x00
	RetA = 0x10

	MiscTAX = 0x00
	MiscTXA = 0x80
)

// ScratchSlots is BPF_MEMWORDS, the number of scratch memory words.
const ScratchSlots = 16

// Class returns the instruction class (BPF_CLASS).
func (in Instruction) Class() uint16 { return in.Op & 0x07 }

// Size returns the load size (BPF_SIZE).
func (in Instruction) Size() uint16 { return in.Op & 0x18 }

// Mode returns the addressing mode (BPF_MODE).
func (in Instruction) Mode() uint16 { return in.Op & 0xe0 }

// AluOp returns the ALU or jump operation (BPF_OP).
func (in Instruction) AluOp() uint16 { return in.Op & 0xf0 }

// Src returns the operand source (BPF_SRC): SrcK or SrcX.
func (in Instruction) Src() uint16 { return in.Op & 0x08 }

// RetSrc returns the return value source (BPF_RVAL): RetK or RetA.
func (in Instruction) RetSrc() uint16 { return in.Op & 0x18 }

// MiscOp returns the BPF_MISCOP field.
func (in Instruction) MiscOp() uint16 { return in.Op & 0xf8 }

// IsConditionalJump reports whether the instruction is JEQ, JGT, JGE or JSET.
func (in Instruction) IsConditionalJump() bool {
	return in.Class() == ClassJMP && in.AluOp() != JmpJA
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
			Op: binary.LittleEndian.Uint16(b[0:2]),
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
		binary.LittleEndian.PutUint16(b[0:2], in.Op)
		b[2] = in.Jt
		b[3] = in.Jf
		binary.LittleEndian.PutUint32(b[4:8], in.K)
	}
	return raw
}
