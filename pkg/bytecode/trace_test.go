package bytecode

import (
	"slices"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
)

func mustFilter(t *testing.T, prog ...bpf.Instruction) *Filter {
	t.Helper()
	f, err := NewFilter(prog)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestStackTrace(t *testing.T) {
	// older: ERRNO(1) for nr 41, else ALLOW; newer: KILL_PROCESS for nr 57,
	// ERRNO(2) for 41, else ALLOW.
	older := mustFilter(t,
		stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetNr),
		jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 41, 0, 1),
		stmt(bpf.Ret(bpf.RetK), uint32(ActErrno|1)),
		stmt(bpf.Ret(bpf.RetK), uint32(ActAllow)),
	)
	newer := mustFilter(t,
		stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetNr),
		jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 57, 2, 0),
		jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 41, 2, 0),
		stmt(bpf.Ret(bpf.RetK), uint32(ActAllow|7)),
		stmt(bpf.Ret(bpf.RetK), uint32(ActKillProcess)),
		stmt(bpf.Ret(bpf.RetK), uint32(ActErrno|2)),
	)
	s := Stack{older, newer}
	tests := []struct {
		nr        uint32
		action    Action
		decider   int
		olderPath []int
		newerPath []int
	}{
		{57, ActKillProcess, 1, []int{0, 1, 3}, []int{0, 1, 4}},
		// Equal strength: the newer filter runs first and keeps its errno.
		{41, ActErrno | 2, 1, []int{0, 1, 2}, []int{0, 1, 2, 5}},
		// Both allow: plain ALLOW (the kernel drops ALLOW's data).
		{0, ActAllow, 1, []int{0, 1, 3}, []int{0, 1, 2, 3}},
	}
	for _, tt := range tests {
		d := &Data{Nr: tt.nr}
		tr := s.Trace(d)
		if tr.Action != tt.action || tr.Decider != tt.decider || tr.Action != s.Run(d) {
			t.Errorf("nr %d: %v by %d (Run %v), want %v by %d", tt.nr, tr.Action, tr.Decider, s.Run(d), tt.action, tt.decider)
		}
		if !slices.Equal(tr.Runs[0].Path, tt.olderPath) || !slices.Equal(tr.Runs[1].Path, tt.newerPath) {
			t.Errorf("nr %d: paths %v %v, want %v %v", tt.nr, tr.Runs[0].Path, tr.Runs[1].Path, tt.olderPath, tt.newerPath)
		}
		for i, r := range tr.Runs {
			if r.Action != s[i].Run(d) {
				t.Errorf("nr %d filter %d: %v, Run %v", tt.nr, i, r.Action, s[i].Run(d))
			}
		}
	}
	// An older filter decides when it is stronger.
	if tr := (Stack{newer, older}).Trace(&Data{Nr: 41}); tr.Decider != 1 || tr.Action != ActErrno|1 {
		t.Errorf("reversed: %v by %d", tr.Action, tr.Decider)
	}
	if tr := (Stack{}).Trace(&Data{}); tr.Action != ActAllow || tr.Decider != -1 {
		t.Errorf("empty: %+v", tr)
	}
}
