package attest

import (
	"context"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/attest/schema"
)

// Verify holds predicates to the published schema, not only to the Go
// types: a negative pid is a valid int but not a valid predicate.
func TestVerifyChecksTheSchema(t *testing.T) {
	s, v, _ := testKey(t, KeyECDSAP256)
	good := attestOne(t, testRequest(s, t.TempDir(), nil, "good"))
	if r := Verify(context.Background(), "good", good.Envelope, v, VerifyOptions{Schema: schema.Validate}); !r.Valid() {
		t.Fatalf("a predicate the pipeline writes fails: %v", r.Problems)
	}
	req := testRequest(s, t.TempDir(), nil, "bad")
	req.Predicate.Container.PID = -1
	bad := attestOne(t, req)
	r := Verify(context.Background(), "bad", bad.Envelope, v, VerifyOptions{Schema: schema.Validate})
	if r.Valid() || !strings.Contains(strings.Join(r.Problems, "\n"), "does not match the schema") {
		t.Fatalf("problems %q", r.Problems)
	}
}
