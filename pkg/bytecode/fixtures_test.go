package bytecode

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFixtures checks that every filter captured from a real container
// parses, validates and matches the length and digest its metadata records.
func TestFixtures(t *testing.T) {
	metas, err := filepath.Glob("testdata/fixtures/*.json")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range metas {
		if strings.HasSuffix(path, ".profile.json") {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var meta struct {
			File         string `json:"file"`
			Instructions int    `json:"instructions"`
			SHA256       string `json:"sha256"`
		}
		if err := json.Unmarshal(data, &meta); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		raw, err := os.ReadFile(filepath.Join(filepath.Dir(path), meta.File))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		f, err := ParseFilter(raw)
		if err != nil {
			t.Errorf("%s: %v", meta.File, err)
			continue
		}
		sum := sha256.Sum256(raw)
		if f.Len() != meta.Instructions || hex.EncodeToString(sum[:]) != meta.SHA256 {
			t.Errorf("%s: %d instructions, sha256 %x; metadata says %d, %s", meta.File, f.Len(), sum, meta.Instructions, meta.SHA256)
		}
		n++
	}
	if n < 14 {
		t.Errorf("%d fixtures, want at least 14", n)
	}
}
