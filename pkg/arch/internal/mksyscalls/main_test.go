package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesUpToDate regenerates every table into a temporary
// directory and compares it with the committed file, so that a hand edit
// of a zsyscalls file, or a generator change without `go generate`, fails.
func TestGeneratedFilesUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("needs golang.org/x/sys " + xsysVersion + " in the module cache or from the proxy")
	}
	dir, err := download("golang.org/x/sys@" + xsysVersion)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := generate(out, dir); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(out, "*.go"))
	if err != nil || len(files) != len(tables) {
		t.Fatalf("generated %d files, want %d (%v)", len(files), len(tables), err)
	}
	// A table the generator no longer writes (one merged into another's
	// ABI) would still register itself if its file stayed.
	committedFiles, err := filepath.Glob(filepath.Join("..", "..", "zsyscalls_*_table.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range committedFiles {
		if _, err := os.Stat(filepath.Join(out, filepath.Base(f))); err != nil {
			t.Errorf("%s is not generated any more: delete it", f)
		}
	}
	for _, f := range files {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		committed := filepath.Join("..", "..", filepath.Base(f))
		got, err := os.ReadFile(committed)
		if err != nil {
			t.Errorf("%s: %v (run go generate ./pkg/arch)", committed, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator's output: run go generate ./pkg/arch", committed)
		}
	}
}

func TestX32(t *testing.T) {
	base := []entry{{"read", 0}, {"rt_sigaction", 13}, {"execve", 59}, {"openat", 257}}
	got := map[string]uint32{}
	for _, e := range x32(base) {
		got[e.name] = e.nr
	}
	want := map[string]uint32{"read": 0, "openat": 257, "rt_sigaction": 512, "execve": 520, "pwritev2": 547}
	for name, nr := range want {
		if got[name] != nr {
			t.Errorf("x32 %s = %d, want %d", name, got[name], nr)
		}
	}
	if len(got) != 2+len(x32Only) {
		t.Errorf("x32 has %d entries, want %d", len(got), 2+len(x32Only))
	}
}

// Tables of one ABI are shared only while their sources agree.
func TestSameABI(t *testing.T) {
	a := []entry{{"read", 4003}, {"write", 4004}}
	if err := sameABI(a, []entry{{"read", 4003}, {"write", 4004}}); err != nil {
		t.Errorf("identical tables: %v", err)
	}
	if err := sameABI(a, []entry{{"read", 4003}, {"pwrite", 4004}}); err == nil {
		t.Error("a renamed number was not reported")
	}
	if err := sameABI(a, []entry{{"read", 4003}, {"write", 4005}}); err == nil {
		t.Error("a renumbered syscall was not reported")
	}
	if err := sameABI(a, a[:1]); err == nil {
		t.Error("a shorter table was not reported")
	}
}
