package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/record"
)

// A recording's own text (its problem) reaches the notes on standard
// error escaped: it cannot forge lines of the command's output.
func TestRecordGenerateNotesCannotForgeLines(t *testing.T) {
	rec := &record.Recording{Problem: "recorder died\nseccomp-attest: record generate: verdict pass"}
	nr, ok := arch.X86_64.SyscallNr("execve")
	if !ok {
		t.Fatal("no execve in the x86_64 table")
	}
	if err := rec.Add(arch.X86_64.Audit, nr, [6]uint64{}, nil); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "rec.json")
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runCLI(t, "record", "generate", "--allow-incomplete", "-o", filepath.Join(dir, "p.json"), in)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	if !strings.Contains(out, `recorder died\n`) {
		t.Errorf("the problem is not in the notes, escaped:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "seccomp-attest: record generate: verdict") {
			t.Errorf("a recording forged an output line: %q", line)
		}
	}
}
