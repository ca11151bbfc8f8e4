// Package asm assembles the text the disassembler prints back into a raw
// seccomp filter, and prints filters in the assembler's own input form
// (labels instead of line numbers, a .arch directive, .raw for encodings
// the text cannot say).
//
// It accepts both forms: `seccomp-attest disasm` listings (the index and
// raw columns are skipped; an index must match the instruction's position)
// and `disasm --format asm`. Names resolve exactly as the disassembler
// wrote them: syscall names from the arch the path has established (else
// the .arch directive or Options.Arch), parameter and constant names from
// the syscall the path has established (bytecode.Walk gives both).
package asm

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// Options tune Assemble.
type Options struct {
	// Arch names syscall numbers on paths that establish no arch, as
	// DisasmOptions.Arch did when the text was printed; a .arch directive
	// in the text overrides it.
	Arch *arch.Arch
}

// MaxTextSize bounds the text Assemble reads: a listing of the largest
// filter with long comments stays well below it.
const MaxTextSize = 4 << 20

// Error is a problem with one line of the text.
type Error struct {
	Line int    // 1-based line number in the text
	Text string // the line as written
	Err  error
}

func (e *Error) Error() string {
	text := e.Text
	if len(text) > maxQuoted {
		// A hostile line is named, not echoed whole.
		text = text[:maxQuoted] + "..."
	}
	return fmt.Sprintf("line %d: %v: %q", e.Line, e.Err, text)
}

// maxQuoted bounds the part of a line an error quotes.
const maxQuoted = 80

func (e *Error) Unwrap() error { return e.Err }

// statement is one instruction's line, parsed but not resolved: names
// need the scope of the instructions before it.
type statement struct {
	line  int
	text  string // the statement without index, columns and comment
	raw   string // the line as written, for errors
	index int    // listing index, -1 if none
}

var (
	// " 0004: 0x15 0x00 0x01 0x0000003c  " of a listing, or "0004:".
	listingPrefix = lazyRegexp(`^\s*(\d+):\s*(?:0x[0-9a-fA-F]{2}\s+0x[0-9a-fA-F]{2}\s+0x[0-9a-fA-F]{2}\s+0x[0-9a-fA-F]{8}\b)?\s*`)
	labelLine     = lazyRegexp(`^\s*([A-Za-z_.][A-Za-z0-9_.]*):\s*$`)
	headerLine    = lazyRegexp(`^\s*(line\s+CODE\s+JT\s+JF\s+K|=+)\s*$`)
)

// Assemble reads the text of a filter and returns its instructions.
// Errors name the line (*Error); the result is not validated (see
// bpf.Validate), so that every encoding can be written.
func Assemble(r io.Reader, opts Options) ([]bpf.Instruction, error) {
	prog, _, err := AssembleLines(r, opts)
	return prog, err
}

// AssembleLines is Assemble that also returns the text line (1-based) of
// each instruction, to name it in later errors (bpf.Validate's).
func AssembleLines(r io.Reader, opts Options) ([]bpf.Instruction, []int, error) {
	stmts, labels, archName, err := parse(io.LimitReader(r, MaxTextSize+1))
	if err != nil {
		return nil, nil, err
	}
	if archName != "" {
		a, err := arch.ByName(archName)
		if err != nil {
			return nil, nil, fmt.Errorf(".arch: %w", err)
		}
		opts.Arch = a
	}
	if len(stmts) == 0 {
		return nil, nil, fmt.Errorf("no instructions")
	}
	if len(stmts) > bpf.MaxInstructions {
		return nil, nil, fmt.Errorf("%d instructions: the kernel takes at most %d", len(stmts), bpf.MaxInstructions)
	}
	prog := make([]bpf.Instruction, len(stmts))
	lines := make([]int, len(stmts))
	walk := bc.NewWalk(len(stmts), bc.DisasmOptions{Arch: opts.Arch})
	for pc, st := range stmts {
		a := assembler{pc: pc, n: len(stmts), labels: labels, scope: walk.Scope(pc)}
		in, err := a.statement(st.text)
		if err != nil {
			return nil, nil, &Error{Line: st.line, Text: st.raw, Err: err}
		}
		prog[pc], lines[pc] = in, st.line
		walk.Step(pc, in)
	}
	return prog, lines, nil
}

