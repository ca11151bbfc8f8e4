package bpf

import "fmt"

// The opcode of a classic BPF instruction packs fields whose meaning
// depends on its class (linux/bpf_common.h): a load has a size and a mode,
// an ALU instruction or a jump an operation and an operand source. Each
// field has its own type, so that an ALU operation cannot stand where a
// jump is meant (BPF_ADD and BPF_JA are both 0), and opcodes are put
// together by the functions below, one per class.

// Opcode is the code field of struct sock_filter.
type Opcode uint16

// Class is the instruction class (BPF_CLASS).
type Class uint16

// Instruction classes.
const (
	ClassLD   Class = 0x00
	ClassLDX  Class = 0x01
	ClassST   Class = 0x02
	ClassSTX  Class = 0x03
	ClassALU  Class = 0x04
	ClassJMP  Class = 0x05
	ClassRET  Class = 0x06
	ClassMISC Class = 0x07
)

// Size is the width of a load (BPF_SIZE).
type Size uint16

// Load sizes.
const (
	SizeW Size = 0x00
	SizeH Size = 0x08
	SizeB Size = 0x10
)

// Mode is the addressing mode of a load (BPF_MODE).
type Mode uint16

// Addressing modes.
const (
	ModeIMM Mode = 0x00
	ModeABS Mode = 0x20
	ModeIND Mode = 0x40
	ModeMEM Mode = 0x60
	ModeLEN Mode = 0x80
	ModeMSH Mode = 0xa0
)

// AluOp is the operation of an ALU instruction (BPF_OP).
type AluOp uint16

// ALU operations. seccomp refuses AluMOD (and the kernel's classic BPF
// knows no other).
const (
	AluADD AluOp = 0x00
	AluSUB AluOp = 0x10
	AluMUL AluOp = 0x20
	AluDIV AluOp = 0x30
	AluOR  AluOp = 0x40
	AluAND AluOp = 0x50
	AluLSH AluOp = 0x60
	AluRSH AluOp = 0x70
	AluNEG AluOp = 0x80
	AluMOD AluOp = 0x90
	AluXOR AluOp = 0xa0
)

// JumpOp is the operation of a jump (BPF_OP).
type JumpOp uint16

// Jump operations.
const (
	JmpJA   JumpOp = 0x00
	JmpJEQ  JumpOp = 0x10
	JmpJGT  JumpOp = 0x20
	JmpJGE  JumpOp = 0x30
	JmpJSET JumpOp = 0x40
)

// Src is where the operand of an ALU instruction or a jump comes from
// (BPF_SRC).
type Src uint16

// Operand sources.
const (
	SrcK Src = 0x00 // the constant K
	SrcX Src = 0x08 // the register X
)

// RetSrc is where a return takes its value from (BPF_RVAL).
type RetSrc uint16

// Return value sources.
const (
	RetK RetSrc = 0x00
	RetA RetSrc = 0x10
)

// MiscOp is the operation of a BPF_MISC instruction (BPF_MISCOP).
type MiscOp uint16

// Register transfers.
const (
	MiscTAX MiscOp = 0x00 // X = A
	MiscTXA MiscOp = 0x80 // A = X
)

// Load is the opcode of a load into A: BPF_LD|size|mode.
func Load(s Size, m Mode) Opcode { return Opcode(ClassLD) | Opcode(s) | Opcode(m) }

// LoadX is the opcode of a load into X: BPF_LDX|size|mode.
func LoadX(s Size, m Mode) Opcode { return Opcode(ClassLDX) | Opcode(s) | Opcode(m) }

// Store and StoreX are the opcodes of M[K] = A and M[K] = X.
const (
	Store  = Opcode(ClassST)
	StoreX = Opcode(ClassSTX)
)

// ALU is the opcode of A op= K or A op= X: BPF_ALU|op|src.
func ALU(op AluOp, src Src) Opcode { return Opcode(ClassALU) | Opcode(op) | Opcode(src) }

// Jump is the opcode of a jump: BPF_JMP|op|src (JA takes SrcK).
func Jump(op JumpOp, src Src) Opcode { return Opcode(ClassJMP) | Opcode(op) | Opcode(src) }

// Ret is the opcode of a return: BPF_RET|src.
func Ret(src RetSrc) Opcode { return Opcode(ClassRET) | Opcode(src) }

// Misc is the opcode of a register transfer: BPF_MISC|op.
func Misc(op MiscOp) Opcode { return Opcode(ClassMISC) | Opcode(op) }

// Class returns the instruction class (BPF_CLASS).
func (o Opcode) Class() Class { return Class(o & 0x07) }

// Size returns the load size (BPF_SIZE).
func (o Opcode) Size() Size { return Size(o & 0x18) }

// Mode returns the addressing mode (BPF_MODE).
func (o Opcode) Mode() Mode { return Mode(o & 0xe0) }

// AluOp returns the operation of an ALU instruction (BPF_OP).
func (o Opcode) AluOp() AluOp { return AluOp(o & 0xf0) }

// JumpOp returns the operation of a jump (BPF_OP).
func (o Opcode) JumpOp() JumpOp { return JumpOp(o & 0xf0) }

// Src returns the operand source (BPF_SRC).
func (o Opcode) Src() Src { return Src(o & 0x08) }

// RetSrc returns the return value source (BPF_RVAL).
func (o Opcode) RetSrc() RetSrc { return RetSrc(o & 0x18) }

// MiscOp returns the BPF_MISCOP field.
func (o Opcode) MiscOp() MiscOp { return MiscOp(o & 0xf8) }

