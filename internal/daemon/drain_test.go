package daemon

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
)

// A daemon killed after it answered a poststop leaves the record in the
// store's spool; the next daemon appends it when it starts, not at the
// next hand-off to that store, which may never come.
func TestServeAppendsWhatAKilledDaemonLeftInTheSpool(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	cfgPath := filepath.Join(dir, "config.yaml")
	// A policy that cannot be read does not keep the records out: they
	// name theirs already.
	writeTestFile(t, filepath.Join(dir, "policy.yaml"), "mode: enforec\n")
	writeTestFile(t, cfgPath, "store: "+store+"\nkey: "+filepath.Join(dir, "keys", attest.PrivateKeyFile)+"\npolicy: "+filepath.Join(dir, "policy.yaml")+"\n")
	pred := attest.Predicate{Event: pipeline.EventStop, Container: attest.Container{ID: "left"},
		Effective: attest.Effective{Threads: []attest.ThreadGroup{}},
		Tool:      attest.Tool{Name: pipeline.ToolName, Version: "test"}, Time: "2026-01-02T03:04:05Z"}
	data, err := json.Marshal(map[string]any{"predicate": pred})
	if err != nil {
		t.Fatal(err)
	}
	spooled := filepath.Join(store, pipeline.SpoolDir, "record-1-left.json")
	if err := os.MkdirAll(filepath.Dir(spooled), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spooled, data, 0o600); err != nil {
		t.Fatal(err)
	}

	l, err := Listen(filepath.Join(dir, "run", "hook.sock"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logged strings.Builder
	log := logrus.New()
	log.SetOutput(&logged)
	go func() { done <- Serve(ctx, l, log, cfgPath) }()
	defer func() {
		cancel()
		<-done
	}()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(spooled); os.IsNotExist(err) {
			break
		}
	}
	if _, err := os.Stat(spooled); err == nil {
		t.Fatalf("still in the spool after 5 s (log: %s)", logged.String())
	}
	if id := signedBy(t, store, "left"); id == "" {
		t.Fatal("the record left in the spool is not in the store")
	}
}
