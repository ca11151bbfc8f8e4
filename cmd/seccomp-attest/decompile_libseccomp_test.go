//go:build cgo && libseccomp

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Every captured filter, decompiled with --format oci and compiled again as
// runc would, is never weaker by the project's own diff.
func TestDecompileOCIRecompiledNeverWeaker(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*.bpf"))
	if len(files) < 10 {
		t.Fatalf("%d fixtures under %s", len(files), fixtureDir)
	}
	for _, filter := range files {
		code, out, stderr := runDecompile(t, "--format", "oci", filter)
		if code != exitOK {
			t.Fatalf("decompile %s: exit %d\n%s", filter, code, stderr)
		}
		profile := filepath.Join(t.TempDir(), "profile.json")
		if err := os.WriteFile(profile, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		code, report := runCLI(t, "diff", "--format", "json", "--runtime", "runc", filter, "profile:"+profile)
		var r struct{ Counts map[string]int }
		if code == exitError || json.Unmarshal([]byte(report), &r) != nil {
			t.Fatalf("diff %s: exit %d\n%s", filter, code, report)
		}
		if r.Counts["weaker"] != 0 || r.Counts["undecided"] != 0 {
			t.Errorf("%s: the decompiled profile is %d weaker, %d undecided\n%s", filepath.Base(filter), r.Counts["weaker"], r.Counts["undecided"], stderr)
		}
	}
}