// The name table: the mnemonics of every field, and the C operators of
// the ALU operations and comparisons, which the validator's errors, the
// disassembler, the assembler and the decision table's conditions all
// print from here.
var (
	classNames = [...]string{ClassLD: "ld", ClassLDX: "ldx", ClassST: "st", ClassSTX: "stx",
		ClassALU: "alu", ClassJMP: "jmp", ClassRET: "ret", ClassMISC: "misc"}
	sizeNames = map[Size]string{SizeW: "w", SizeH: "h", SizeB: "b"}
	modeNames = map[Mode]string{ModeIMM: "imm", ModeABS: "abs", ModeIND: "ind", ModeMEM: "mem", ModeLEN: "len", ModeMSH: "msh"}
	aluOps    = map[AluOp]struct{ name, operator string }{
		AluADD: {"add", "+"}, AluSUB: {"sub", "-"}, AluMUL: {"mul", "*"}, AluDIV: {"div", "/"},
		AluOR: {"or", "|"}, AluAND: {"and", "&"}, AluLSH: {"lsh", "<<"}, AluRSH: {"rsh", ">>"},
		AluNEG: {"neg", ""}, AluMOD: {"mod", "%"}, AluXOR: {"xor", "^"},
	}
	// A comparison's operator when the jump is taken, and the one that
	// holds when it is not.
	jumpOps = map[JumpOp]struct{ name, taken, notTaken string }{
		JmpJA: {"ja", "", ""}, JmpJEQ: {"jeq", "==", "!="}, JmpJGT: {"jgt", ">", "<="},
		JmpJGE: {"jge", ">=", "<"}, JmpJSET: {"jset", "&", ""},
	}
)

func (c Class) Name() string { return classNames[c&0x07] }

func (s Size) Name() string {
	if name, ok := sizeNames[s]; ok {
		return name
	}
	return "?"
}

func (m Mode) Name() string {
	if name, ok := modeNames[m]; ok {
		return name
	}
	return "?"
}

// Known reports whether op is an ALU operation the kernel defines.
func (op AluOp) Known() bool { _, ok := aluOps[op]; return ok }

func (op AluOp) Name() string {
	if o, ok := aluOps[op]; ok {
		return o.name
	}
	return "?"
}

// Operator returns the C operator of a binary operation ("+", "<<"); ""
// for NEG and unknown operations.
func (op AluOp) Operator() string { return aluOps[op].operator }

// AluOps returns the ALU operations with a binary operator, in opcode
// order.
func AluOps() []AluOp {
	var out []AluOp
	for op := AluADD; op <= AluXOR; op += 0x10 {
		if op.Operator() != "" {
			out = append(out, op)
		}
	}
	return out
}

// ConditionalJumps returns the jumps that compare A (every jump but JA),
// in opcode order.
func ConditionalJumps() []JumpOp {
	var out []JumpOp
	for op := JmpJA; op <= JmpJSET; op += 0x10 {
		if taken, _ := op.Operators(); taken != "" {
			out = append(out, op)
		}
	}
	return out
}

// Apply computes A op v as the kernel does: 32 bits, wrapping; a shift
// by a register amount uses its low 5 bits, as 32-bit eBPF shifts do
// (classic BPF runs as eBPF). v must not be 0 for AluDIV (the kernel
// returns 0 from the program instead: the interpreter's business); an
// operation the kernel does not define leaves A as it is.
func (op AluOp) Apply(a, v uint32) uint32 {
	switch op {
	case AluADD:
		return a + v
	case AluSUB:
		return a - v
	case AluMUL:
		return a * v
	case AluDIV:
		return a / v
	case AluOR:
		return a | v
	case AluAND:
		return a & v
	case AluXOR:
		return a ^ v
	case AluLSH:
		return a << (v & 31)
	case AluRSH:
		return a >> (v & 31)
	case AluNEG:
		return -a
	}
	return a
}

// Taken reports whether a conditional jump comparing A with v is taken;
// false for JA, which compares nothing.
func (op JumpOp) Taken(a, v uint32) bool {
	switch op {
	case JmpJEQ:
		return a == v
	case JmpJGT:
		return a > v
	case JmpJGE:
		return a >= v
	case JmpJSET:
		return a&v != 0
	}
	return false
}

// Known reports whether op is a jump the kernel defines.
func (op JumpOp) Known() bool { _, ok := jumpOps[op]; return ok }

func (op JumpOp) Name() string {
	if o, ok := jumpOps[op]; ok {
		return o.name
	}
	return "?"
}

// Operators returns the comparison a conditional jump makes, as a C
// operator between A and its operand when the jump is taken ("==", "&"),
// and the one that holds when it falls through ("!="; "" for JSET, whose
// negation is no single operator, and for JA).
func (op JumpOp) Operators() (taken, notTaken string) {
	o := jumpOps[op]
	return o.taken, o.notTaken
}

// Name names the opcode for errors and listings, also an opcode seccomp
// refuses: "ld w abs" is written "ldw abs", as are the other loads.
func (o Opcode) Name() string {
	switch c := o.Class(); c {
	case ClassLD, ClassLDX:
		return fmt.Sprintf("%s%s %s", c.Name(), o.Size().Name(), o.Mode().Name())
	case ClassALU:
		return "alu " + o.AluOp().Name()
	case ClassJMP:
		if op := o.JumpOp(); op.Known() {
			return op.Name()
		}
		return "jmp ?"
	default:
		return c.Name()
	}
}
