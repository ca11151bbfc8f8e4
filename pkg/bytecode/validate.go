package bytecode

import "fmt"

// ValidationError says why the kernel would refuse a filter, and where.
type ValidationError struct {
	Index  int // instruction index, -1 for the program as a whole
	Reason string
}

func (e *ValidationError) Error() string {
	if e.Index < 0 {
		return "invalid filter: " + e.Reason
	}
	return fmt.Sprintf("invalid filter: instruction %d: %s", e.Index, e.Reason)
}

func invalid(i int, format string, args ...any) error {
	return &ValidationError{Index: i, Reason: fmt.Sprintf(format, args...)}
}

// Validate applies the checks the kernel makes before it attaches a seccomp
// filter: bpf_check_classic (opcodes, jump targets, constant divisors and
// shifts, scratch memory initialised before use, a final RET) followed by
// seccomp_check_filter (only the instructions seccomp allows, aligned loads
// inside struct seccomp_data). A program that passes is one the kernel
// would accept, and the only kind the rest of this package evaluates.
func Validate(prog []Instruction) error {
	n := len(prog)
	if n == 0 {
		return invalid(-1, "empty program")
	}
	if n > MaxInstructions {
		return invalid(-1, "%d instructions exceeds the kernel limit of %d", n, MaxInstructions)
	}
	for i, in := range prog {
		if err := checkInstruction(i, n, in); err != nil {
			return err
		}
	}
	if last := prog[n-1]; last.Op != ClassRET|RetK && last.Op != ClassRET|RetA {
		return invalid(n-1, "the last instruction must be a return, not %s", opName(last.Op))
	}
	return checkScratchMemory(prog)
}

// checkInstruction checks one instruction against the seccomp allow list and
// the classic BPF constraints on its operands.
func checkInstruction(i, n int, in Instruction) error {
	switch in.Op {
	case ClassLD | SizeW | ModeABS:
		if in.K >= DataSize || in.K%4 != 0 {
			return invalid(i, "load from offset %d: seccomp_data loads must be 4-byte aligned and below %d", in.K, DataSize)
		}
	case ClassLD | SizeW | ModeLEN, ClassLDX | SizeW | ModeLEN,
		ClassLD | ModeIMM, ClassLDX | ModeIMM,
		ClassRET | RetK, ClassRET | RetA,
		ClassMISC | MiscTAX, ClassMISC | MiscTXA,
		ClassALU | AluNEG:
	case ClassLD | ModeMEM, ClassLDX | ModeMEM, ClassST, ClassSTX:
		if in.K >= ScratchSlots {
			return invalid(i, "scratch memory slot %d out of range (0-%d)", in.K, ScratchSlots-1)
		}
	case ClassALU | AluADD | SrcK, ClassALU | AluADD | SrcX,
		ClassALU | AluSUB | SrcK, ClassALU | AluSUB | SrcX,
		ClassALU | AluMUL | SrcK, ClassALU | AluMUL | SrcX,
		ClassALU | AluDIV | SrcX,
		ClassALU | AluAND | SrcK, ClassALU | AluAND | SrcX,
		ClassALU | AluOR | SrcK, ClassALU | AluOR | SrcX,
		ClassALU | AluXOR | SrcK, ClassALU | AluXOR | SrcX,
		ClassALU | AluLSH | SrcX, ClassALU | AluRSH | SrcX:
	case ClassALU | AluDIV | SrcK:
		if in.K == 0 {
			return invalid(i, "division by constant zero")
		}
	case ClassALU | AluLSH | SrcK, ClassALU | AluRSH | SrcK:
		if in.K >= 32 {
			return invalid(i, "shift by %d (must be below 32)", in.K)
		}
	case ClassJMP | JmpJA:
		if uint64(in.K) >= uint64(n-i-1) {
			return invalid(i, "jump by %d goes past the end of the program", in.K)
		}
	case ClassJMP | JmpJEQ | SrcK, ClassJMP | JmpJEQ | SrcX,
		ClassJMP | JmpJGT | SrcK, ClassJMP | JmpJGT | SrcX,
		ClassJMP | JmpJGE | SrcK, ClassJMP | JmpJGE | SrcX,
		ClassJMP | JmpJSET | SrcK, ClassJMP | JmpJSET | SrcX:
		if i+int(in.Jt)+1 >= n || i+int(in.Jf)+1 >= n {
			return invalid(i, "jump target (jt %d, jf %d) past the end of the program", in.Jt, in.Jf)
		}
	default:
		return invalid(i, "%s (opcode 0x%04x) is not allowed in seccomp filters", opName(in.Op), in.Op)
	}
	return nil
}

// checkScratchMemory mirrors check_load_and_stores in net/core/filter.c: a
// scratch slot may be read only if every path to the read stored it first.
// Like the kernel, it walks instructions in order, so code after a RET
// inherits the RET's state.
func checkScratchMemory(prog []Instruction) error {
	const all = uint16(0xffff)
	masks := make([]uint16, len(prog))
	for i := range masks {
		masks[i] = all
	}
	var valid uint16
	for pc, in := range prog {
		valid &= masks[pc]
		switch in.Op {
		case ClassST, ClassSTX:
			valid |= 1 << in.K
		case ClassLD | ModeMEM, ClassLDX | ModeMEM:
			if valid&(1<<in.K) == 0 {
				return invalid(pc, "reads scratch memory M[%d] before every path to it stores it", in.K)
			}
		case ClassJMP | JmpJA:
			masks[pc+1+int(in.K)] &= valid
			valid = all
		default:
			if in.IsConditionalJump() {
				masks[pc+1+int(in.Jt)] &= valid
				masks[pc+1+int(in.Jf)] &= valid
				valid = all
			}
		}
	}
	return nil
}

// opName names an opcode for error messages, also for opcodes seccomp refuses.
func opName(op uint16) string {
	in := Instruction{Op: op}
	switch in.Class() {
	case ClassLD, ClassLDX:
		cls := "ld"
		if in.Class() == ClassLDX {
			cls = "ldx"
		}
		size := map[uint16]string{SizeW: "w", SizeH: "h", SizeB: "b"}[in.Size()]
		mode := map[uint16]string{ModeIMM: "imm", ModeABS: "abs", ModeIND: "ind", ModeMEM: "mem", ModeLEN: "len", ModeMSH: "msh"}[in.Mode()]
		if size == "" {
			size = "?"
		}
		if mode == "" {
			mode = "?"
		}
		return fmt.Sprintf("%s%s %s", cls, size, mode)
	case ClassST:
		return "st"
	case ClassSTX:
		return "stx"
	case ClassALU:
		if name, ok := aluNames[in.AluOp()]; ok {
			return "alu " + name
		}
		return "alu ?"
	case ClassJMP:
		if name, ok := jmpNames[in.AluOp()]; ok {
			return name
		}
		return "jmp ?"
	case ClassRET:
		return "ret"
	}
	return "misc"
}

var aluNames = map[uint16]string{
	AluADD: "add", AluSUB: "sub", AluMUL: "mul", AluDIV: "div", AluOR: "or", AluAND: "and",
	AluLSH: "lsh", AluRSH: "rsh", AluNEG: "neg", AluMOD: "mod", AluXOR: "xor",
}

var jmpNames = map[uint16]string{JmpJA: "ja", JmpJEQ: "jeq", JmpJGT: "jgt", JmpJGE: "jge", JmpJSET: "jset"}
