package procscan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stateDirsWith writes runc and crun state for containers whose init is
// this test process (or, with a wrong start time, a reused pid).
func stateDirsWith(t *testing.T, start uint64) []StateDir {
	t.Helper()
	runc, crun := t.TempDir(), t.TempDir()
	write := func(path string, v any) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(v)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"abcdef0123", "abcdef9999"} {
		write(filepath.Join(runc, id, "state.json"), map[string]any{
			"init_process_pid": os.Getpid(), "init_process_start": start,
			"config": map[string]any{"labels": []string{"bundle=/bundles/" + id}},
		})
	}
	write(filepath.Join(crun, "web", "status"), map[string]any{"pid": os.Getpid(), "process-start-time": start, "bundle": "/bundles/web"})
	return []StateDir{{Runtime: "runc", Dir: runc}, {Runtime: "crun", Dir: crun}}
}

func TestLookup(t *testing.T) {
	self, err := readProcess("/proc", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	dirs := stateDirsWith(t, self.startTime)
	f, err := Lookup("abcdef0123", "", dirs)
	if err != nil || f.Runtime != "runc" || f.Bundle != "/bundles/abcdef0123" || f.InitPID != os.Getpid() {
		t.Fatalf("exact id: %+v %v", f, err)
	}
	if f, err = Lookup("abcdef99", "", dirs); err != nil || f.ID != "abcdef9999" {
		t.Fatalf("unique prefix: %+v %v", f, err)
	}
	if f, err = Lookup("web", "", dirs); err != nil || f.Runtime != "crun" || f.Bundle != "/bundles/web" {
		t.Fatalf("a short exact id: %+v %v", f, err)
	}
	if f, err = Lookup("abc", "", dirs); err == nil || !strings.Contains(err.Error(), "4 characters") {
		t.Fatalf("a 3-character prefix must be refused: %+v %v", f, err)
	}
	if f, err = Lookup("webx", "", dirs); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("missing: %+v %v", f, err)
	}
	if _, err = Lookup("abcdef", "", dirs); err == nil || !strings.Contains(err.Error(), "ambiguous") || !strings.Contains(err.Error(), "runc:abcdef9999") {
		t.Fatalf("ambiguous prefix: %v", err)
	}
	// A state file whose init start time differs: the pid was reused.
	stale := stateDirsWith(t, self.startTime+1)
	if _, err = Lookup("abcdef0123", "", stale); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("reused pid: %v", err)
	}
}
