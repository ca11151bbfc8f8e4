package bytecode

import (
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
)

// A JSET on the syscall number with low mask bits cannot be split into
// intervals (it would take millions); the table used to list approximate
// rules that, read in order, gave ALLOW for nr 1 where the kernel returns
// ERRNO(1). Named syscalls of the architectures the filter checks are now
// exact, and the rest say "undecided".
func TestJsetOnNrIsExactForNamedSyscalls(t *testing.T) {
	prog := []bpf.Instruction{
		stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetArch),
		jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), arch.AArch64.Audit, 0, 1),
		stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetNr),
		jump(bpf.Jump(bpf.JmpJSET, bpf.SrcK), 0x87, 0, 1),
		stmt(bpf.Ret(bpf.RetK), uint32(ActErrno|1)),
		stmt(bpf.Ret(bpf.RetK), uint32(ActAllow)),
	}
	f, tab := analyzeProgram(t, prog)
	checkPartition(t, tab)
	for _, sc := range arch.AArch64.Syscalls() {
		d := &Data{Arch: arch.AArch64.Audit, Nr: sc.Nr}
		got, exact, _ := tab.Decide(d)
		if want := f.Run(d); !exact || len(got) != 1 || got[0] != want {
			t.Fatalf("aarch64 %s (nr %d): table %v (exact %v), kernel semantics %v", sc.Name, sc.Nr, got, exact, want)
		}
	}
	_, sr := tab.Lookup(arch.AArch64.Audit, 1) // io_destroy: 1 & 0x87 != 0
	if sr == nil || rowApproximate(sr.Rules) || sr.String() != "ERRNO(1)" {
		t.Errorf("aarch64 nr 1 reads %v", sr)
	}
	if !tab.Approximate {
		t.Errorf("unnamed numbers are still approximate: the table must say so")
	}
}

// Without an arch check nothing is named: the rows say "undecided" with
// every action they may give, instead of rules that read wrong in order.
func TestJsetOnNrSaysUndecided(t *testing.T) {
	prog := []bpf.Instruction{
		stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetNr),
		jump(bpf.Jump(bpf.JmpJSET, bpf.SrcK), 0x87, 0, 1),
		stmt(bpf.Ret(bpf.RetK), uint32(ActErrno|1)),
		stmt(bpf.Ret(bpf.RetK), uint32(ActAllow)),
	}
	_, tab := analyzeProgram(t, prog)
	var text strings.Builder
	if err := tab.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "undecided: one of {ERRNO(1), ALLOW}") && !strings.Contains(text.String(), "undecided: one of {ALLOW, ERRNO(1)}") {
		t.Errorf("the rows are not said to be undecided:\n%s", text.String())
	}
	js, err := tab.MarshalJSON()
	if err != nil || !strings.Contains(string(js), `"undecided":true`) {
		t.Errorf("JSON does not mark the rows undecided: %s %v", js, err)
	}
}

// Every row of a table over generated edge programs is exact or says
// undecided, and an exact row always agrees with the evaluator (checked by
// TestTablePartitionsInputSpace); here: undecided rows list every action
// the evaluator finds for them.
func TestUndecidedRowsListEveryAction(t *testing.T) {
	prog := []bpf.Instruction{
		stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetNr),
		jump(bpf.Jump(bpf.JmpJSET, bpf.SrcK), 0x87, 0, 1),
		stmt(bpf.Ret(bpf.RetK), uint32(ActErrno|1)),
		stmt(bpf.Ret(bpf.RetK), uint32(ActAllow)),
	}
	f, tab := analyzeProgram(t, prog)
	_, sr := tab.Lookup(arch.X86_64.Audit, 0x300000)
	if sr == nil || !rowApproximate(sr.Rules) {
		t.Fatalf("expected an undecided row, got %v", sr)
	}
	acts := PossibleActions(sr.Rules)
	for _, nr := range []uint32{0x300000, 0x300001, 0x300080, 0x300100} {
		if a := f.Run(&Data{Arch: arch.X86_64.Audit, Nr: nr}); !containsAction(acts, a) {
			t.Errorf("nr %#x: evaluator %v not in %v", nr, a, acts)
		}
	}
}

func containsAction(acts []Action, a Action) bool {
	for _, b := range acts {
		if a == b {
			return true
		}
	}
	return false
}

// analyzeProgram validates prog and returns its filter and decision table.
func analyzeProgram(t *testing.T, prog []bpf.Instruction) (*Filter, *Table) {
	t.Helper()
	f, err := NewFilter(prog)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Analyze(f)
	if err != nil {
		t.Fatal(err)
	}
	return f, tab
}
