package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile/inputfiletest"
)

func TestOpenDigestIsTheSourceBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.yaml")
	data := []byte("mode: audit\nallowUnconfined: true\n")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	p, d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if d != hex.EncodeToString(sum[:]) || p.Mode != ModeAudit {
		t.Fatalf("Open(%s) = mode %s digest %s", path, p.Mode, d)
	}
	def, dd, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := embedded.ReadFile("default.yaml")
	sum = sha256.Sum256(raw)
	if dd != hex.EncodeToString(sum[:]) || def.Source() != "preset:default" {
		t.Fatalf("default: %s %s", def.Source(), dd)
	}
	if _, ds, err := Open("preset:strict"); err != nil || ds == dd {
		t.Fatalf("strict: %v %s", err, ds)
	}
	for _, bad := range []string{"preset:lax", "builtin:strict", filepath.Join(t.TempDir(), "missing.yaml")} {
		if _, _, err := Open(bad); err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(strings.TrimPrefix(bad, "preset:"), "builtin:")) {
			t.Errorf("Open(%q) = %v, want an error naming it", bad, err)
		}
	}
}

// --policy, and a baseline's bpf: or profile: file, on a device, a FIFO, a
// directory or a sparse 1 GiB file is refused at once, naming the file.
func TestPolicyFilesAreCheckedBeforeTheyAreRead(t *testing.T) {
	for _, c := range inputfiletest.Cases(t) {
		inputfiletest.CheckRefused(t, c, func(path string) error { _, _, err := Open(path); return err })
		inputfiletest.CheckRefused(t, c, func(path string) error { _, err := Load(path); return err })
		p := &Policy{source: "test"}
		for _, kind := range []string{"bpf:", "profile:"} {
			if c.Name == "directory" && kind == "profile:" {
				continue // a bundle directory
			}
			inputfiletest.CheckRefused(t, c, func(path string) error {
				_, err := p.resolveBaseline(kind+path, "runc", nil)
				return err
			})
		}
	}
}
