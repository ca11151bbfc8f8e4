package pipeline

import (
	"os"
	"path/filepath"
	"testing"
)

// The version is what `EXE --version` prints, asked once per executable:
// the second container reads it from the store's cache.
func TestRuntimeVersion(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	exe := filepath.Join(dir, "runc")
	counter := filepath.Join(dir, "asked")
	script := "#!/bin/sh\necho x >>" + counter + "\necho 'runc version 1.9.9'\necho 'commit: v1.9.9-0-g0000000'\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if v := RuntimeVersion(exe, store); v != "1.9.9" {
			t.Fatalf("version %q, want 1.9.9", v)
		}
	}
	if data, _ := os.ReadFile(counter); string(data) != "x\n" {
		t.Errorf("asked the runtime %q times, want once", data)
	}
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, []byte("#!/bin/sh\necho 'not a runtime'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if v := RuntimeVersion(other, store); v != "" {
		t.Errorf("unknown output gave %q", v)
	}
	if v := RuntimeVersion(filepath.Join(dir, "missing"), store); v != "" {
		t.Errorf("missing runtime gave %q", v)
	}
}
