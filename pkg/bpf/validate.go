package bpf

import "fmt"

// SeccompDataSize is sizeof(struct seccomp_data), the input of a seccomp
// filter: seccomp_check_filter refuses loads at or beyond it. The layout
// of its fields is seccomp's (see bytecode.Data); the size is all the
// validator needs.
const SeccompDataSize = 64

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
	if last := prog[n-1]; last.Op != Ret(RetK) && last.Op != Ret(RetA) {
		return invalid(n-1, "the last instruction must be a return, not %s", last.Op.Name())
	}
	return checkScratchMemory(prog)
}

// checkInstruction checks one instruction against the seccomp allow list and
// the classic BPF constraints on its operands.
func checkInstruction(i, n int, in Instruction) error {
	switch in.Op {
	case Load(SizeW, ModeABS):
		if in.K >= SeccompDataSize || in.K%4 != 0 {
			return invalid(i, "load from offset %d: seccomp_data loads must be 4-byte aligned and below %d", in.K, SeccompDataSize)
		}
	case Load(SizeW, ModeLEN), LoadX(SizeW, ModeLEN),
		Load(SizeW, ModeIMM), LoadX(SizeW, ModeIMM),
		Ret(RetK), Ret(RetA),
		Misc(MiscTAX), Misc(MiscTXA),
		ALU(AluNEG, SrcK):
	case Load(SizeW, ModeMEM), LoadX(SizeW, ModeMEM), Store, StoreX:
		if in.K >= ScratchSlots {
			return invalid(i, "scratch memory slot %d out of range (0-%d)", in.K, ScratchSlots-1)
		}
	case ALU(AluADD, SrcK), ALU(AluADD, SrcX),
		ALU(AluSUB, SrcK), ALU(AluSUB, SrcX),
		ALU(AluMUL, SrcK), ALU(AluMUL, SrcX),
		ALU(AluDIV, SrcX),
		ALU(AluAND, SrcK), ALU(AluAND, SrcX),
		ALU(AluOR, SrcK), ALU(AluOR, SrcX),
		ALU(AluXOR, SrcK), ALU(AluXOR, SrcX),
		ALU(AluLSH, SrcX), ALU(AluRSH, SrcX):
	case ALU(AluDIV, SrcK):
		if in.K == 0 {
			return invalid(i, "division by constant zero")
		}
	case ALU(AluLSH, SrcK), ALU(AluRSH, SrcK):
		if in.K >= 32 {
			return invalid(i, "shift by %d (must be below 32)", in.K)
		}
	case Jump(JmpJA, SrcK):
		if uint64(in.K) >= uint64(n-i-1) {
			return invalid(i, "jump by %d goes past the end of the program", in.K)
		}
	case Jump(JmpJEQ, SrcK), Jump(JmpJEQ, SrcX),
		Jump(JmpJGT, SrcK), Jump(JmpJGT, SrcX),
		Jump(JmpJGE, SrcK), Jump(JmpJGE, SrcX),
		Jump(JmpJSET, SrcK), Jump(JmpJSET, SrcX):
		if i+int(in.Jt)+1 >= n || i+int(in.Jf)+1 >= n {
			return invalid(i, "jump target (jt %d, jf %d) past the end of the program", in.Jt, in.Jf)
		}
	default:
		return invalid(i, "%s (opcode 0x%04x) is not allowed in seccomp filters", in.Op.Name(), uint16(in.Op))
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
		case Store, StoreX:
			valid |= 1 << in.K
		case Load(SizeW, ModeMEM), LoadX(SizeW, ModeMEM):
			if valid&(1<<in.K) == 0 {
				return invalid(pc, "reads scratch memory M[%d] before every path to it stores it", in.K)
			}
		case Jump(JmpJA, SrcK):
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
