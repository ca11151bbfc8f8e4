//go:build libseccomp

package policy

import (
	"context"
	"strings"
	"testing"
)

// A request whose deadline has passed gets no verdict from half-done
// analyses: what could not be decided in time fails closed, and says why.
func TestEvaluateAfterTheDeadlineFailsClosed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	eff := fixture(t, "moby-default-v0.2.3.runc.bpf")
	v, err := Default().EvaluateContext(ctx, Input{Effective: eff})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(v.Reasons, "\n")
	if v.Result != Fail || !strings.Contains(all, "context canceled") || !strings.Contains(all, "fail closed") {
		t.Fatalf("result %s, reasons:\n%s", v.Result, all)
	}
	// The same filter with time passes: nothing of the stopped run stuck.
	if v := evaluate(t, Default(), Input{Effective: eff}); v.Result != Pass {
		t.Fatalf("afterwards: %s %v", v.Result, v.Reasons)
	}
}
