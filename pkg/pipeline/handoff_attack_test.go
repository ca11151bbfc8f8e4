package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
)

// A spool that is a symbolic link, or that others may write, may hold
// records this program never wrote: nothing is spooled there and nothing
// there is signed.
func TestSpoolOfOthersIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, spool string)
	}{
		{"symlink", func(t *testing.T, spool string) {
			elsewhere := t.TempDir()
			if err := os.Symlink(elsewhere, spool); err != nil {
				t.Fatal(err)
			}
		}},
		{"writable by others", func(t *testing.T, spool string) {
			if err := os.Mkdir(spool, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(spool, 0o777); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, dir := handOffPipeline(t)
			spoolDir := filepath.Join(dir, "store", SpoolDir)
			if err := os.MkdirAll(filepath.Dir(spoolDir), 0o755); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, spoolDir)
			if _, err := p.HandOffStop(context.Background(), Container{ID: "c"}); err == nil || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("handed off into %s: %v", tc.name, err)
			}
			pred := p.basePredicate(&Container{ID: "planted", Event: EventStop})
			pred.Effective, pred.Policy = attest.Effective{Threads: []attest.ThreadGroup{}}, nil
			pred.Time = "2026-01-02T03:04:05Z"
			planted := filepath.Join(spoolDir, "record-1-planted.json")
			if err := os.WriteFile(planted, []byte(`{"predicate":`+mustJSON(t, pred)+`}`), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := p.AppendSpooled(context.Background()); err == nil || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("appended the spool of %s: %v", tc.name, err)
			}
			if _, err := os.Stat(planted); err != nil {
				t.Fatalf("the planted record: %v", err)
			}
			if stops := verifiedStops(t, dir); len(stops) != 0 {
				t.Fatalf("signed what was planted: %v", stops)
			}
		})
	}
}

