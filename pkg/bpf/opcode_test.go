package bpf

import "testing"

// Every opcode names its fields; an ALU operation and a jump with the
// same bits are told apart by their class.
func TestOpcodeNames(t *testing.T) {
	for op, want := range map[Opcode]string{
		Load(SizeW, ModeABS):  "ldw abs",
		LoadX(SizeB, ModeMSH): "ldxb msh",
		Opcode(0x18):          "ld? imm",
		Opcode(0xe0):          "ldw ?",
		ALU(AluADD, SrcK):     "alu add",
		Jump(JmpJA, SrcK):     "ja",
		Jump(0x50, SrcK):      "jmp ?",
		ALU(0xf0, SrcX):       "alu ?",
		Store:                 "st",
		StoreX:                "stx",
		Ret(RetA):             "ret",
		Misc(MiscTXA):         "misc",
	} {
		if got := op.Name(); got != want {
			t.Errorf("Opcode(%#04x).Name() = %q, want %q", uint16(op), got, want)
		}
	}
}

// The arithmetic is the kernel's: 32 bits wrapping, register shifts by
// their low 5 bits.
func TestApplyAndTaken(t *testing.T) {
	for _, tc := range []struct {
		op   AluOp
		a, v uint32
		want uint32
	}{
		{AluADD, 0xffffffff, 2, 1},
		{AluSUB, 0, 1, 0xffffffff},
		{AluMUL, 0x10000, 0x10000, 0},
		{AluDIV, 7, 2, 3},
		{AluLSH, 1, 33, 2},
		{AluRSH, 4, 34, 1},
		{AluNEG, 1, 0, 0xffffffff},
		{AluAND, 0xf0, 0x3c, 0x30},
		{AluOR, 0xf0, 0x0f, 0xff},
		{AluXOR, 0xff, 0x0f, 0xf0},
	} {
		if got := tc.op.Apply(tc.a, tc.v); got != tc.want {
			t.Errorf("%s.Apply(%#x, %#x) = %#x, want %#x", tc.op.Name(), tc.a, tc.v, got, tc.want)
		}
	}
	for _, tc := range []struct {
		op   JumpOp
		a, v uint32
		want bool
	}{
		{JmpJEQ, 3, 3, true}, {JmpJGT, 3, 3, false}, {JmpJGE, 3, 3, true},
		{JmpJSET, 6, 1, false}, {JmpJSET, 6, 2, true}, {JmpJA, 0, 0, false},
	} {
		if got := tc.op.Taken(tc.a, tc.v); got != tc.want {
			t.Errorf("%s.Taken(%d, %d) = %v, want %v", tc.op.Name(), tc.a, tc.v, got, tc.want)
		}
	}
}

func TestConditionalJumps(t *testing.T) {
	got := ConditionalJumps()
	want := []JumpOp{JmpJEQ, JmpJGT, JmpJGE, JmpJSET}
	if len(got) != len(want) {
		t.Fatalf("ConditionalJumps() = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ConditionalJumps()[%d] = %s, want %s", i, got[i].Name(), want[i].Name())
		}
	}
}