// parse splits the text into statements and labels (label -> position).
func parse(r io.Reader) (stmts []statement, labels map[string]int, archName string, err error) {
	labels = map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	line, size := 0, 0
	for sc.Scan() {
		line++
		raw := sc.Text()
		if size += len(raw) + 1; size > MaxTextSize {
			return nil, nil, "", fmt.Errorf("text longer than %d bytes", MaxTextSize)
		}
		text, _, _ := strings.Cut(raw, "#")
		if strings.TrimSpace(text) == "" || headerLine().MatchString(text) {
			continue
		}
		if m := labelLine().FindStringSubmatch(text); m != nil {
			if _, dup := labels[m[1]]; dup {
				return nil, nil, "", &Error{Line: line, Text: raw, Err: fmt.Errorf("label %s defined twice", m[1])}
			}
			labels[m[1]] = len(stmts)
			continue
		}
		fields := strings.Fields(text)
		switch fields[0] {
		case ".arch":
			if len(fields) != 2 {
				return nil, nil, "", &Error{Line: line, Text: raw, Err: fmt.Errorf(".arch takes one architecture name")}
			}
			archName = fields[1]
			continue
		}
		st := statement{line: line, raw: raw, index: -1}
		if m := listingPrefix().FindStringSubmatchIndex(text); m != nil {
			idx, err := strconv.Atoi(text[m[2]:m[3]])
			if err != nil || idx != len(stmts) {
				return nil, nil, "", &Error{Line: line, Text: raw,
					Err: fmt.Errorf("index %s, but this is instruction %d", text[m[2]:m[3]], len(stmts))}
			}
			st.index = idx
			text = text[m[1]:]
		}
		st.text = strings.Join(strings.Fields(text), " ")
		if len(stmts) == bpf.MaxInstructions {
			return nil, nil, "", &Error{Line: line, Text: raw,
				Err: fmt.Errorf("instruction %d: the kernel takes at most %d", len(stmts)+1, bpf.MaxInstructions)}
		}
		stmts = append(stmts, st)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, "", fmt.Errorf("read: %w", err)
	}
	for name, pos := range labels {
		if pos >= len(stmts) {
			return nil, nil, "", fmt.Errorf("label %s has no instruction after it", name)
		}
	}
	return stmts, labels, archName, nil
}

// assembler resolves one statement at position pc.
type assembler struct {
	pc, n  int
	labels map[string]int
	scope  bc.Scope
}

var (
	rawStmt    = lazyRegexp(`^\.raw (\S+) (\S+) (\S+) (\S+)$`)
	loadStmt   = lazyRegexp(`^([AX]) = (.+)$`)
	storeStmt  = lazyRegexp(`^mem\[(\d+)\] = ([AX])$`)
	aluStmt    = lazyRegexp(`^A (\+|-|\*|/|\||&|<<|>>|\^|%)= (.+)$`)
	returnStmt = lazyRegexp(`^return (.+)$`)
	gotoStmt   = lazyRegexp(`^goto (\S+)$`)
	ifStmt     = lazyRegexp(`^if \((.+)\) goto (\S+?)(?: else goto (\S+))?$`)
	memOperand = lazyRegexp(`^mem\[(\d+)\]$`)
	actionArg  = lazyRegexp(`^([A-Z_]+)\((\d+)\)$`)
)

// aluOps reads the operators the disassembler writes (bpf.AluOp.Operator)
// back; seccomp refuses %, the only one left out.
var aluOps = sync.OnceValue(func() map[string]bpf.AluOp {
	ops := map[string]bpf.AluOp{}
	for _, op := range bpf.AluOps() {
		if op != bpf.AluMOD {
			ops[op.Operator()] = op
		}
	}
	return ops
})

func (a *assembler) statement(s string) (bpf.Instruction, error) {
	if m := rawStmt().FindStringSubmatch(s); m != nil {
		return rawInstruction(m[1:])
	}
	if s == "A = -A" {
		return bpf.Instruction{Op: bpf.ALU(bpf.AluNEG, bpf.SrcK)}, nil
	}
	if m := loadStmt().FindStringSubmatch(s); m != nil {
		return a.load(m[1] == "X", m[2])
	}
	if m := storeStmt().FindStringSubmatch(s); m != nil {
		slot, err := scratch(m[1])
		op := bpf.Store
		if m[2] == "X" {
			op = bpf.StoreX
		}
		return bpf.Instruction{Op: op, K: slot}, err
	}
	if m := aluStmt().FindStringSubmatch(s); m != nil {
		op, ok := aluOps()[m[1]]
		if !ok {
			return bpf.Instruction{}, fmt.Errorf("the modulo operation (A %%= ...) is not allowed in seccomp filters")
		}
		if m[2] == "X" {
			return bpf.Instruction{Op: bpf.ALU(op, bpf.SrcX)}, nil
		}
		k, err := a.aluOperand(op, m[2])
		return bpf.Instruction{Op: bpf.ALU(op, bpf.SrcK), K: k}, err
	}
	if m := returnStmt().FindStringSubmatch(s); m != nil {
		if m[1] == "A" {
			return bpf.Instruction{Op: bpf.Ret(bpf.RetA)}, nil
		}
		k, err := parseAction(m[1])
		return bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: k}, err
	}
	if m := gotoStmt().FindStringSubmatch(s); m != nil {
		target, err := a.target(m[1])
		return bpf.Instruction{Op: bpf.Jump(bpf.JmpJA, bpf.SrcK), K: uint32(target - a.pc - 1)}, err
	}
	if m := ifStmt().FindStringSubmatch(s); m != nil {
		return a.jump(m[1], m[2], m[3])
	}
	return bpf.Instruction{}, fmt.Errorf("not an instruction")
}