// Only stop records and the errors of a process gone before its filters
// were read are handed off: a start record that passed, found in the
// spool, is forged, and is set aside rather than signed.
func TestSpooledStartRecordIsNotSigned(t *testing.T) {
	p, dir := handOffPipeline(t)
	pred := p.basePredicate(&Container{ID: "forged"})
	pred.Effective = attest.Effective{Threads: []attest.ThreadGroup{}}
	pred.Verdict = &attest.Verdict{Result: attest.ResultPass}
	pred.Time = "2026-01-02T03:04:05Z"
	forged := filepath.Join(dir, "store", SpoolDir, "record-1-forged.json")
	if err := os.MkdirAll(filepath.Dir(forged), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(forged, []byte(`{"predicate":`+mustJSON(t, pred)+`}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendSpooled(context.Background()); err == nil {
		t.Fatal("a spooled start record that passed was not reported")
	}
	entries, err := attest.Store{Dir: filepath.Join(dir, "store")}.Entries()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("the store holds %d attestations: the forged record was signed", len(entries))
	}
	if _, err := os.Stat(forged + ".bad"); err != nil {
		t.Fatalf("not set aside: %v", err)
	}
	// What the daemon does hand off still goes through.
	if _, err := p.HandOffFailure(context.Background(), Container{ID: "gone"}, os.ErrProcessDone); err != nil {
		t.Fatal(err)
	}
	FinishHandOffs(context.Background())
	if err := p.AppendSpooled(context.Background()); err != nil {
		t.Fatal(err)
	}
	if entries, _ := (attest.Store{Dir: filepath.Join(dir, "store")}).Entries(); len(entries) != 1 {
		t.Fatalf("the failure record: %d attestations, want 1", len(entries))
	}
}

// A record whose append failed (the store's disk was full) is appended
// again from the background, without waiting for another container to
// stop.
func TestFailedAppendOfTheSpoolIsRetried(t *testing.T) {
	old := spoolRetry
	spoolRetry = 50 * time.Millisecond
	t.Cleanup(func() { spoolRetry = old })
	// The failure is expected: reported nowhere.
	HandOffRecords(func(error) {})
	p, dir := handOffPipeline(t)
	lock := filepath.Join(dir, "store", ".lock")
	// A store that cannot be appended to for now.
	if err := os.MkdirAll(lock, 0o700); err != nil {
		t.Fatal(err)
	}
	spooled, err := p.HandOffStop(context.Background(), Container{ID: "later"})
	if err != nil {
		t.Fatal(err)
	}
	FinishHandOffs(context.Background())
	if _, err := os.Stat(spooled); err != nil {
		t.Fatalf("the store refused it, yet it left the spool: %v", err)
	}
	if err := os.Remove(lock); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(spooled); os.IsNotExist(err) {
			break
		}
	}
	FinishHandOffs(context.Background())
	if verifiedStops(t, dir)["later"] == nil {
		t.Fatal("the record stayed in the spool once the store could take it")
	}
}

// A spooled file that is no record (torn, planted) is set aside without
// holding up the records after it: they are appended in the same pass.
func TestSpooledBadFileDoesNotHoldUpTheRest(t *testing.T) {
	p, dir := handOffPipeline(t)
	spoolDir := filepath.Join(dir, "store", SpoolDir)
	if err := os.MkdirAll(spoolDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(spoolDir, "record-0-torn.json"), []byte(`{"predicate":`), 0o600); err != nil {
		t.Fatal(err)
	}
	pred := p.basePredicate(&Container{ID: "after", Event: EventStop})
	pred.Effective, pred.Policy = attest.Effective{Threads: []attest.ThreadGroup{}}, nil
	pred.Time = "2026-01-02T03:04:05Z"
	if _, err := spool(spoolDir, []byte(`{"predicate":`+mustJSON(t, pred)+`}`)); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendSpooled(context.Background()); err == nil || !strings.Contains(err.Error(), "moved to") {
		t.Fatalf("the torn file: %v", err)
	}
	if verifiedStops(t, dir)["after"] == nil {
		t.Fatal("the record after a torn file waited for another pass")
	}
}

// A process killed after it appended a spooled record, before it removed
// the copy, leaves the copy marked as being appended: the next pass finds
// the record in the store and removes the copy instead of appending it
// twice; a marked copy whose record never reached the store is appended.
func TestSpooledCopyMarkedCommittingIsAppendedOnce(t *testing.T) {
	p, dir := handOffPipeline(t)
	spoolDir := filepath.Join(dir, "store", SpoolDir)
	record := func(id string) []byte {
		pred := p.basePredicate(&Container{ID: id, Event: EventStop})
		pred.Effective, pred.Policy = attest.Effective{Threads: []attest.ThreadGroup{}}, nil
		pred.Time = "2026-01-02T03:04:05Z"
		return []byte(`{"predicate":` + mustJSON(t, pred) + `}`)
	}
	path, err := spool(spoolDir, record("appended"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendSpooled(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The crash: the copy is back, marked.
	if err := os.WriteFile(path+committingSuffix, record("appended"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(spoolDir, "record-9-never.json"+committingSuffix), record("never"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendSpooled(context.Background()); err != nil {
		t.Fatal(err)
	}
	stops := verifiedStops(t, dir) // fails on two stops of one container
	if stops["appended"] == nil || stops["never"] == nil {
		t.Fatalf("stops: %v", stops)
	}
	if left, _ := os.ReadDir(spoolDir); len(left) != 0 {
		t.Fatalf("left in the spool: %v", left)
	}
}

// AppendSpooledFor begins no record once its time has passed: what is
// left waits in the spool for the next append.
func TestAppendSpooledForIsBounded(t *testing.T) {
	p, dir := handOffPipeline(t)
	spoolDir := filepath.Join(dir, "store", SpoolDir)
	for i := range 3 {
		pred := p.basePredicate(&Container{ID: fmt.Sprintf("c%d", i), Event: EventStop})
		pred.Effective, pred.Policy = attest.Effective{Threads: []attest.ThreadGroup{}}, nil
		pred.Time = "2026-01-02T03:04:05Z"
		if _, err := spool(spoolDir, []byte(`{"predicate":`+mustJSON(t, pred)+`}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.AppendSpooledFor(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if n := len(verifiedStops(t, dir)); n != 0 {
		t.Fatalf("%d records begun after the time passed", n)
	}
	if err := p.AppendSpooledFor(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := len(verifiedStops(t, dir)); n != 3 {
		t.Fatalf("%d of 3 records appended within a minute", n)
	}
}
