package attest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// Committed runs once the attestation is in the store and before its
// checkpoint is written: a handed-off record's spooled copy goes then, so
// that a crash while the checkpoint is signed and written does not leave
// the record to be appended again.
func TestCommittedComesBeforeTheCheckpoint(t *testing.T) {
	s, _, _ := testKey(t, KeyECDSAP256)
	dir := t.TempDir()
	called := false
	res, err := Attest(context.Background(), Request{Signer: s, Store: Store{Dir: dir},
		Predicate: Predicate{Event: "stop", Container: Container{ID: "c1"}, Effective: Effective{Threads: []ThreadGroup{}}, Tool: Tool{Name: "t", Version: "1"}},
		Committed: func() {
			called = true
			if files, _ := filepath.Glob(filepath.Join(dir, "00000001-c1.intoto.jsonl")); len(files) != 1 {
				t.Error("Committed before the attestation is in the store")
			}
			if _, err := os.Stat(filepath.Join(dir, CheckpointFile)); err == nil {
				t.Error("Committed after the checkpoint was written")
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if !called {
		t.Fatal("Committed was not called")
	}
	if res.CheckpointErr != nil || res.Checkpoint == nil {
		t.Fatalf("checkpoint: %v", res.CheckpointErr)
	}
}
