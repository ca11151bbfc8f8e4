package bytecode

import (
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
)

func stmt(op bpf.Opcode, k uint32) bpf.Instruction { return bpf.Instruction{Op: op, K: k} }

func jump(op bpf.Opcode, k uint32, jt, jf uint8) bpf.Instruction {
	return bpf.Instruction{Op: op, Jt: jt, Jf: jf, K: k}
}

// TestDisassembleInstruction checks the text of every instruction seccomp
// allows, with nothing known about A.
func TestDisassembleInstruction(t *testing.T) {
	tests := []struct {
		in      bpf.Instruction
		text    string
		comment string
	}{
		{stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetNr), "A = sys_number", ""},
		{stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetArch), "A = arch", ""},
		{stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetIP), "A = instruction_pointer", ""},
		{stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetIP+4), "A = instruction_pointer >> 32", ""},
		{stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetArgs), "A = args[0]", ""},
		{stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetArgs+8*5+4), "A = args[5] >> 32", ""},
		{stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), 66), "A = data[66]", ""},
		{stmt(bpf.Load(bpf.SizeW, bpf.ModeLEN), 0), "A = sizeof(seccomp_data)", ""},
		{stmt(bpf.LoadX(bpf.SizeW, bpf.ModeLEN), 0), "X = sizeof(seccomp_data)", ""},
		{stmt(bpf.Load(bpf.SizeW, bpf.ModeIMM), 7), "A = 0x7", ""},
		{stmt(bpf.LoadX(bpf.SizeW, bpf.ModeIMM), 0), "X = 0x0", ""},
		{stmt(bpf.Load(bpf.SizeW, bpf.ModeMEM), 3), "A = mem[3]", ""},
		{stmt(bpf.LoadX(bpf.SizeW, bpf.ModeMEM), 15), "X = mem[15]", ""},
		{stmt(bpf.Store, 2), "mem[2] = A", ""},
		{stmt(bpf.StoreX, 2), "mem[2] = X", ""},
		{stmt(bpf.ALU(bpf.AluADD, bpf.SrcK), 16), "A += 0x10", ""},
		{stmt(bpf.ALU(bpf.AluSUB, bpf.SrcX), 0), "A -= X", ""},
		{stmt(bpf.ALU(bpf.AluAND, bpf.SrcK), 0xff), "A &= 0xff", ""},
		{stmt(bpf.ALU(bpf.AluRSH, bpf.SrcK), 4), "A >>= 0x4", ""},
		{stmt(bpf.ALU(bpf.AluNEG, bpf.SrcK), 0), "A = -A", ""},
		{stmt(bpf.ALU(bpf.AluMOD, bpf.SrcK), 3), "A %= 0x3", "not allowed in seccomp filters"},
		{stmt(bpf.Misc(bpf.MiscTAX), 0), "X = A", ""},
		{stmt(bpf.Misc(bpf.MiscTXA), 0), "A = X", ""},
		{stmt(bpf.Ret(bpf.RetA), 0), "return A", ""},
		{stmt(bpf.Ret(bpf.RetK), uint32(ActAllow)), "return ALLOW", ""},
		{stmt(bpf.Ret(bpf.RetK), uint32(ActKillThread)), "return KILL_THREAD", ""},
		{stmt(bpf.Ret(bpf.RetK), uint32(ActErrno|1)), "return ERRNO(1)", ""},
		{stmt(bpf.Ret(bpf.RetK), uint32(ActErrno|5000)), "return ERRNO(5000)", "the kernel caps it to ERRNO(4095)"},
		{stmt(bpf.Ret(bpf.RetK), 0x12340000), "return UNKNOWN(0x12340000)", "unknown action: the kernel kills the process"},
		{stmt(bpf.Jump(bpf.JmpJA, bpf.SrcK), 2), "goto 0003", ""},
		{jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 5, 1, 0), "if (A == 0x5) goto 0002", ""},
		{jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 5, 0, 1), "if (A != 0x5) goto 0002", ""},
		{jump(bpf.Jump(bpf.JmpJGT, bpf.SrcK), 5, 0, 1), "if (A <= 0x5) goto 0002", ""},
		{jump(bpf.Jump(bpf.JmpJGE, bpf.SrcK), 5, 0, 1), "if (A < 0x5) goto 0002", ""},
		{jump(bpf.Jump(bpf.JmpJGE, bpf.SrcX), 0, 1, 2), "if (A >= X) goto 0002 else goto 0003", ""},
		{jump(bpf.Jump(bpf.JmpJSET, bpf.SrcK), 8, 1, 0), "if (A & 0x8) goto 0002", ""},
		{jump(bpf.Jump(bpf.JmpJSET, bpf.SrcK), 8, 0, 1), "if (!(A & 0x8)) goto 0002", ""},
		{jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 5, 1, 1), "if (A == 0x5) goto 0002 else goto 0002", "both branches go to the same place"},
		{stmt(bpf.Load(bpf.SizeH, bpf.ModeABS), 0), "ldh abs 0x0", "not allowed in seccomp filters"},
		{stmt(bpf.Load(bpf.SizeW, bpf.ModeIND), 4), "ldw ind 0x4", "not allowed in seccomp filters"},
	}
	for _, tt := range tests {
		lines := Disassemble([]bpf.Instruction{tt.in}, DisasmOptions{})
		if got := lines[0]; got.Text != tt.text || got.Comment != tt.comment {
			t.Errorf("%#v: got %q # %q, want %q # %q", tt.in, got.Text, got.Comment, tt.text, tt.comment)
		}
	}
}

