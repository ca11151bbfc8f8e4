package bytecode

import (
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

func stmt(op uint16, k uint32) Instruction { return Instruction{Op: op, K: k} }

func jump(op uint16, k uint32, jt, jf uint8) Instruction {
	return Instruction{Op: op, Jt: jt, Jf: jf, K: k}
}

// TestDisassembleInstruction checks the text of every instruction seccomp
// allows, with nothing known about A.
func TestDisassembleInstruction(t *testing.T) {
	tests := []struct {
		in      Instruction
		text    string
		comment string
	}{
		{stmt(ClassLD|SizeW|ModeABS, OffsetNr), "A = sys_number", ""},
		{stmt(ClassLD|SizeW|ModeABS, OffsetArch), "A = arch", ""},
		{stmt(ClassLD|SizeW|ModeABS, OffsetIP), "A = instruction_pointer", ""},
		{stmt(ClassLD|SizeW|ModeABS, OffsetIP+4), "A = instruction_pointer >> 32", ""},
		{stmt(ClassLD|SizeW|ModeABS, OffsetArgs), "A = args[0]", ""},
		{stmt(ClassLD|SizeW|ModeABS, OffsetArgs+8*5+4), "A = args[5] >> 32", ""},
		{stmt(ClassLD|SizeW|ModeABS, 66), "A = data[66]", ""},
		{stmt(ClassLD|SizeW|ModeLEN, 0), "A = sizeof(seccomp_data)", ""},
		{stmt(ClassLDX|SizeW|ModeLEN, 0), "X = sizeof(seccomp_data)", ""},
		{stmt(ClassLD|ModeIMM, 7), "A = 0x7", ""},
		{stmt(ClassLDX|ModeIMM, 0), "X = 0x0", ""},
		{stmt(ClassLD|ModeMEM, 3), "A = mem[3]", ""},
		{stmt(ClassLDX|ModeMEM, 15), "X = mem[15]", ""},
		{stmt(ClassST, 2), "mem[2] = A", ""},
		{stmt(ClassSTX, 2), "mem[2] = X", ""},
		{stmt(ClassALU|AluADD|SrcK, 16), "A += 0x10", ""},
		{stmt(ClassALU|AluSUB|SrcX, 0), "A -= X", ""},
		{stmt(ClassALU|AluAND|SrcK, 0xff), "A &= 0xff", ""},
		{stmt(ClassALU|AluRSH|SrcK, 4), "A >>= 0x4", ""},
		{stmt(ClassALU|AluNEG, 0), "A = -A", ""},
		{stmt(ClassALU|AluMOD|SrcK, 3), "A %= 0x3", "not allowed in seccomp filters"},
		{stmt(ClassMISC|MiscTAX, 0), "X = A", ""},
		{stmt(ClassMISC|MiscTXA, 0), "A = X", ""},
		{stmt(ClassRET|RetA, 0), "return A", ""},
		{stmt(ClassRET|RetK, uint32(ActAllow)), "return ALLOW", ""},
		{stmt(ClassRET|RetK, uint32(ActKillThread)), "return KILL_THREAD", ""},
		{stmt(ClassRET|RetK, uint32(ActErrno|1)), "return ERRNO(1)", ""},
		{stmt(ClassRET|RetK, uint32(ActErrno|5000)), "return ERRNO(5000)", "the kernel caps it to ERRNO(4095)"},
		{stmt(ClassRET|RetK, 0x12340000), "return UNKNOWN(0x12340000)", "unknown action: the kernel kills the process"},
		{stmt(ClassJMP|JmpJA, 2), "goto 0003", ""},
		{jump(ClassJMP|JmpJEQ|SrcK, 5, 1, 0), "if (A == 0x5) goto 0002", ""},
		{jump(ClassJMP|JmpJEQ|SrcK, 5, 0, 1), "if (A != 0x5) goto 0002", ""},
		{jump(ClassJMP|JmpJGT|SrcK, 5, 0, 1), "if (A <= 0x5) goto 0002", ""},
		{jump(ClassJMP|JmpJGE|SrcK, 5, 0, 1), "if (A < 0x5) goto 0002", ""},
		{jump(ClassJMP|JmpJGE|SrcX, 0, 1, 2), "if (A >= X) goto 0002 else goto 0003", ""},
		{jump(ClassJMP|JmpJSET|SrcK, 8, 1, 0), "if (A & 0x8) goto 0002", ""},
		{jump(ClassJMP|JmpJSET|SrcK, 8, 0, 1), "if (!(A & 0x8)) goto 0002", ""},
		{jump(ClassJMP|JmpJEQ|SrcK, 5, 1, 1), "if (A == 0x5) goto 0002 else goto 0002", "both branches go to the same place"},
		{stmt(ClassLD|SizeH|ModeABS, 0), "ldh abs 0x0", "not allowed in seccomp filters"},
		{stmt(ClassLD|SizeW|ModeIND, 4), "ldw ind 0x4", "not allowed in seccomp filters"},
	}
	for _, tt := range tests {
		lines := Disassemble([]Instruction{tt.in}, DisasmOptions{})
		if got := lines[0]; got.Text != tt.text || got.Comment != tt.comment {
			t.Errorf("%#v: got %q # %q, want %q # %q", tt.in, got.Text, got.Comment, tt.text, tt.comment)
		}
	}
}

// allowList is what libseccomp makes of a small x86_64 allow list with
// x32 denied: arch check, the x32 split, then one JEQ per syscall.
var allowList = []Instruction{
	stmt(ClassLD|SizeW|ModeABS, OffsetArch),
	jump(ClassJMP|JmpJEQ|SrcK, 0xc000003e, 0, 8),
	stmt(ClassLD|SizeW|ModeABS, OffsetNr),
	jump(ClassJMP|JmpJGE|SrcK, arch.X32SyscallBit, 5, 0),
	jump(ClassJMP|JmpJEQ|SrcK, 0, 3, 0),   // read
	jump(ClassJMP|JmpJEQ|SrcK, 1, 2, 0),   // write
	jump(ClassJMP|JmpJEQ|SrcK, 231, 1, 0), // exit_group
	stmt(ClassRET|RetK, uint32(ActErrno|1)),
	stmt(ClassRET|RetK, uint32(ActAllow)),
	stmt(ClassRET|RetK, uint32(ActKillProcess)),
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
	// still shows it; Validate is what refuses it.
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestDisassembleArchKnowledge checks that syscall names follow the arch
// the path has established, not a global guess.
func TestDisassembleArchKnowledge(t *testing.T) {
	prog := []Instruction{
		/* 0 */ stmt(ClassLD|SizeW|ModeABS, OffsetArch),
		/* 1 */ jump(ClassJMP|JmpJEQ|SrcK, arch.AArch64.Audit, 4, 0),
		/* 2 */ jump(ClassJMP|JmpJEQ|SrcK, arch.X86_64.Audit, 0, 8),
		/* 3 */ stmt(ClassLD|SizeW|ModeABS, OffsetNr),
		/* 4 */ jump(ClassJMP|JmpJEQ|SrcK, 59, 5, 0), // x86_64 execve
		/* 5 */ jump(ClassJMP|JmpJEQ|SrcK, arch.X32SyscallBit+520, 4, 3), // x32 execve
		/* 6 */ stmt(ClassLD|SizeW|ModeABS, OffsetNr),
		/* 7 */ jump(ClassJMP|JmpJEQ|SrcK, 221, 3, 0), // aarch64 execve
		/* 8 */ stmt(ClassLD|SizeW|ModeABS, OffsetNr),
		/* 9 */ jump(ClassJMP|JmpJEQ|SrcK, 59, 0, 0), // joined from x86_64 (5) and aarch64 (8)
		/* 10 */ stmt(ClassRET|RetK, uint32(ActAllow)),
		/* 11 */ stmt(ClassRET|RetK, uint32(ActKillProcess)),
		/* 12 */ stmt(ClassRET|RetK, uint32(ActKillProcess)), // dead
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
	prog := []Instruction{
		stmt(ClassLD|SizeW|ModeABS, OffsetArch),
		stmt(ClassST, 0),
		stmt(ClassLD|ModeIMM, 0),
		stmt(ClassLD|ModeMEM, 0),
		jump(ClassJMP|JmpJEQ|SrcK, arch.X86.Audit, 0, 2),
		stmt(ClassLD|SizeW|ModeABS, OffsetNr),
		stmt(ClassMISC|MiscTAX, 0),
		stmt(ClassMISC|MiscTXA, 0),
		jump(ClassJMP|JmpJEQ|SrcK, 102, 0, 0),
		stmt(ClassALU|AluADD|SrcK, 1),
		jump(ClassJMP|JmpJEQ|SrcK, 102, 0, 0),
		stmt(ClassRET|RetA, 0),
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
