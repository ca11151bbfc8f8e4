//go:build cgo && libseccomp

package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

func TestCheckDefaultPolicy(t *testing.T) {
	moby := filepath.Join(fixtureDir, "moby-default-v0.2.3.runc.bpf")
	if code, out := runCLI(t, "check", moby); code != exitOK || !strings.HasPrefix(out, "PASS\n") {
		t.Errorf("moby default: exit %d\n%s", code, out)
	}
	// A profile source is also its own intended profile.
	if code, out := runCLI(t, "check", "profile:"+filepath.Join(fixtureDir, "moby-default-v0.2.3.profile.json")); code != exitOK {
		t.Errorf("profile: exit %d\n%s", code, out)
	}
	allow := writeFilter(t, []bpf.Instruction{{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActAllow)}})
	code, out := runCLI(t, "check", "bpf:"+allow)
	if code != exitNo || !strings.HasPrefix(out, "FAIL (enforce)\n  baselines: ") {
		t.Errorf("allow-all: exit %d\n%s", code, out)
	}
	code, out = runCLI(t, "check", "--format", "json", "--intended", "profile:"+filepath.Join(fixtureDir, "moby-default-v0.2.3.profile.json"),
		filepath.Join(fixtureDir, "log.runc.bpf"))
	var v jsonVerdict
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != exitNo || v.Result != "fail" || v.Policy != "preset:default" || len(v.Findings) == 0 {
		t.Errorf("log vs intended: exit %d %v\n%s", code, err, out)
	}
	code, out = runCLI(t, "check", "--policy", "preset:strict", moby)
	if code != exitNo || !strings.Contains(out, "denySyscalls: x86_64 ptrace: effective ALLOW") {
		t.Errorf("strict: exit %d\n%s", code, out)
	}
}

// check on the stacked fixture (the runtime's moby filter plus a filter the
// program added, denying one more number) passes against its intended
// profile and the default policy; the LOG-default variant fails with
// confirmed inputs.
func TestCheckStackedAndLogVariants(t *testing.T) {
	intended := "profile:" + filepath.Join(fixtureDir, "moby-default-v0.2.3.profile.json")
	stacked := "bpf:" + filepath.Join(fixtureDir, "stacked.0.bpf") + "," + filepath.Join(fixtureDir, "stacked.1.bpf")
	if code, out := runCLI(t, "check", "--intended", intended, stacked); code != exitOK || out != "PASS\n" {
		t.Errorf("stacked: exit %d\n%s", code, out)
	}
	code, out := runCLI(t, "check", "--format", "json", "--intended", intended, filepath.Join(fixtureDir, "log.runc.bpf"))
	var v jsonVerdict
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != exitNo {
		t.Fatalf("log: exit %d %v\n%s", code, err, out)
	}
	for _, f := range v.Findings {
		if f.Kind != "weaker" || !f.Confirmed || f.B != "LOG" {
			t.Errorf("log finding %+v", f)
		}
	}
}
