package bytecode

import "sync"

// Filter is a validated seccomp program. Construct it with NewFilter so that
// evaluation and analysis can rely on the kernel's invariants.
type Filter struct {
	prog []Instruction
	// analysis memoises the symbolic execution within DefaultBudget: a
	// Filter never changes, and a verdict analyses the same filters for
	// each baseline, the intended profile, the diff and the score.
	// A run stopped by its caller's deadline is not kept: the next
	// caller may have more time.
	analysis struct {
		mu     sync.Mutex
		done   bool
		leaves []leaf
		err    error
	}
}

// NewFilter validates prog as the kernel would and wraps it.
func NewFilter(prog []Instruction) (*Filter, error) {
	if err := Validate(prog); err != nil {
		return nil, err
	}
	return &Filter{prog: append([]Instruction(nil), prog...)}, nil
}

// ParseFilter decodes and validates raw sock_filter bytes.
func ParseFilter(raw []byte) (*Filter, error) {
	prog, err := Decode(raw)
	if err != nil {
		return nil, err
	}
	return NewFilter(prog)
}

// Instructions returns the program (a copy).
func (f *Filter) Instructions() []Instruction { return append([]Instruction(nil), f.prog...) }

// Len returns the number of instructions.
func (f *Filter) Len() int { return len(f.prog) }

// Bytes returns the raw sock_filter bytes.
func (f *Filter) Bytes() []byte { return Encode(f.prog) }

// Run evaluates the filter on d with the kernel's semantics and returns the
// raw return value of the program (see Action.Effective for what the kernel
// then does with it).
func (f *Filter) Run(d *Data) Action {
	var a, x uint32
	var mem [ScratchSlots]uint32
	for pc := 0; pc < len(f.prog); pc++ {
		in := f.prog[pc]
		switch in.Class() {
		case ClassLD, ClassLDX:
			var v uint32
			switch in.Mode() {
			case ModeABS:
				v = d.Word(in.K)
			case ModeLEN:
				v = DataSize
			case ModeIMM:
				v = in.K
			case ModeMEM:
				v = mem[in.K]
			}
			if in.Class() == ClassLD {
				a = v
			} else {
				x = v
			}
		case ClassST:
			mem[in.K] = a
		case ClassSTX:
			mem[in.K] = x
		case ClassALU:
			operand := in.K
			if in.Src() == SrcX {
				operand = x
			}
			if in.AluOp() == AluDIV && operand == 0 {
				// The kernel's classic-to-eBPF conversion exits with 0
				// (SECCOMP_RET_KILL_THREAD) on division by X == 0.
				return 0
			}
			a = alu(in.AluOp(), a, operand)
		case ClassJMP:
			if in.AluOp() == JmpJA {
				pc += int(in.K)
				continue
			}
			operand := in.K
			if in.Src() == SrcX {
				operand = x
			}
			if jumpTaken(in.AluOp(), a, operand) {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case ClassRET:
			if in.RetSrc() == RetA {
				return Action(a)
			}
			return Action(in.K)
		case ClassMISC:
			if in.MiscOp() == MiscTAX {
				x = a
			} else {
				a = x
			}
		}
	}
	// Unreachable for a validated program: the last instruction returns.
	return 0
}

// alu applies a 32-bit ALU operation as the kernel does (wrapping; shifts by
// a register amount use its low 5 bits, as 32-bit eBPF shifts do).
func alu(op uint16, a, v uint32) uint32 {
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

func jumpTaken(op uint16, a, v uint32) bool {
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

// Stack is the list of filters attached to a thread, oldest first (the
// order of PTRACE_SECCOMP_GET_FILTER indexes).
type Stack []*Filter

// Run evaluates every filter as seccomp_run_filters does: newest first,
// keeping the first return value with the strongest action; ties keep the
// newer filter's value (and so its errno). An empty stack allows.
func (s Stack) Run(d *Data) Action {
	ret := ActAllow
	for i := len(s) - 1; i >= 0; i-- {
		if cur := s[i].Run(d); cur.precedence() < ret.precedence() {
			ret = cur
		}
	}
	return ret
}
