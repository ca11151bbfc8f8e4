package bytecode

import (
	"sync"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
)

// Filter is a validated seccomp program. Construct it with NewFilter so that
// evaluation and analysis can rely on the kernel's invariants.
type Filter struct {
	prog []bpf.Instruction
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
func NewFilter(prog []bpf.Instruction) (*Filter, error) {
	if err := bpf.Validate(prog); err != nil {
		return nil, err
	}
	return &Filter{prog: append([]bpf.Instruction(nil), prog...)}, nil
}

// ParseFilter decodes and validates raw sock_filter bytes.
func ParseFilter(raw []byte) (*Filter, error) {
	prog, err := bpf.Decode(raw)
	if err != nil {
		return nil, err
	}
	return NewFilter(prog)
}

// Instructions returns the program (a copy).
func (f *Filter) Instructions() []bpf.Instruction { return append([]bpf.Instruction(nil), f.prog...) }

// Len returns the number of instructions.
func (f *Filter) Len() int { return len(f.prog) }

// Bytes returns the raw sock_filter bytes.
func (f *Filter) Bytes() []byte { return bpf.Encode(f.prog) }

// Run evaluates the filter on d with the kernel's semantics and returns the
// raw return value of the program (see Action.Effective for what the kernel
// then does with it).
func (f *Filter) Run(d *Data) Action { return f.run(d, nil) }

// Trace is Run that also returns the indexes of the instructions executed,
// in order (the last one returned the action).
func (f *Filter) Trace(d *Data) (Action, []int) {
	path := make([]int, 0, 16)
	a := f.run(d, &path)
	return a, path
}

// run is the interpreter of Run and Trace; path, when not nil, collects
// the index of every instruction executed.
func (f *Filter) run(d *Data, path *[]int) Action {
	var a, x uint32
	var mem [bpf.ScratchSlots]uint32
	for pc := 0; pc < len(f.prog); pc++ {
		in := f.prog[pc]
		if path != nil {
			*path = append(*path, pc)
		}
		switch in.Class() {
		case bpf.ClassLD, bpf.ClassLDX:
			var v uint32
			switch in.Mode() {
			case bpf.ModeABS:
				v = d.Word(in.K)
			case bpf.ModeLEN:
				v = DataSize
			case bpf.ModeIMM:
				v = in.K
			case bpf.ModeMEM:
				v = mem[in.K]
			}
			if in.Class() == bpf.ClassLD {
				a = v
			} else {
				x = v
			}
		case bpf.ClassST:
			mem[in.K] = a
		case bpf.ClassSTX:
			mem[in.K] = x
		case bpf.ClassALU:
			operand := in.K
			if in.Src() == bpf.SrcX {
				operand = x
			}
			if in.AluOp() == bpf.AluDIV && operand == 0 {
				// The kernel's classic-to-eBPF conversion exits with 0
				// (SECCOMP_RET_KILL_THREAD) on division by X == 0.
				return 0
			}
			a = in.AluOp().Apply(a, operand)
		case bpf.ClassJMP:
			if in.JumpOp() == bpf.JmpJA {
				pc += int(in.K)
				continue
			}
			operand := in.K
			if in.Src() == bpf.SrcX {
				operand = x
			}
			if in.JumpOp().Taken(a, operand) {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case bpf.ClassRET:
			if in.RetSrc() == bpf.RetA {
				return Action(a)
			}
			return Action(in.K)
		case bpf.ClassMISC:
			if in.MiscOp() == bpf.MiscTAX {
				x = a
			} else {
				a = x
			}
		}
	}
	// Unreachable for a validated program: the last instruction returns.
	return 0
}

// Stack is the list of filters attached to a thread, oldest first (the
// order of PTRACE_SECCOMP_GET_FILTER indexes).
type Stack []*Filter

// Run evaluates every filter as seccomp_run_filters does: newest first,
// keeping the first return value with the strongest action; ties keep the
// newer filter's value (and so its errno). An empty stack allows.
func (s Stack) Run(d *Data) Action {
	ret, _ := s.decide(func(i int) Action { return s[i].Run(d) })
	return ret
}

// FilterRun is what one filter of a stack returned and the instructions
// it executed.
type FilterRun struct {
	Action Action
	Path   []int
}

// StackTrace is the evaluation of a stack on one input: the action the
// kernel takes, which filter (index, 0 = oldest) decided it, -1 for an
// empty stack (it allows), and each filter's own run.
type StackTrace struct {
	Action  Action
	Decider int
	Runs    []FilterRun
}

// Trace is Run that says which filter decided and how each one ran.
func (s Stack) Trace(d *Data) StackTrace {
	runs := make([]FilterRun, len(s))
	ret, decider := s.decide(func(i int) Action {
		a, path := s[i].Trace(d)
		runs[i] = FilterRun{Action: a, Path: path}
		return a
	})
	return StackTrace{Action: ret, Decider: decider, Runs: runs}
}

// decide runs the filters newest first through eval (given a filter's
// index) and returns the winning value and the index of the filter that
// returned it. Where every
// filter allows, the value is plain ALLOW as in the kernel (which drops
// ALLOW's data) and the newest filter counts as the decider; -1 for an
// empty stack.
func (s Stack) decide(eval func(i int) Action) (Action, int) {
	ret, decider := ActAllow, len(s)-1
	for i := len(s) - 1; i >= 0; i-- {
		if cur := eval(i); cur.precedence() < ret.precedence() {
			ret, decider = cur, i
		}
	}
	return ret, decider
}
