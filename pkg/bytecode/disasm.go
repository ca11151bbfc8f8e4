package bytecode

import (
	"bufio"
	"fmt"
	"io"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

// DisasmOptions tune Disassemble.
type DisasmOptions struct {
	// Arch names syscall numbers on paths where the program has not
	// compared seccomp_data.arch itself. Nil leaves them as numbers there.
	Arch *arch.Arch
}

// Line is one disassembled instruction.
type Line struct {
	Index int
	Instruction
	// Text is the instruction as pseudo-code in the style of seccomp-tools
	// (`A = sys_number`, `if (A != read) goto 0010`, `return ALLOW`), with
	// the fields and constants named from what the program has loaded on
	// every path to it.
	Text string
	// Comment adds what the text leaves out: an x32 syscall's name, an
	// unknown action, an instruction seccomp refuses, dead code.
	Comment string
	// Reachable is false for instructions no path from the start reaches.
	Reachable bool
}

// String formats the line as seccomp-tools does: index, the raw fields,
// then the pseudo-code.
func (l Line) String() string {
	s := fmt.Sprintf(" %04d: 0x%02x 0x%02x 0x%02x 0x%08x  %s", l.Index, l.Op, l.Jt, l.Jf, l.K, l.Text)
	if l.Comment != "" {
		s += "  # " + l.Comment
	}
	return s
}

// DisasmHeader is the header seccomp-tools prints above the lines.
const DisasmHeader = " line  CODE  JT   JF      K\n=================================\n"

// WriteDisassembly writes the header and every line of prog's disassembly.
func WriteDisassembly(w io.Writer, prog []Instruction, opts DisasmOptions) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(DisasmHeader)
	for _, l := range Disassemble(prog, opts) {
		bw.WriteString(l.String())
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// Disassemble turns prog into readable lines. It accepts any program, also
// one Validate refuses, so that a broken filter can still be inspected;
// instructions seccomp does not allow are shown by their classic BPF names.
//
// To name things it runs the program abstractly, like seccomp-tools: it
// follows which seccomp_data word or constant A, X and each scratch slot
// hold, and which arch a JEQ on the arch word has established, along every
// path (jumps only go forward, so one pass in order sees every predecessor
// of an instruction first). Where paths disagree the value is unknown and
// the line shows plain numbers.
func Disassemble(prog []Instruction, opts DisasmOptions) []Line {
	states := make([]*absState, len(prog))
	if len(prog) > 0 {
		states[0] = &absState{}
	}
	lines := make([]Line, len(prog))
	for pc, in := range prog {
		st := states[pc]
		l := Line{Index: pc, Instruction: in, Reachable: st != nil}
		if st == nil {
			// Dead code: describe it without knowledge.
			st = &absState{}
		}
		l.Text, l.Comment = describe(pc, in, st, opts)
		if !l.Reachable {
			l.Comment = joinComment(l.Comment, "unreachable")
		}
		lines[pc] = l
		if states[pc] != nil {
			for _, succ := range successors(pc, in, st) {
				if succ.pc < len(prog) {
					states[succ.pc] = merge(states[succ.pc], succ.st)
				}
			}
		}
	}
	return lines
}

// absKind says what the abstract interpreter knows about a register.
type absKind uint8

const (
	absUnknown absKind = iota
	absData            // a word of seccomp_data, at off
	absConst           // the constant k
)

type absValue struct {
	kind absKind
	v    uint32 // the offset for absData, the value for absConst
}

// absState is what holds on every path reaching an instruction.
type absState struct {
	a, x      absValue
	mem       [ScratchSlots]absValue
	audit     uint32 // seccomp_data.arch, when archKnown
	archKnown bool
}

// merge joins the knowledge of two paths into one instruction: only what
// both agree on survives. A nil state is "no path yet".
func merge(old, add *absState) *absState {
	if old == nil {
		c := *add
		return &c
	}
	out := *old
	if out.a != add.a {
		out.a = absValue{}
	}
	if out.x != add.x {
		out.x = absValue{}
	}
	for i := range out.mem {
		if out.mem[i] != add.mem[i] {
			out.mem[i] = absValue{}
		}
	}
	if out.archKnown != add.archKnown || out.audit != add.audit {
		out.archKnown = false
		out.audit = 0
	}
	return &out
}

type successor struct {
	pc int
	st *absState
}

// successors runs one instruction abstractly and returns the states it
// hands to the instructions it can continue at.
func successors(pc int, in Instruction, st *absState) []successor {
	next := *st
	switch in.Class() {
	case ClassRET:
		return nil
	case ClassLD, ClassLDX:
		v := absValue{}
		switch {
		case in.Mode() == ModeABS && in.Size() == SizeW:
			v = absValue{absData, in.K}
		case in.Mode() == ModeIMM:
			v = absValue{absConst, in.K}
		case in.Mode() == ModeLEN:
			v = absValue{absConst, DataSize}
		case in.Mode() == ModeMEM && in.K < ScratchSlots:
			v = st.mem[in.K]
		}
		if in.Class() == ClassLD {
			next.a = v
		} else {
			next.x = v
		}
	case ClassST, ClassSTX:
		if in.K < ScratchSlots {
			if in.Class() == ClassST {
				next.mem[in.K] = st.a
			} else {
				next.mem[in.K] = st.x
			}
		}
	case ClassALU:
		next.a = absValue{}
	case ClassMISC:
		if in.MiscOp() == MiscTAX {
			next.x = st.a
		} else {
			next.a = st.x
		}
	case ClassJMP:
		if in.AluOp() == JmpJA {
			return []successor{{pc + 1 + int(in.K), &next}}
		}
		taken := next
		if in.AluOp() == JmpJEQ && in.Src() == SrcK && st.a == (absValue{absData, OffsetArch}) {
			// On the equal branch the arch is known from here on.
			taken.audit, taken.archKnown = in.K, true
		}
		return []successor{{pc + 1 + int(in.Jt), &taken}, {pc + 1 + int(in.Jf), &next}}
	}
	return []successor{{pc + 1, &next}}
}

// describe renders one instruction given what holds before it.
func describe(pc int, in Instruction, st *absState, opts DisasmOptions) (text, comment string) {
	switch in.Op {
	case ClassLD | SizeW | ModeABS:
		return "A = " + dataName(in.K), ""
	case ClassLD | SizeW | ModeLEN, ClassLDX | SizeW | ModeLEN:
		return reg(in) + " = sizeof(seccomp_data)", ""
	case ClassLD | ModeIMM, ClassLDX | ModeIMM:
		return fmt.Sprintf("%s = %#x", reg(in), in.K), ""
	case ClassLD | ModeMEM, ClassLDX | ModeMEM:
		return fmt.Sprintf("%s = mem[%d]", reg(in), in.K), ""
	case ClassST:
		return fmt.Sprintf("mem[%d] = A", in.K), ""
	case ClassSTX:
		return fmt.Sprintf("mem[%d] = X", in.K), ""
	case ClassMISC | MiscTAX:
		return "X = A", ""
	case ClassMISC | MiscTXA:
		return "A = X", ""
	case ClassRET | RetA:
		return "return A", ""
	case ClassRET | RetK:
		return "return " + Action(in.K).String(), actionComment(Action(in.K))
	case ClassJMP | JmpJA:
		return fmt.Sprintf("goto %04d", pc+1+int(in.K)), ""
	case ClassALU | AluNEG:
		return "A = -A", ""
	}
	switch in.Class() {
	case ClassALU:
		if op, ok := aluOperators[in.AluOp()]; ok {
			text = fmt.Sprintf("A %s= %s", op, aluOperand(in))
			if in.AluOp() == AluMOD {
				comment = "not allowed in seccomp filters"
			}
			return text, comment
		}
	case ClassJMP:
		if _, ok := jmpNames[in.AluOp()]; ok {
			return describeJump(pc, in, st, opts)
		}
	}
	return fmt.Sprintf("%s %#x", opName(in.Op), in.K), "not allowed in seccomp filters"
}

func reg(in Instruction) string {
	if in.Class() == ClassLDX {
		return "X"
	}
	return "A"
}

var aluOperators = map[uint16]string{
	AluADD: "+", AluSUB: "-", AluMUL: "*", AluDIV: "/", AluOR: "|", AluAND: "&",
	AluLSH: "<<", AluRSH: ">>", AluMOD: "%", AluXOR: "^",
}

func aluOperand(in Instruction) string {
	if in.Src() == SrcX {
		return "X"
	}
	return fmt.Sprintf("%#x", in.K)
}

// dataName names a 32-bit word of seccomp_data as seccomp-tools does; the
// high half of a 64-bit field is written as a shift.
func dataName(off uint32) string {
	switch {
	case off == OffsetNr:
		return "sys_number"
	case off == OffsetArch:
		return "arch"
	case off == OffsetIP:
		return "instruction_pointer"
	case off == OffsetIP+4:
		return "instruction_pointer >> 32"
	case off >= OffsetArgs && off < DataSize && off%4 == 0:
		i := (off - OffsetArgs) / 8
		if (off-OffsetArgs)%8 == 4 {
			return fmt.Sprintf("args[%d] >> 32", i)
		}
		return fmt.Sprintf("args[%d]", i)
	}
	return fmt.Sprintf("data[%d]", off)
}

// condition operators: for the taken branch, and negated for a jump whose
// taken branch falls through.
var jumpOps = map[uint16][2]string{
	JmpJEQ: {"==", "!="},
	JmpJGT: {">", "<="},
	JmpJGE: {">=", "<"},
}

func describeJump(pc int, in Instruction, st *absState, opts DisasmOptions) (text, comment string) {
	operand, comment := jumpOperand(in, st, opts)
	cond := func(negate bool) string {
		if in.AluOp() == JmpJSET {
			if negate {
				return fmt.Sprintf("!(A & %s)", operand)
			}
			return fmt.Sprintf("A & %s", operand)
		}
		ops := jumpOps[in.AluOp()]
		op := ops[0]
		if negate {
			op = ops[1]
		}
		return fmt.Sprintf("A %s %s", op, operand)
	}
	jt, jf := pc+1+int(in.Jt), pc+1+int(in.Jf)
	switch {
	case in.Jt == in.Jf:
		// Both branches go to the same place: the test decides nothing.
		text = fmt.Sprintf("if (%s) goto %04d", cond(false), jt)
		comment = joinComment(comment, "both branches go to the same place")
	case in.Jf == 0:
		text = fmt.Sprintf("if (%s) goto %04d", cond(false), jt)
	case in.Jt == 0:
		text = fmt.Sprintf("if (%s) goto %04d", cond(true), jf)
	default:
		text = fmt.Sprintf("if (%s) goto %04d else goto %04d", cond(false), jt, jf)
	}
	return text, comment
}

// jumpOperand names the constant a jump compares A with, from what A holds:
// an arch name against the arch word, a syscall name against the syscall
// number (for JEQ, where a name reads naturally).
func jumpOperand(in Instruction, st *absState, opts DisasmOptions) (operand, comment string) {
	if in.Src() == SrcX {
		return "X", ""
	}
	operand = fmt.Sprintf("%#x", in.K)
	if st.a.kind != absData || in.AluOp() == JmpJSET {
		return operand, ""
	}
	switch st.a.v {
	case OffsetArch:
		if as := arch.ByAudit(in.K); len(as) > 0 {
			return "ARCH_" + as[0].AuditName(), ""
		}
	case OffsetNr:
		if in.K == arch.X32SyscallBit && in.AluOp() != JmpJEQ {
			return operand, "X32_SYSCALL_BIT"
		}
		if in.AluOp() != JmpJEQ {
			return operand, ""
		}
		a := syscallArch(st, opts, in.K)
		if a == nil {
			return operand, ""
		}
		name, ok := a.SyscallName(in.K)
		if !ok {
			return operand, ""
		}
		if a == arch.X32 {
			// x32 shares x86_64's names; keep the number so the two
			// cannot be confused.
			return operand, "x32 " + name
		}
		return name, ""
	}
	return operand, ""
}

// syscallArch returns the table to name syscall number nr with: the arch
// this path has established, or else the one the caller gave.
func syscallArch(st *absState, opts DisasmOptions, nr uint32) *arch.Arch {
	audit := uint32(0)
	switch {
	case st.archKnown:
		audit = st.audit
	case opts.Arch != nil:
		audit = opts.Arch.Audit
	default:
		return nil
	}
	return arch.ForNr(audit, nr)
}

// actionComment says what the kernel really does with a return value where
// that differs from what it says.
func actionComment(a Action) string {
	switch {
	case !a.Known():
		return "unknown action: the kernel kills the process"
	case a.Kind() == ActErrno && a.Effective() != a:
		return fmt.Sprintf("the kernel caps it to %s", a.Effective())
	}
	return ""
}

func joinComment(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
