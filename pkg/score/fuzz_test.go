package score

import (
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/testfixture"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// FuzzCompute scores arbitrary valid filters: Compute never fails on a
// table the analysis built, the score stays within 0-100, and on an exact
// table every finding's input is confirmed by the concrete interpreter
// (the findings come from the table; the interpreter is the kernel's
// semantics, so they must agree).
func FuzzCompute(f *testing.F) {
	for _, name := range []string{"moby-default-v0.2.3.runc.bpf", "denylist.runc.bpf", "i386.runc.bpf", "podman-default.crun.bpf"} {
		f.Add(testfixture.Read(f, name))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		flt, err := bytecode.ParseFilter(raw)
		if err != nil {
			return
		}
		stack := bytecode.Stack{flt}
		tab, err := bytecode.AnalyzeStack(stack)
		if err != nil {
			return // too complex: the analysis's own budget
		}
		r, err := Compute(tab, Options{Stack: stack})
		if err != nil {
			t.Fatalf("Compute: %v", err)
		}
		if r.Score < 0 || r.Score > 100 || r.RawScore < r.Score || r.Grade == "" {
			t.Fatalf("score %v raw %v grade %q", r.Score, r.RawScore, r.Grade)
		}
		if tab.Approximate {
			return
		}
		for _, fd := range r.Findings {
			if fd.Input != nil && !fd.Confirmed {
				t.Fatalf("finding not confirmed by the interpreter: %+v input %+v", fd, fd.Input)
			}
		}
	})
}
