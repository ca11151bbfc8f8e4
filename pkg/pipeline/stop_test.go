package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
)

// The end of a container is recorded even when its bundle is gone by the
// time the poststop record is made: the record names the container by its
// id, verifies, and says why there is no config.json subject.
func TestStopRecordedWithoutBundle(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Key, cfg.Store = filepath.Join(dir, "keys", attest.PrivateKeyFile), filepath.Join(dir, "store")
	p, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	o, err := p.RecordStop(context.Background(), Container{ID: "gone", Bundle: filepath.Join(dir, "removed-bundle"), PID: 0})
	if err != nil {
		t.Fatalf("stop without bundle: %v", err)
	}
	data, err := os.ReadFile(o.Attestation.StorePath)
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.LoadVerifier(filepath.Join(dir, "keys", attest.PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	r := attest.Verify(context.Background(), o.Attestation.StorePath, data, v, attest.VerifyOptions{})
	if !r.Valid() || r.Predicate().Event != EventStop || !strings.Contains(strings.Join(r.Notes, "\n"), "bundle was gone") {
		t.Fatalf("stop record: valid %v problems %q notes %q", r.Valid(), r.Problems, r.Notes)
	}
	// Anything else about a missing bundle is still an error.
	if _, err := p.RecordFailure(context.Background(), Container{ID: "gone", Bundle: filepath.Join(dir, "removed-bundle")}, os.ErrClosed); err == nil {
		t.Fatal("a failure record without its bundle was written")
	}
}