// load assembles A = ... and X = ....
func (a *assembler) load(toX bool, src string) (bpf.Instruction, error) {
	load := bpf.Load
	if toX {
		load = bpf.LoadX
	}
	switch src {
	case "sizeof(seccomp_data)":
		return bpf.Instruction{Op: load(bpf.SizeW, bpf.ModeLEN)}, nil
	case "A":
		if toX {
			return bpf.Instruction{Op: bpf.Misc(bpf.MiscTAX)}, nil
		}
	case "X":
		if !toX {
			return bpf.Instruction{Op: bpf.Misc(bpf.MiscTXA)}, nil
		}
	}
	if m := memOperand().FindStringSubmatch(src); m != nil {
		slot, err := scratch(m[1])
		return bpf.Instruction{Op: load(bpf.SizeW, bpf.ModeMEM), K: slot}, err
	}
	if v, err := number(src); err == nil {
		return bpf.Instruction{Op: load(bpf.SizeW, bpf.ModeIMM), K: v}, nil
	}
	if toX {
		return bpf.Instruction{}, fmt.Errorf("register X cannot be loaded from %q (seccomp allows constants, mem[N] and A)", src)
	}
	off, err := a.dataOffset(src)
	return bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: off}, err
}

// dataOffset resolves a seccomp_data word as the disassembler prints it:
// a field (bytecode.ParseDataName) or a parameter of the established
// syscall (Scope.ArgWord).
func (a *assembler) dataOffset(src string) (uint32, error) {
	if off, ok, err := bc.ParseDataName(src); ok {
		return off, err
	}
	for off := uint32(bc.OffsetArgs); off < bc.DataSize; off += 4 {
		if name, ok := a.scope.ArgWord(off); ok && name == src {
			return off, nil
		}
	}
	if sys, params := a.scope.Syscall(); sys != "" {
		return 0, fmt.Errorf("%q is not a seccomp_data field nor a parameter of %s", src, strings.Join(append([]string{sys}, params...), " "))
	}
	return 0, fmt.Errorf("%q is not a seccomp_data field (a parameter name needs the syscall compared before it)", src)
}

// aluOperand resolves the constant of A op= K: named flags after an
// argument is loaded (A &= CLONE_NEWUSER|CLONE_NEWNS), else a number.
func (a *assembler) aluOperand(op bpf.AluOp, s string) (uint32, error) {
	if v, err := number(s); err == nil {
		return v, nil
	}
	if set := a.scope.Constants(); set != nil && op == bpf.AluAND {
		return set.Parse(s)
	}
	return 0, fmt.Errorf("%q is not a number", s)
}

// jump assembles if (COND) goto T [else goto F]: the condition as
// describeJump writes it, negated when the taken branch falls through.
func (a *assembler) jump(cond, thenLabel, elseLabel string) (bpf.Instruction, error) {
	op, negate, operand, ok := bc.ParseJumpCondition(cond)
	if !ok {
		return bpf.Instruction{}, fmt.Errorf("condition %q: want A ==, !=, >, <=, >=, < or & an operand", cond)
	}
	in := bpf.Instruction{Op: bpf.Jump(op, bpf.SrcK)}
	var err error
	if operand == "X" {
		in.Op = bpf.Jump(op, bpf.SrcX)
	} else if in.K, err = a.jumpOperand(op, operand); err != nil {
		return bpf.Instruction{}, err
	}
	t, err := a.offset(thenLabel)
	if err != nil {
		return bpf.Instruction{}, err
	}
	f := uint8(0)
	if elseLabel != "" {
		if f, err = a.offset(elseLabel); err != nil {
			return bpf.Instruction{}, err
		}
	}
	if negate {
		t, f = f, t
	}
	in.Jt, in.Jf = t, f
	return in, nil
}

