package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// runDiff runs `diff` and returns its exit status as main would give it.
func runDiff(t *testing.T, args ...string) (int, string) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"diff"}, args...))
	err := root.Execute()
	if err != nil {
		out.WriteString(errorLine(err))
	}
	return exitCode(err), out.String()
}

func ret(a bc.Action) bpf.Instruction { return bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(a)} }

// Issue 13 item 1: the filters differ only at nr 0xffffffff, which an
// always-false test on the number used to cut out of the analysis: diff
// said "decide alike on every input" and exited 0.
func TestDiffSeesNrMax(t *testing.T) {
	ldNr := bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: bc.OffsetNr}
	errno := writeFilter(t, []bpf.Instruction{ret(bc.ActErrno | 2)})
	allowMax := writeFilter(t, []bpf.Instruction{
		ldNr,
		{Op: bpf.Jump(bpf.JmpJGT, bpf.SrcK), K: 0xffffffff, Jt: 2}, // never taken
		{Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), K: 0xffffffff, Jf: 1},
		ret(bc.ActAllow),
		ret(bc.ActErrno | 2),
	})
	code, out := runDiff(t, errno, allowMax)
	if code != exitNo || !strings.Contains(out, "ERRNO(2) -> ALLOW") || !strings.Contains(out, "nr 0xffffffff") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

// Issue 13 item 6: when every finding is undecided, diff says so and exits
// 3, not "different" with 1. The two filters compute their action from an
// argument (RET A), which the analysis cannot model; the second takes a
// detour through X to return the same.
func TestDiffOnlyUndecidedExits3(t *testing.T) {
	computed := []bpf.Instruction{
		{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: bc.OffsetArgs},
		{Op: bpf.ALU(bpf.AluOR, bpf.SrcK), K: uint32(bc.ActAllow)},
		{Op: bpf.Ret(bpf.RetA)},
	}
	detour := append(computed[:2:2], bpf.Instruction{Op: bpf.Misc(bpf.MiscTAX)}, bpf.Instruction{Op: bpf.Misc(bpf.MiscTXA)}, computed[2])
	a, b := writeFilter(t, computed), writeFilter(t, detour)
	code, out := runDiff(t, a, b)
	if code != exitUndecided || !strings.Contains(out, "undecided") || strings.Contains(out, "weaker, ") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

// The same programs are equivalent, even where the analysis would only say
// "undecided".
func TestDiffSameProgramsAreEquivalent(t *testing.T) {
	computed := writeFilter(t, []bpf.Instruction{
		{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: bc.OffsetArgs},
		{Op: bpf.Ret(bpf.RetA)},
	})
	if code, out := runDiff(t, computed, computed); code != exitOK || !strings.Contains(out, "decide alike") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}
