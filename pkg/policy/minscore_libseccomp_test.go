//go:build libseccomp

package policy

import (
	"strings"
	"testing"
)

// minScore is judged with package score on the effective filter: Docker's
// default (moby v0.2.3) scores 50, capped by the failing grade ptrace and
// process_vm_* force.
func TestMinScore(t *testing.T) {
	moby := fixture(t, "moby-default-v0.2.3.runc.bpf")
	parse := func(src string) *Policy {
		t.Helper()
		p, err := Parse([]byte(src), "minscore.yaml", "")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	v := evaluate(t, parse("minScore: 50\n"), Input{Effective: moby})
	if v.Result != Pass || !strings.Contains(strings.Join(v.Notes, "\n"), "minScore: score 50.0 (grade F), at least 50") {
		t.Errorf("minScore 50: %s %v %v", v.Result, v.Reasons, v.Notes)
	}
	v = evaluate(t, parse("minScore: 70\n"), Input{Effective: moby})
	reasons := strings.Join(v.Reasons, "\n")
	if v.Result != Fail || !strings.Contains(reasons, "minScore: score 50.0 (grade F) is below 70; failing grade forced by") ||
		!strings.Contains(reasons, "ptrace") {
		t.Errorf("minScore 70: %s %v", v.Result, v.Reasons)
	}
	// An allow-all filter scores 0.
	v = evaluate(t, parse("minScore: 1\nbaselines: []\n"), Input{Effective: allowAll(t)})
	if v.Result != Fail || !strings.Contains(strings.Join(v.Reasons, "\n"), "minScore: score 0.0") {
		t.Errorf("allow-all: %s %v", v.Result, v.Reasons)
	}
}
