package bytecode

import (
	"fmt"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
)

// CmpOp is the operator of a Comparison (its Op field).
type CmpOp uint8

// The comparison operators.
const (
	OpEQ CmpOp = iota
	OpNE
	OpGT
	OpGE
	OpLT
	OpLE
)

// opSymbols are the C operators of the comparisons, from bpf's name table:
// each is a jump's comparison, taken or not.
var opSymbols = func() [6]string {
	eq, ne := bpf.JmpJEQ.Operators()
	gt, le := bpf.JmpJGT.Operators()
	ge, lt := bpf.JmpJGE.Operators()
	return [...]string{OpEQ: eq, OpNE: ne, OpGT: gt, OpGE: ge, OpLT: lt, OpLE: le}
}()

func (o CmpOp) String() string { return opSymbols[o] }

func (o CmpOp) negate() CmpOp {
	return [...]CmpOp{OpEQ: OpNE, OpNE: OpEQ, OpGT: OpLE, OpGE: OpLT, OpLT: OpGE, OpLE: OpGT}[o]
}

func (o CmpOp) holds(v, k uint64) bool {
	switch o {
	case OpEQ:
		return v == k
	case OpNE:
		return v != k
	case OpGT:
		return v > k
	case OpGE:
		return v >= k
	case OpLT:
		return v < k
	case OpLE:
		return v <= k
	}
	return false
}

// Operand says which part of seccomp_data a comparison reads.
type Operand struct {
	Arg  int  // 0-5, or -1 for the instruction pointer
	Half Half // which 32-bit word, or both
}

// Half selects a 32-bit half of a 64-bit argument, or the whole argument.
type Half uint8

const (
	Full Half = iota // the 64-bit value: the program compares both halves
	Low              // bits 0-31
	High             // bits 32-63
)

func (o Operand) String() string {
	name := "ip"
	if o.Arg >= 0 {
		name = fmt.Sprintf("args[%d]", o.Arg)
	}
	return o.named(name)
}

// named writes the operand's half after the name of what it reads.
func (o Operand) named(name string) string {
	switch o.Half {
	case Low:
		return name + ".lo"
	case High:
		return name + ".hi"
	}
	return name
}

// operandAt returns the operand of the 32-bit word at a seccomp_data offset
// (16 and above, or the instruction pointer at 8 and 12).
func operandAt(off uint32) Operand {
	if off < OffsetArgs {
		if off == OffsetIP {
			return Operand{Arg: -1, Half: Low}
		}
		return Operand{Arg: -1, Half: High}
	}
	half := Low
	if (off-OffsetArgs)%8 == 4 {
		half = High
	}
	return Operand{Arg: int(off-OffsetArgs) / 8, Half: half}
}

// Comparison is one test of a condition: (operand & Mask) Op Value.
// For 32-bit halves Mask and Value fit in 32 bits.
type Comparison struct {
	Operand Operand
	Op      CmpOp
	Mask    uint64
	Value   uint64
}

func (c Comparison) fullMask() uint64 {
	if c.Operand.Half == Full {
		return ^uint64(0)
	}
	return 0xffffffff
}

// Masked reports whether the comparison masks the operand.
func (c Comparison) Masked() bool { return c.Mask != c.fullMask() }

func (c Comparison) String() string {
	if c.Masked() {
		return fmt.Sprintf("(%s & %#x) %s %#x", c.Operand, c.Mask, c.Op, c.Value)
	}
	return fmt.Sprintf("%s %s %#x", c.Operand, c.Op, c.Value)
}

// read returns the operand's value in d.
func (o Operand) read(d *Data) uint64 {
	v := d.InstructionPointer
	if o.Arg >= 0 {
		v = d.Args[o.Arg]
	}
	switch o.Half {
	case Low:
		return v & 0xffffffff
	case High:
		return v >> 32
	}
	return v
}

// Holds evaluates the comparison on concrete data.
func (c Comparison) Holds(d *Data) bool {
	return c.Op.holds(c.Operand.read(d)&c.Mask, c.Value)
}

// Condition is a conjunction of comparisons; the empty condition is true.
type Condition []Comparison

// Holds evaluates the condition on concrete data.
func (c Condition) Holds(d *Data) bool {
	for _, cmp := range c {
		if !cmp.Holds(d) {
			return false
		}
	}
	return true
}

func (c Condition) String() string {
	if len(c) == 0 {
		return "always"
	}
	parts := make([]string, len(c))
	for i, cmp := range c {
		parts[i] = cmp.String()
	}
	return strings.Join(parts, " && ")
}

// equal reports whether two conditions have the same comparisons in order.
func (c Condition) equal(o Condition) bool {
	if len(c) != len(o) {
		return false
	}
	for i := range c {
		if c[i] != o[i] {
			return false
		}
	}
	return true
}
