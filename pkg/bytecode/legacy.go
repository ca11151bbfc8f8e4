package bytecode

import "github.com/seccomp-attest/seccomp-attest/pkg/bpf"

// The instruction model moved to package bpf, with a type for each opcode
// field. These untyped names keep the files that other changes are moving
// out of this package (the OCI writer, the process reader) and their
// importers building until they import bpf; delete this file then.

// Deprecated: use bpf.Instruction.
type Instruction = bpf.Instruction

// Deprecated: use bpf.Opcode.
type Opcode = bpf.Opcode

// Deprecated: use bpf.ValidationError.
type ValidationError = bpf.ValidationError

// Deprecated: use the constants of package bpf.
const (
	InstructionSize = bpf.InstructionSize
	MaxInstructions = bpf.MaxInstructions
	ScratchSlots    = bpf.ScratchSlots
)

// Deprecated: use bpf.Decode.
func Decode(raw []byte) ([]bpf.Instruction, error) { return bpf.Decode(raw) }

// Deprecated: use bpf.Encode.
func Encode(prog []bpf.Instruction) []byte { return bpf.Encode(prog) }

// Deprecated: use bpf.Validate.
func Validate(prog []bpf.Instruction) error { return bpf.Validate(prog) }

// Deprecated: use the typed fields of package bpf (bpf.ClassLD, bpf.Load,
// bpf.Jump...).
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
