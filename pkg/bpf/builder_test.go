package bpf

import (
	"slices"
	"strings"
	"testing"
)

// A program written with labels comes out with the offsets written by
// hand, and passes the kernel's checks.
func TestBuilderResolvesLabels(t *testing.T) {
	var b Builder
	b.Emit(Load(SizeW, ModeABS), 0)
	b.JumpIf(JmpJEQ, 59, "deny", "")
	b.JumpIf(JmpJGT, 400, "", "allow")
	b.Goto("deny")
	b.Label("allow")
	b.Emit(Ret(RetK), 0x7fff0000)
	b.Label("deny")
	b.Emit(Ret(RetK), 0x00050001)
	got, err := b.Program()
	if err != nil {
		t.Fatal(err)
	}
	want := []Instruction{
		{Op: Load(SizeW, ModeABS), K: 0},
		{Op: Jump(JmpJEQ, SrcK), Jt: 3, Jf: 0, K: 59},
		{Op: Jump(JmpJGT, SrcK), Jt: 0, Jf: 1, K: 400},
		{Op: Jump(JmpJA, SrcK), K: 1},
		{Op: Ret(RetK), K: 0x7fff0000},
		{Op: Ret(RetK), K: 0x00050001},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Program() =\n%v\nwant\n%v", got, want)
	}
	if err := Validate(got); err != nil {
		t.Error(err)
	}
}

// A label at the end is a jump past the program (into one that follows).
func TestBuilderLabelAtTheEnd(t *testing.T) {
	var b Builder
	b.JumpIf(JmpJSET, 1, "end", "")
	b.JumpIfX(JmpJGE, "", "end")
	b.Goto("end")
	b.Label("end")
	got, err := b.Program()
	if err != nil {
		t.Fatal(err)
	}
	want := []Instruction{
		{Op: Jump(JmpJSET, SrcK), Jt: 2, K: 1},
		{Op: Jump(JmpJGE, SrcX), Jf: 1},
		{Op: Jump(JmpJA, SrcK), K: 0},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Program() = %v, want %v", got, want)
	}
}

func TestBuilderErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(b *Builder)
		want  string
	}{
		{"undefined", func(b *Builder) { b.Goto("nowhere") }, `undefined label "nowhere"`},
		{"backwards", func(b *Builder) { b.Label("top"); b.Emit(Load(SizeW, ModeABS), 0); b.Goto("top") }, "goes backwards"},
		{"twice", func(b *Builder) { b.Label("a"); b.Label("a") }, `label "a" defined twice`},
		{"too far", func(b *Builder) {
			b.JumpIf(JmpJEQ, 0, "far", "")
			for range 256 {
				b.Emit(Ret(RetK), 0)
			}
			b.Label("far")
		}, "conditional jump of 256 instructions"},
	} {
		var b Builder
		tc.build(&b)
		if _, err := b.Program(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Program() error %v, want %q", tc.name, err, tc.want)
		}
	}
}
