package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const scoreFixtures = "../../pkg/bytecode/testdata/fixtures"

func TestScoreCommandJSONAndGate(t *testing.T) {
	src := "bpf:" + filepath.Join(scoreFixtures, "moby-default-v0.2.3.runc.bpf")
	code, out := runCLI(t, "score", "--format", "json", "--baseline", "none", src)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var rep struct {
		Source   string  `json:"source"`
		Score    float64 `json:"score"`
		Grade    string  `json:"grade"`
		Findings []struct {
			Kind  string `json:"kind"`
			Input struct {
				Call string    `json:"call"`
				Args [6]string `json:"args"`
			} `json:"input"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Source != src || rep.Grade != "F" || rep.Score != 50 {
		t.Errorf("source %q grade %s score %v", rep.Source, rep.Grade, rep.Score)
	}
	found := false
	for _, f := range rep.Findings {
		if f.Kind == "truncated-compare" && f.Input.Args[0] == "0x100000028" {
			found = true
		}
	}
	if !found {
		t.Errorf("no AF_VSOCK truncation finding in\n%s", out)
	}
	if code, out := runCLI(t, "score", "--baseline", "none", "--min-score", "50", src); code != exitOK {
		t.Errorf("--min-score 50: exit %d\n%s", code, out)
	}
	if code, out := runCLI(t, "score", "--baseline", "none", "--min-score", "50.1", src); code != exitNo || !strings.Contains(out, "below --min-score") {
		t.Errorf("--min-score 50.1: exit %d\n%s", code, out)
	}
	if code, _ := runCLI(t, "score", "--format", "yaml", src); code != exitError {
		t.Errorf("bad --format: exit %d", code)
	}
	if code, _ := runCLI(t, "score", "bpf:/nonexistent.bpf"); code != exitError {
		t.Errorf("missing file: exit %d", code)
	}
}

// --dump-rules prints a rules file; edited and given back with --rules it
// changes the score.
func TestScoreRulesFlags(t *testing.T) {
	code, dump := runCLI(t, "score", "--dump-rules")
	if code != exitOK || !strings.Contains(dump, "forceFail:") || !strings.Contains(dump, "process_vm_readv:") {
		t.Fatalf("exit %d\n%s", code, dump)
	}
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	// Demote the three tier-1 syscalls Docker's default allows.
	user := "syscalls:\n  ptrace: {tier: 2}\n  process_vm_readv: {tier: 2}\n  process_vm_writev: {tier: 2}\n"
	if err := os.WriteFile(rules, []byte(user), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "bpf:" + filepath.Join(scoreFixtures, "moby-default-v0.2.3.runc.bpf")
	code, out := runCLI(t, "score", "--baseline", "none", "--rules", rules, "--min-score", "60", src)
	if code != exitOK || strings.Contains(out, "forced") {
		t.Errorf("demoted tier 1: exit %d\n%s", code, out)
	}
	if err := os.WriteFile(rules, []byte("syscalls: {ptrace: {tier: 9}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := runCLI(t, "score", "--rules", rules, src); code != exitError || !strings.Contains(out, "rules.yaml") {
		t.Errorf("bad rules: exit %d\n%s", code, out)
	}
	if code, _ := runCLI(t, "score", "--dump-rules", src); code != exitError {
		t.Errorf("--dump-rules with a SOURCE: exit %d", code)
	}
}

func TestExplainCommand(t *testing.T) {
	code, out := runCLI(t, "explain", "bpf")
	if code != exitOK || !strings.Contains(out, "tier 1") || !strings.Contains(out, "CAP_BPF") || !strings.Contains(out, "x86_64 321") {
		t.Errorf("explain bpf: exit %d\n%s", code, out)
	}
	code, out = runCLI(t, "explain", "getpid")
	if code != exitOK || !strings.Contains(out, "tier 4") || !strings.Contains(out, "not described") {
		t.Errorf("explain getpid: exit %d\n%s", code, out)
	}
	if code, _ := runCLI(t, "explain", "frobnicate"); code != exitError {
		t.Errorf("explain frobnicate: exit %d", code)
	}
}
