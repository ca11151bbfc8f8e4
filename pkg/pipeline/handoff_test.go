package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
)

func handOffPipeline(t *testing.T) (*Pipeline, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Key, cfg.Store = filepath.Join(dir, "keys", attest.PrivateKeyFile), filepath.Join(dir, "store")
	p, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p, dir
}

// verifiedStops verifies the store's attestations and returns those that
// record a container's end, by container id.
func verifiedStops(t *testing.T, dir string) map[string]*attest.Predicate {
	t.Helper()
	v, err := attest.LoadVerifier(filepath.Join(dir, "keys", attest.PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := attest.Store{Dir: filepath.Join(dir, "store")}.Entries()
	if err != nil {
		t.Fatal(err)
	}
	stops := map[string]*attest.Predicate{}
	for _, e := range entries {
		data, err := os.ReadFile(e.Path)
		if err != nil {
			t.Fatal(err)
		}
		r := attest.Verify(context.Background(), e.Path, data, v, attest.VerifyOptions{})
		if !r.Valid() {
			t.Fatalf("%s: %q", e.Path, r.Problems)
		}
		if pred := r.Predicate(); pred.Event == EventStop {
			if stops[pred.Container.ID] != nil {
				t.Fatalf("two stop records of %s", pred.Container.ID)
			}
			stops[pred.Container.ID] = pred
		}
	}
	return stops
}

// A handed-off stop is on disk when HandOffStop returns, reaches the
// store from the background with the bundle it had (the runtime removes
// the bundle right after poststop) and the time of the stop, and leaves
// the spool empty.
func TestHandOffStop(t *testing.T) {
	HandOffRecords(func(err error) { t.Error(err) })
	p, dir := handOffPipeline(t)
	bundle := filepath.Join(dir, "bundle")
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	config := []byte(`{"ociVersion":"1.0.2","process":{"args":["true"]},"linux":{}}`)
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), config, 0o644); err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC().Truncate(time.Second)
	spooled, err := p.HandOffStop(context.Background(), Container{ID: "c1", Bundle: bundle})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(bundle); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	FinishHandOffs(ctx)
	stop := verifiedStops(t, dir)["c1"]
	if stop == nil {
		t.Fatal("the handed-off stop is not in the store")
	}
	if at, err := time.Parse(time.RFC3339, stop.Time); err != nil || at.Before(before) {
		t.Errorf("stop time %q, want the time of the hand-off (%s)", stop.Time, before)
	}
	if stop.Container.Bundle != bundle {
		t.Errorf("bundle %q, want %q", stop.Container.Bundle, bundle)
	}
	if _, err := os.Stat(spooled); !os.IsNotExist(err) {
		t.Errorf("the spooled record %s is still there after its append: %v", spooled, err)
	}
}

// A record a daemon spooled but never appended (it stopped, or crashed)
// is appended by whoever appends the spool next, once.
func TestAppendSpooledLeftByADaemon(t *testing.T) {
	p, dir := handOffPipeline(t)
	pred := p.basePredicate(&Container{ID: "left", Event: EventStop})
	pred.Effective, pred.Policy = attest.Effective{Threads: []attest.ThreadGroup{}}, nil
	pred.Time = "2026-01-02T03:04:05Z"
	data := []byte(`{"predicate":` + mustJSON(t, pred) + `}`)
	if _, err := spool(filepath.Join(dir, "store", SpoolDir), data); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := p.AppendSpooled(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	stop := verifiedStops(t, dir)["left"]
	if stop == nil || stop.Time != pred.Time {
		t.Fatalf("the spooled record: %+v", stop)
	}
	// A file in the spool that is not a record is set aside, once.
	bad := filepath.Join(dir, "store", SpoolDir, "record-1-x.json")
	if err := os.WriteFile(bad, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendSpooled(context.Background()); err == nil {
		t.Fatal("a malformed spooled record was not reported")
	}
	if _, err := os.Stat(bad + ".bad"); err != nil {
		t.Fatalf("not set aside: %v", err)
	}
	if err := p.AppendSpooled(context.Background()); err != nil {
		t.Fatalf("after setting it aside: %v", err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The record of a process gone before its filters were read is handed
// off the same way, with its verdict and cause.
func TestHandOffFailure(t *testing.T) {
	HandOffRecords(func(err error) { t.Error(err) })
	p, dir := handOffPipeline(t)
	bundle := filepath.Join(dir, "bundle")
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(`{"ociVersion":"1.0.2","process":{"args":["true"]},"linux":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p.HandOffFailure(context.Background(), Container{ID: "gone", Bundle: bundle, PID: 7}, os.ErrProcessDone); err != nil {
		t.Fatal(err)
	}
	// Without its bundle, a start record is not made (RecordFailure's rule).
	if _, err := p.HandOffFailure(context.Background(), Container{ID: "nobundle", Bundle: filepath.Join(dir, "none")}, os.ErrProcessDone); err == nil {
		t.Fatal("a failure record without its bundle was handed off")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	FinishHandOffs(ctx)
	entries, err := attest.Store{Dir: filepath.Join(dir, "store")}.Entries()
	if err != nil || len(entries) != 1 {
		t.Fatalf("store: %v %v", entries, err)
	}
	data, err := os.ReadFile(entries[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := attest.DecodeUnverified(data)
	if err != nil {
		t.Fatal(err)
	}
	pred := st.Predicate
	if pred.Event != EventStart || pred.Verdict == nil || pred.Verdict.Result != attest.ResultError || pred.Verdict.Reasons[0] != os.ErrProcessDone.Error() {
		t.Fatalf("handed-off failure record: %+v", pred)
	}
}
