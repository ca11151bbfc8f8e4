package hook

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/daemon/wire"
	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
)

// A policy that cannot be read refuses every container it would judge,
// but the end of a container already running is recorded all the same:
// a stop record names no policy.
func TestPoststopRecordedWhateverThePolicy(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := "store: " + store + "\nkey: " + filepath.Join(dir, "keys", "signing.key") + "\nlog: '-'\npolicy: " + filepath.Join(dir, "policy.yaml") + "\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte("mode: enforec\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, "bundle")
	if err := os.Mkdir(bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(`{"ociVersion":"1.0.2","process":{"args":["true"]},"linux":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	state := `{"ociVersion":"1.0.2","id":"ended","status":"stopped","pid":0,"bundle":"` + bundle + `"}`
	var stderr bytes.Buffer
	loader := pipeline.Cold{}
	code, _ := run(context.Background(), loader, kernelReader{}, wire.HookRequest{Stage: wire.StagePoststop, Config: cfgPath}, strings.NewReader(state), &stderr, os.Getpid(), false)
	if code != exitOK {
		t.Fatalf("poststop under a broken policy: exit %d: %s", code, stderr.String())
	}
	if files, _ := filepath.Glob(filepath.Join(store, "*-ended.intoto.jsonl")); len(files) != 1 {
		t.Fatalf("stop records in the store: %v (%s)", files, stderr.String())
	}
	// The policy still refuses what it would judge.
	stderr.Reset()
	code, _ = run(context.Background(), loader, kernelReader{}, wire.HookRequest{Stage: wire.StageCreateRuntime, Config: cfgPath}, strings.NewReader(state), &stderr, os.Getpid(), false)
	if code == exitOK {
		t.Fatalf("createRuntime under a broken policy passed: %s", stderr.String())
	}
}