// allowList is what libseccomp makes of a small x86_64 allow list with
// x32 denied: arch check, the x32 split, then one JEQ per syscall.
var allowList = []bpf.Instruction{
	stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetArch),
	jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 0xc000003e, 0, 8),
	stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetNr),
	jump(bpf.Jump(bpf.JmpJGE, bpf.SrcK), arch.X32SyscallBit, 5, 0),
	jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 0, 3, 0),   // read
	jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 1, 2, 0),   // write
	jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 231, 1, 0), // exit_group
	stmt(bpf.Ret(bpf.RetK), uint32(ActErrno|1)),
	stmt(bpf.Ret(bpf.RetK), uint32(ActAllow)),
	stmt(bpf.Ret(bpf.RetK), uint32(ActKillProcess)),
}

func TestDisassembleProgram(t *testing.T) {
	var b strings.Builder
	if err := WriteDisassembly(&b, allowList, DisasmOptions{}); err != nil {
		t.Fatal(err)
	}
	want := DisasmHeader +
		" 0000: 0x20 0x00 0x00 0x00000004  A = arch\n" +
		" 0001: 0x15 0x00 0x08 0xc000003e  if (A != ARCH_X86_64) goto 0010\n" +
		" 0002: 0x20 0x00 0x00 0x00000000  A = sys_number\n" +
		" 0003: 0x35 0x05 0x00 0x40000000  if (A >= 0x40000000) goto 0009  # X32_SYSCALL_BIT\n" +
		" 0004: 0x15 0x03 0x00 0x00000000  if (A == read) goto 0008\n" +
		" 0005: 0x15 0x02 0x00 0x00000001  if (A == write) goto 0008\n" +
		" 0006: 0x15 0x01 0x00 0x000000e7  if (A == exit_group) goto 0008\n" +
		" 0007: 0x06 0x00 0x00 0x00050001  return ERRNO(1)\n" +
		" 0008: 0x06 0x00 0x00 0x7fff0000  return ALLOW\n" +
		" 0009: 0x06 0x00 0x00 0x80000000  return KILL_PROCESS\n"
	// The arch check jumps past the end (jf 8 from 1 is 10): the listing
	// still shows it; bpf.Validate is what refuses it.
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestDisassembleArchKnowledge checks that syscall names follow the arch
// the path has established, not a global guess.
func TestDisassembleArchKnowledge(t *testing.T) {
	prog := []bpf.Instruction{
		/* 0 */ stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetArch),
		/* 1 */ jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), arch.AArch64.Audit, 4, 0),
		/* 2 */ jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), arch.X86_64.Audit, 0, 8),
		/* 3 */ stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetNr),
		/* 4 */ jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 59, 5, 0), // x86_64 execve
		/* 5 */ jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), arch.X32SyscallBit+520, 4, 3), // x32 execve
		/* 6 */ stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetNr),
		/* 7 */ jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 221, 3, 0), // aarch64 execve
		/* 8 */ stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetNr),
		/* 9 */ jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 59, 0, 0), // joined from x86_64 (5) and aarch64 (8)
		/* 10 */ stmt(bpf.Ret(bpf.RetK), uint32(ActAllow)),
		/* 11 */ stmt(bpf.Ret(bpf.RetK), uint32(ActKillProcess)),
		/* 12 */ stmt(bpf.Ret(bpf.RetK), uint32(ActKillProcess)), // dead
	}
	lines := Disassemble(prog, DisasmOptions{})
	want := map[int][2]string{
		1:  {"if (A == ARCH_AARCH64) goto 0006", ""},
		2:  {"if (A != ARCH_X86_64) goto 0011", ""},
		4:  {"if (A == execve) goto 0010", ""},
		5:  {"if (A == 0x40000208) goto 0010 else goto 0009", "x32 execve"},
		7:  {"if (A == execve) goto 0011", ""},
		9:  {"if (A == 0x3b) goto 0010", "both branches go to the same place"},
		12: {"return KILL_PROCESS", "unreachable"},
	}
	for i, w := range want {
		if lines[i].Text != w[0] || lines[i].Comment != w[1] {
			t.Errorf("line %d: got %q # %q, want %q # %q", i, lines[i].Text, lines[i].Comment, w[0], w[1])
		}
	}
	// With a default arch, the joined path names numbers from it.
	lines = Disassemble(prog, DisasmOptions{Arch: arch.X86_64})
	if got := lines[9].Text; got != "if (A == execve) goto 0010" {
		t.Errorf("with default x86_64, line 9 = %q", got)
	}
	for _, l := range lines[:12] {
		if !l.Reachable {
			t.Errorf("line %d marked unreachable", l.Index)
		}
	}
}

