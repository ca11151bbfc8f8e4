package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The generated man pages and completions cover every visible subcommand,
// and are the same for the same sources (SOURCE_DATE_EPOCH).
func TestDocsFromTheCommandDefinitions(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	dir := t.TempDir()
	if code := run([]string{"docs", "--man", filepath.Join(dir, "man"), "--completion", filepath.Join(dir, "comp"),
		"--markdown", filepath.Join(dir, "md")}); code != exitOK {
		t.Fatalf("docs exited %d", code)
	}
	for _, sub := range newRootCommand().Commands() {
		if !sub.IsAvailableCommand() {
			continue
		}
		page := filepath.Join(dir, "man", "seccomp-attest-"+sub.Name()+".1")
		data, err := os.ReadFile(page)
		if err != nil {
			t.Errorf("no man page for %s: %v", sub.Name(), err)
			continue
		}
		if !strings.Contains(string(data), ".SH NAME") || !strings.Contains(string(data), sub.Short) {
			t.Errorf("%s lacks NAME or the short description", page)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "man", "seccomp-attest-docs.1")); err == nil {
		t.Error("the hidden docs command got a man page")
	}
	root, err := os.ReadFile(filepath.Join(dir, "man", "seccomp-attest.1"))
	if err != nil || !strings.Contains(string(root), `"Nov 2023"`) {
		t.Errorf("root man page not dated by SOURCE_DATE_EPOCH: %v %.300s", err, root)
	}
	for name, want := range map[string]string{
		"seccomp-attest.bash": "__start_seccomp-attest",
		"_seccomp-attest":     "#compdef seccomp-attest",
		"seccomp-attest.fish": "complete -c seccomp-attest",
	} {
		data, err := os.ReadFile(filepath.Join(dir, "comp", name))
		if err != nil || !strings.Contains(string(data), want) {
			t.Errorf("completion %s: %v, want it to contain %q", name, err, want)
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "md", "seccomp-attest_ps.md"))
	if err != nil || strings.Contains(string(md), "Auto generated") {
		t.Errorf("markdown for ps: %v (must exist without a generation date)", err)
	}
	if code := run([]string{"docs"}); code != exitError {
		t.Errorf("docs without an output directory exited %d, want %d", code, exitError)
	}
}

// The completion scripts ask the binary (cobra's __complete): ps completes
// its --format values.
func TestPsFormatCompletion(t *testing.T) {
	root := newRootCommand()
	var out strings.Builder
	root.SetOut(&out)
	root.SetArgs([]string{"__complete", "ps", "--format", ""})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.HasPrefix(got, "table\njson\n:4\n") {
		t.Errorf("completion of ps --format: %q", got)
	}
}
