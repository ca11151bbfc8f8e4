package bytecode

import "github.com/seccomp-attest/seccomp-attest/pkg/bpf"

// The instruction model moved to package bpf, with a type for each opcode
// field. These untyped names are left for the one importer not yet moved
// to bpf (pkg/execstop's tests, changed by other work at the time); delete
// this file when it imports bpf.

// Deprecated: use bpf.Instruction.
type Instruction = bpf.Instruction

// Deprecated: use bpf.Encode.
func Encode(prog []bpf.Instruction) []byte { return bpf.Encode(prog) }

// Deprecated: use bpf.Load, bpf.Jump and bpf.Ret.
const (
	ClassLD  = 0x00
	ClassJMP = 0x05
	ClassRET = 0x06
	SizeW    = 0x00
	ModeABS  = 0x20
	JmpJEQ   = 0x10
)