// TestDisassembleThroughRegisters checks that values carried through X and
// scratch memory keep their meaning.
func TestDisassembleThroughRegisters(t *testing.T) {
	prog := []bpf.Instruction{
		stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetArch),
		stmt(bpf.Store, 0),
		stmt(bpf.Load(bpf.SizeW, bpf.ModeIMM), 0),
		stmt(bpf.Load(bpf.SizeW, bpf.ModeMEM), 0),
		jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), arch.X86.Audit, 0, 2),
		stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetNr),
		stmt(bpf.Misc(bpf.MiscTAX), 0),
		stmt(bpf.Misc(bpf.MiscTXA), 0),
		jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 102, 0, 0),
		stmt(bpf.ALU(bpf.AluADD, bpf.SrcK), 1),
		jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 102, 0, 0),
		stmt(bpf.Ret(bpf.RetA), 0),
	}
	lines := Disassemble(prog, DisasmOptions{})
	if got := lines[4].Text; got != "if (A != ARCH_I386) goto 0007" {
		t.Errorf("line 4 = %q", got)
	}
	// 7 is reached with the arch known as i386 (4's equal branch) and
	// without (4's other branch): the joined path names nothing.
	if got := lines[8].Text; got != "if (A == 0x66) goto 0009" {
		t.Errorf("line 8 = %q", got)
	}
	// After arithmetic, A is no longer the syscall number.
	if got := lines[10].Text; got != "if (A == 0x66) goto 0011" {
		t.Errorf("line 10 = %q", got)
	}
	// When 4's other branch leaves (to 11), the syscall number carried
	// through X is named from the i386 table.
	prog[4].Jf = 6
	lines = Disassemble(prog, DisasmOptions{})
	if got := lines[8].Text; got != "if (A == socketcall) goto 0009" {
		t.Errorf("line 8 without join = %q", got)
	}
}

func TestDisassembleEmpty(t *testing.T) {
	if lines := Disassemble(nil, DisasmOptions{}); len(lines) != 0 {
		t.Errorf("got %d lines for an empty program", len(lines))
	}
}

// The names the disassembler gives seccomp_data words and the conditions
// it writes read back to what they were written from (the assembler
// reads them with these parsers).
func TestDisassemblerNamesParseBack(t *testing.T) {
	for off := uint32(0); off < DataSize+8; off += 2 {
		got, ok, err := ParseDataName(dataName(off))
		if !ok || err != nil || got != off {
			t.Errorf("ParseDataName(%q) = %d, %v, %v; want %d", dataName(off), got, ok, err, off)
		}
	}
	for _, s := range []string{"args[6]", "args[9] >> 32"} {
		if _, ok, err := ParseDataName(s); !ok || err == nil {
			t.Errorf("ParseDataName(%q): ok %v, err %v; want a refusal", s, ok, err)
		}
	}
	for _, s := range []string{"family", "args[10]", "args[1]>>32", "sys_number >> 32", "data[]", "data[0x10]"} {
		if _, ok, _ := ParseDataName(s); ok {
			t.Errorf("ParseDataName(%q) took it for a seccomp_data word", s)
		}
	}
	for _, op := range bpf.ConditionalJumps() {
		for _, negate := range []bool{false, true} {
			text := jumpCondition(op, negate, "0x10")
			gotOp, gotNegate, operand, ok := ParseJumpCondition(text)
			if !ok || gotOp != op || gotNegate != negate || operand != "0x10" {
				t.Errorf("ParseJumpCondition(%q) = %v, %v, %q, %v", text, gotOp.Name(), gotNegate, operand, ok)
			}
		}
	}
	for _, s := range []string{"A = 5", "A ==", "X == 5", "A &= 5", "!(A & 5"} {
		if _, _, _, ok := ParseJumpCondition(s); ok {
			t.Errorf("ParseJumpCondition(%q) took it for a condition", s)
		}
	}
}

// Every action the kernel defines is named once: its name reads back.
func TestActionNamesParseBack(t *testing.T) {
	for _, k := range actionKinds {
		a := k.kind | 7
		if got, ok := ActionKind(a.Name()); !ok || got != k.kind {
			t.Errorf("ActionKind(%q) = %v, %v", a.Name(), got, ok)
		}
		if !a.Known() {
			t.Errorf("%s is not Known", a.Name())
		}
	}
	if _, ok := ActionKind("UNKNOWN"); ok || Action(0x12340000).Known() {
		t.Error("an unknown action has a kind")
	}
}
