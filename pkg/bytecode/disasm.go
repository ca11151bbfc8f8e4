package bytecode

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/sysconst"
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
	bpf.Instruction
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
	// Appended by hand: eval prints hundreds of these per run.
	b := make([]byte, 0, 40+len(l.Text)+len(l.Comment))
	b = append(b, ' ')
	b = appendPadded(b, uint64(l.Index), 10, 4)
	b = append(b, ": 0x"...)
	b = appendPadded(b, uint64(l.Op), 16, 2)
	b = append(b, " 0x"...)
	b = appendPadded(b, uint64(l.Jt), 16, 2)
	b = append(b, " 0x"...)
	b = appendPadded(b, uint64(l.Jf), 16, 2)
	b = append(b, " 0x"...)
	b = appendPadded(b, uint64(l.K), 16, 8)
	b = append(b, "  "...)
	b = append(b, l.Text...)
	if l.Comment != "" {
		b = append(b, "  # "...)
		b = append(b, l.Comment...)
	}
	return string(b)
}

// appendPadded appends v in base with at least width digits (leading
// zeros), as %0*d and %0*x do.
func appendPadded(b []byte, v uint64, base, width int) []byte {
	var digits [20]byte
	d := strconv.AppendUint(digits[:0], v, base)
	for i := len(d); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

// DisasmHeader is the header seccomp-tools prints above the lines.
const DisasmHeader = " line  CODE  JT   JF      K\n=================================\n"

// WriteDisassembly writes the header and every line of prog's disassembly.
func WriteDisassembly(w io.Writer, prog []bpf.Instruction, opts DisasmOptions) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(DisasmHeader)
	for _, l := range Disassemble(prog, opts) {
		bw.WriteString(l.String())
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// Disassemble turns prog into readable lines. It accepts any program, also
// one bpf.Validate refuses, so that a broken filter can still be inspected;
// instructions seccomp does not allow are shown by their classic BPF names.
//
// To name things it runs the program abstractly, like seccomp-tools: it
// follows which seccomp_data word or constant A, X and each scratch slot
// hold, and which arch a JEQ on the arch word has established, along every
// path (jumps only go forward, so one pass in order sees every predecessor
// of an instruction first). Where paths disagree the value is unknown and
// the line shows plain numbers.
func Disassemble(prog []bpf.Instruction, opts DisasmOptions) []Line {
	w := NewWalk(len(prog), opts)
	lines := make([]Line, len(prog))
	for pc, in := range prog {
		lines[pc] = describeLine(pc, in, w.Scope(pc))
		w.Step(pc, in)
	}
	return lines
}

// describeLine is the line of instruction pc in scope sc.
func describeLine(pc int, in bpf.Instruction, sc Scope) Line {
	l := Line{Index: pc, Instruction: in, Reachable: sc.Reachable}
	l.Text, l.Comment = describe(pc, in, sc)
	if !l.Reachable {
		l.Comment = joinComment(l.Comment, "unreachable")
	}
	return l
}

// DisassembleAt is Disassemble of only the instructions at pcs (in any
// order, each within prog): the lines come out in the order of pcs, named
// as Disassemble names them, without describing the rest (an evaluation's
// path through a large filter).
func DisassembleAt(prog []bpf.Instruction, opts DisasmOptions, pcs []int) []Line {
	last := -1
	want := make([]bool, len(prog))
	for _, pc := range pcs {
		want[pc] = true
		last = max(last, pc)
	}
	w := NewWalk(last+1, opts)
	byPC := make([]Line, last+1)
	for pc := 0; pc <= last; pc++ {
		in := prog[pc]
		if want[pc] {
			byPC[pc] = describeLine(pc, in, w.Scope(pc))
		}
		w.Step(pc, in)
	}
	lines := make([]Line, len(pcs))
	for i, pc := range pcs {
		lines[i] = byPC[pc]
	}
	return lines
}

// Walk runs the abstract interpretation of Disassemble one instruction at
// a time, so that an assembler can name things exactly as the
// disassembler does: the Scope of an instruction depends only on the
// instructions before it (jumps go forward).
type Walk struct {
	// states[pc] holds on every path to pc seen so far; reached[pc] says
	// whether there is one (values, not pointers: a walk of a large filter
	// allocates once).
	states  []absState
	reached []bool
	opts    DisasmOptions
}

// NewWalk starts a walk over a program of n instructions.
func NewWalk(n int, opts DisasmOptions) *Walk {
	w := &Walk{states: make([]absState, n), reached: make([]bool, n), opts: opts}
	if n > 0 {
		w.reached[0] = true
	}
	return w
}

// Scope is what holds before instruction pc on every path to it.
func (w *Walk) Scope(pc int) Scope {
	sc := Scope{opts: w.opts}
	if pc < len(w.states) && w.reached[pc] {
		sc.st, sc.Reachable = w.states[pc], true
	}
	return sc
}

// Step records instruction pc and hands what holds after it to its
// successors. Steps must come in program order.
func (w *Walk) Step(pc int, in bpf.Instruction) {
	if pc >= len(w.states) || !w.reached[pc] {
		return
	}
	succs, n := successors(pc, in, &w.states[pc], w.opts)
	for _, succ := range succs[:n] {
		if succ.pc >= len(w.states) {
			continue
		}
		if !w.reached[succ.pc] {
			w.states[succ.pc], w.reached[succ.pc] = succ.st, true
			continue
		}
		merge(&w.states[succ.pc], &succ.st)
	}
}

// Scope is what the disassembler knows before one instruction: which
// seccomp_data word A holds, which arch and syscall the path has
// established. Dead code knows nothing.
type Scope struct {
	st        absState
	opts      DisasmOptions
	Reachable bool
}

// NrArch returns the table that names syscall numbers compared here (with
// X32SyscallBit set for x32 numbers when nr has it): the arch the path has
// established, else DisasmOptions.Arch; nil if neither.
func (s Scope) NrArch(nr uint32) *arch.Arch { return syscallArch(&s.st, s.opts, nr) }

// Syscall returns the system call every path here has established (the
// syscall number compared equal, named by the arch known then) and its
// parameter names; "" if none.
func (s Scope) Syscall() (name string, params []string) { return s.st.sys, s.st.sysArgs }

// ArgWord names the seccomp_data word at off by the established syscall's
// parameter ("family", "family >> 32"); ok is false where it has none.
func (s Scope) ArgWord(off uint32) (string, bool) {
	i, hi, ok := argWord(off)
	if !ok {
		return "", false
	}
	_, params := s.Syscall()
	if i >= len(params) || params[i] == "" {
		return "", false
	}
	name := params[i]
	if hi {
		name += " >> 32"
	}
	return name, true
}

// Constants returns the kernel's named constants of what A holds here:
// the low word of an argument of the established syscall (possibly
// masked by an AND); nil otherwise.
func (s Scope) Constants() *sysconst.Set {
	if s.st.a.kind != absData && s.st.a.kind != absMasked {
		return nil
	}
	i, hi, ok := argWord(s.st.a.v)
	if !ok || hi {
		return nil
	}
	sys, params := s.Syscall()
	if i >= len(params) {
		return nil
	}
	return sysconst.For(sys, params[i])
}

// AHoldsNr reports whether A holds the syscall number here.
func (s Scope) AHoldsNr() bool { return s.st.a == absValue{absData, OffsetNr} }

// AHoldsArch reports whether A holds the arch word here.
func (s Scope) AHoldsArch() bool { return s.st.a == absValue{absData, OffsetArch} }

// argWord splits an offset into seccomp_data.args into the argument's
// index and half.
func argWord(off uint32) (i int, hi, ok bool) {
	if off < OffsetArgs || off >= DataSize || off%4 != 0 {
		return 0, false, false
	}
	return int(off-OffsetArgs) / 8, (off-OffsetArgs)%8 == 4, true
}

// absKind says what the abstract interpreter knows about a register.
type absKind uint8

const (
	absUnknown absKind = iota
	absData            // a word of seccomp_data, at off
	absConst           // the constant k
	absMasked          // a word of seccomp_data, at off, ANDed with a constant
)

type absValue struct {
	kind absKind
	v    uint32 // the offset for absData, the value for absConst
}

// absState is what holds on every path reaching an instruction.
type absState struct {
	a, x      absValue
	mem       [bpf.ScratchSlots]absValue
	audit     uint32 // seccomp_data.arch, when archKnown
	archKnown bool
	// The system call the path has established (a JEQ on the number
	// taken, named from the arch known then) and its parameter names on
	// that arch: paths of several arches meet in shared rule code, and
	// agree when they call the same syscall with the same parameters.
	sys     string
	sysArgs []string
}

// merge joins the knowledge of another path into out: only what both
// agree on survives.
func merge(out, add *absState) {
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
	switch {
	case out.sys != add.sys:
		out.sys, out.sysArgs = "", nil
	case !slices.Equal(out.sysArgs, add.sysArgs):
		// The same syscall with parameters in another order (clone on
		// i386 and x86_64): keep the names both orders share.
		common := make([]string, min(len(out.sysArgs), len(add.sysArgs)))
		for i := range common {
			if out.sysArgs[i] == add.sysArgs[i] {
				common[i] = out.sysArgs[i]
			}
		}
		out.sysArgs = common
	}
}

type successor struct {
	pc int
	st absState
}

// successors runs one instruction abstractly and returns the states it
// hands to the instructions it can continue at.
func successors(pc int, in bpf.Instruction, st *absState, opts DisasmOptions) (succs [2]successor, n int) {
	next := *st
	switch in.Class() {
	case bpf.ClassRET:
		return succs, 0
	case bpf.ClassLD, bpf.ClassLDX:
		v := absValue{}
		switch {
		case in.Mode() == bpf.ModeABS && in.Size() == bpf.SizeW:
			v = absValue{absData, in.K}
		case in.Mode() == bpf.ModeIMM:
			v = absValue{absConst, in.K}
		case in.Mode() == bpf.ModeLEN:
			v = absValue{absConst, DataSize}
		case in.Mode() == bpf.ModeMEM && in.K < bpf.ScratchSlots:
			v = st.mem[in.K]
		}
		if in.Class() == bpf.ClassLD {
			next.a = v
		} else {
			next.x = v
		}
	case bpf.ClassST, bpf.ClassSTX:
		if in.K < bpf.ScratchSlots {
			if in.Class() == bpf.ClassST {
				next.mem[in.K] = st.a
			} else {
				next.mem[in.K] = st.x
			}
		}
	case bpf.ClassALU:
		next.a = absValue{}
		if in.Op == bpf.ALU(bpf.AluAND, bpf.SrcK) && st.a.kind == absData {
			// A masked argument still reads as that argument's flags.
			next.a = absValue{absMasked, st.a.v}
		}
	case bpf.ClassMISC:
		if in.MiscOp() == bpf.MiscTAX {
			next.x = st.a
		} else {
			next.a = st.x
		}
	case bpf.ClassJMP:
		if in.JumpOp() == bpf.JmpJA {
			return [2]successor{{pc + 1 + int(in.K), next}}, 1
		}
		taken := next
		if in.JumpOp() == bpf.JmpJEQ && in.Src() == bpf.SrcK && st.a == (absValue{absData, OffsetArch}) {
			// On the equal branch the arch is known from here on.
			taken.audit, taken.archKnown = in.K, true
		}
		if in.JumpOp() == bpf.JmpJEQ && in.Src() == bpf.SrcK && st.a == (absValue{absData, OffsetNr}) {
			// And the syscall, for naming its arguments.
			taken.sys, taken.sysArgs = "", nil
			if a := syscallArch(st, opts, in.K); a != nil {
				if name, ok := a.SyscallName(in.K); ok {
					taken.sys, taken.sysArgs = name, a.SyscallArgs(name)
				}
			}
		}
		return [2]successor{{pc + 1 + int(in.Jt), taken}, {pc + 1 + int(in.Jf), next}}, 2
	}
	return [2]successor{{pc + 1, next}}, 1
}

// describe renders one instruction given what holds before it.
func describe(pc int, in bpf.Instruction, sc Scope) (text, comment string) {
	switch in.Op {
	case bpf.Load(bpf.SizeW, bpf.ModeABS):
		if name, ok := sc.ArgWord(in.K); ok {
			sys, params := sc.Syscall()
			return "A = " + name, signature(sys, params)
		}
		return "A = " + dataName(in.K), ""
	case bpf.Load(bpf.SizeW, bpf.ModeLEN), bpf.LoadX(bpf.SizeW, bpf.ModeLEN):
		return reg(in) + " = sizeof(seccomp_data)", ""
	case bpf.Load(bpf.SizeW, bpf.ModeIMM), bpf.LoadX(bpf.SizeW, bpf.ModeIMM):
		return fmt.Sprintf("%s = %#x", reg(in), in.K), ""
	case bpf.Load(bpf.SizeW, bpf.ModeMEM), bpf.LoadX(bpf.SizeW, bpf.ModeMEM):
		return fmt.Sprintf("%s = mem[%d]", reg(in), in.K), ""
	case bpf.Store:
		return fmt.Sprintf("mem[%d] = A", in.K), ""
	case bpf.StoreX:
		return fmt.Sprintf("mem[%d] = X", in.K), ""
	case bpf.Misc(bpf.MiscTAX):
		return "X = A", ""
	case bpf.Misc(bpf.MiscTXA):
		return "A = X", ""
	case bpf.Ret(bpf.RetA):
		return "return A", ""
	case bpf.Ret(bpf.RetK):
		return "return " + Action(in.K).String(), actionComment(Action(in.K))
	case bpf.Jump(bpf.JmpJA, bpf.SrcK):
		return fmt.Sprintf("goto %04d", pc+1+int(in.K)), ""
	case bpf.ALU(bpf.AluNEG, bpf.SrcK):
		return "A = -A", ""
	}
	switch in.Class() {
	case bpf.ClassALU:
		if op := in.AluOp().Operator(); op != "" {
			operand := aluOperand(in)
			if set := sc.Constants(); set != nil && in.Op == bpf.ALU(bpf.AluAND, bpf.SrcK) {
				if name, ok := set.FormatFlags(in.K); ok {
					operand = name
				}
			}
			text = fmt.Sprintf("A %s= %s", op, operand)
			if in.AluOp() == bpf.AluMOD {
				comment = "not allowed in seccomp filters"
			}
			return text, comment
		}
	case bpf.ClassJMP:
		if in.JumpOp().Known() {
			return describeJump(pc, in, sc)
		}
	}
	return fmt.Sprintf("%s %#x", in.Op.Name(), in.K), "not allowed in seccomp filters"
}

// signature writes a syscall with its parameters, "?" for one whose
// name the paths here do not agree on.
func signature(sys string, params []string) string {
	ps := make([]string, len(params))
	for i, p := range params {
		ps[i] = cmp.Or(p, "?")
	}
	return sys + "(" + strings.Join(ps, ", ") + ")"
}

func reg(in bpf.Instruction) string {
	if in.Class() == bpf.ClassLDX {
		return "X"
	}
	return "A"
}

func aluOperand(in bpf.Instruction) string {
	if in.Src() == bpf.SrcX {
		return "X"
	}
	return fmt.Sprintf("%#x", in.K)
}

// The names of the words of seccomp_data, as seccomp-tools writes them:
// the fields other than the arguments, then args[N]; the high half of a
// 64-bit field is written as a shift, any other offset as data[N].
// dataName writes them, ParseDataName (the assembler's) reads them back.
var dataFields = [...]struct {
	off  uint32
	name string
}{
	{OffsetNr, "sys_number"},
	{OffsetArch, "arch"},
	{OffsetIP, "instruction_pointer"},
	{OffsetIP + 4, "instruction_pointer >> 32"},
}

const highHalf = " >> 32"

func dataName(off uint32) string {
	for _, f := range dataFields {
		if f.off == off {
			return f.name
		}
	}
	if off >= OffsetArgs && off < DataSize && off%4 == 0 {
		name := "args[" + strconv.Itoa(int(off-OffsetArgs)/8) + "]"
		if (off-OffsetArgs)%8 == 4 {
			name += highHalf
		}
		return name
	}
	return fmt.Sprintf("data[%d]", off)
}

// ParseDataName reads a seccomp_data word as the disassembler names it
// (A = sys_number, args[1] >> 32, data[60]) and returns its offset. ok is
// false when s is not of that form; err is set when it is but names no
// word (args[6]: a syscall has 6 arguments).
func ParseDataName(s string) (off uint32, ok bool, err error) {
	for _, f := range dataFields {
		if f.name == s {
			return f.off, true, nil
		}
	}
	arg, high := strings.CutSuffix(s, highHalf)
	if i, found := enclosed(arg, "args["); found && len(i) == 1 && i[0] >= '0' && i[0] <= '9' {
		n := uint32(i[0] - '0')
		if n > 5 {
			return 0, true, fmt.Errorf("args[%d]: a system call has 6 arguments", n)
		}
		off = OffsetArgs + 8*n
		if high {
			off += 4
		}
		return off, true, nil
	}
	if i, found := enclosed(s, "data["); found && i != "" && strings.Trim(i, "0123456789") == "" {
		v, err := strconv.ParseUint(i, 10, 32)
		return uint32(v), true, err
	}
	return 0, false, nil
}

// enclosed returns what stands in s between prefix and a closing "]".
func enclosed(s, prefix string) (string, bool) {
	s, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return "", false
	}
	return strings.CutSuffix(s, "]")
}

// jumpCondition writes what a conditional jump tests: A compared with
// operand by op, or, negated, what holds when it falls through (A != 5;
// !(A & 8) for JSET, whose negation is no single operator).
func jumpCondition(op bpf.JumpOp, negate bool, operand string) string {
	taken, notTaken := op.Operators()
	switch {
	case !negate:
		return "A " + taken + " " + operand
	case notTaken != "":
		return "A " + notTaken + " " + operand
	}
	return "!(A " + taken + " " + operand + ")"
}

// conditionForms are the conditions jumpCondition writes, as the text
// around the operand, for ParseJumpCondition.
var conditionForms = sync.OnceValue(func() []conditionForm {
	var forms []conditionForm
	for _, op := range bpf.ConditionalJumps() {
		for _, negate := range []bool{false, true} {
			prefix, suffix, _ := strings.Cut(jumpCondition(op, negate, "\x00"), "\x00")
			forms = append(forms, conditionForm{op, negate, prefix, suffix})
		}
	}
	return forms
})

type conditionForm struct {
	op             bpf.JumpOp
	negate         bool
	prefix, suffix string
}

// ParseJumpCondition reads a condition as the disassembler writes it
// (A >= 0x10, !(A & CLONE_NEWNS)): the jump's comparison, whether the
// condition is its negation (the jump's fall-through), and the operand
// as written; ok is false for any other text.
func ParseJumpCondition(s string) (op bpf.JumpOp, negate bool, operand string, ok bool) {
	for _, f := range conditionForms() {
		if rest, found := strings.CutPrefix(s, f.prefix); found {
			if operand, found := strings.CutSuffix(rest, f.suffix); found && operand != "" {
				return f.op, f.negate, operand, true
			}
		}
	}
	return 0, false, "", false
}

func describeJump(pc int, in bpf.Instruction, sc Scope) (text, comment string) {
	operand, comment := jumpOperand(in, sc)
	cond := func(negate bool) string { return jumpCondition(in.JumpOp(), negate, operand) }
	jt, jf := pc+1+int(in.Jt), pc+1+int(in.Jf)
	switch {
	case in.Jt == in.Jf:
		// Both branches go to the same place: the test decides nothing.
		// Past the next line both are written, so that the text
		// assembles back exactly.
		text = fmt.Sprintf("if (%s) goto %04d", cond(false), jt)
		if in.Jt != 0 {
			text += fmt.Sprintf(" else goto %04d", jf)
		}
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
func jumpOperand(in bpf.Instruction, sc Scope) (operand, comment string) {
	if in.Src() == bpf.SrcX {
		return "X", ""
	}
	operand = fmt.Sprintf("%#x", in.K)
	if set := sc.Constants(); set != nil {
		name, ok := set.Format(in.K)
		if in.JumpOp() == bpf.JmpJSET {
			name, ok = set.FormatFlags(in.K)
		}
		if ok {
			return name, ""
		}
		return operand, ""
	}
	st := &sc.st
	if st.a.kind != absData || in.JumpOp() == bpf.JmpJSET {
		return operand, ""
	}
	switch st.a.v {
	case OffsetArch:
		if as := arch.ByAudit(in.K); len(as) > 0 {
			return "ARCH_" + as[0].AuditName(), ""
		}
	case OffsetNr:
		if in.K == arch.X32SyscallBit && in.JumpOp() != bpf.JmpJEQ {
			return operand, "X32_SYSCALL_BIT"
		}
		if in.JumpOp() != bpf.JmpJEQ {
			return operand, ""
		}
		a := sc.NrArch(in.K)
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