// jumpOperand resolves what a jump compares A with, as jumpOperand in the
// disassembler names it.
func (a *assembler) jumpOperand(op bpf.JumpOp, s string) (uint32, error) {
	if v, err := number(s); err == nil {
		return v, nil
	}
	if set := a.scope.Constants(); set != nil {
		return set.Parse(s)
	}
	if name, ok := strings.CutPrefix(s, "ARCH_"); ok && a.scope.AHoldsArch() {
		for _, ar := range arch.All {
			if ar.AuditName() == name {
				return ar.Audit, nil
			}
		}
		return 0, fmt.Errorf("unknown architecture %s", s)
	}
	if a.scope.AHoldsNr() && op == bpf.JmpJEQ {
		table := a.scope.NrArch(0)
		if table == nil {
			return 0, fmt.Errorf("syscall name %q, but no arch is known here: give .arch or --arch", s)
		}
		if nr, ok := table.SyscallNr(s); ok {
			return nr, nil
		}
		return 0, fmt.Errorf("%q is not a syscall of %s", s, table.Name)
	}
	return 0, fmt.Errorf("%q is not a number nor a name known here", s)
}

// target resolves a jump target: a label, or a line number (the
// instruction at that position). Targets are forward, within the program.
func (a *assembler) target(s string) (int, error) {
	pos, ok := a.labels[s]
	if !ok {
		v, err := strconv.ParseUint(s, 10, 31)
		if err != nil {
			return 0, fmt.Errorf("unknown label %q", s)
		}
		pos = int(v)
	}
	if pos <= a.pc {
		return 0, fmt.Errorf("jump to %s goes backwards (instruction %d from %d): seccomp jumps only forward", s, pos, a.pc)
	}
	if pos >= a.n {
		return 0, fmt.Errorf("jump to %s is past the last instruction (%d)", s, a.n-1)
	}
	return pos, nil
}

// offset is a conditional jump's 8-bit offset to a target.
func (a *assembler) offset(s string) (uint8, error) {
	pos, err := a.target(s)
	if err != nil {
		return 0, err
	}
	if d := pos - a.pc - 1; d > 255 {
		return 0, fmt.Errorf("jump to %s is %d instructions ahead: a conditional jump reaches 256 (use goto)", s, d)
	}
	return uint8(pos - a.pc - 1), nil
}

// actionKind reads an action word as Action.String writes it, and
// seccomp-tools' KILL for KILL_THREAD.
func actionKind(name string) (bc.Action, bool) {
	if name == "KILL" {
		return bc.ActKillThread, true
	}
	return bc.ActionKind(name)
}

func parseAction(s string) (uint32, error) {
	if v, err := number(s); err == nil {
		return v, nil
	}
	if a, ok := actionKind(s); ok && !a.TakesData() {
		return uint32(a), nil
	}
	if m := actionArg().FindStringSubmatch(s); m != nil {
		a, ok := actionKind(m[1])
		data, err := strconv.ParseUint(m[2], 10, 16)
		if ok && err == nil && a.TakesData() {
			return uint32(a) | uint32(data), nil
		}
		if m[1] == "UNKNOWN" {
			return 0, fmt.Errorf("write an unknown action as its number")
		}
		if ok && err != nil {
			return 0, fmt.Errorf("action data %s: a 16-bit number", m[2])
		}
	}
	return 0, fmt.Errorf("unknown action %q (want KILL_PROCESS, KILL_THREAD, TRAP(N), ERRNO(N), USER_NOTIF, TRACE(N), LOG, ALLOW or a number)", s)
}

func scratch(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v >= bpf.ScratchSlots {
		return 0, fmt.Errorf("mem[%s]: scratch memory has %d words", s, bpf.ScratchSlots)
	}
	return uint32(v), nil
}

// number reads a 32-bit constant in Go syntax (0x28, 40, 0o50).
func number(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 0, 32)
	return uint32(v), err
}

// rawInstruction reads .raw OP JT JF K.
func rawInstruction(f []string) (bpf.Instruction, error) {
	var v [4]uint64
	bits := [4]int{16, 8, 8, 32}
	for i, s := range f {
		n, err := strconv.ParseUint(s, 0, bits[i])
		if err != nil {
			return bpf.Instruction{}, fmt.Errorf(".raw: %q is not a %d-bit number", s, bits[i])
		}
		v[i] = n
	}
	return bpf.Instruction{Op: bpf.Opcode(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}, nil
}

// lazyRegexp compiles a pattern when first used: every run of the
// command line links this package, few assemble.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
