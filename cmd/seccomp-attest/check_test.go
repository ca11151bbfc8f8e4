package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

func writePolicy(t *testing.T, s string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// These need no compilation: the policies have no baselines and no
// denySyscalls, and the sources are raw filters.
func TestCheckExitCodesWithoutCompilation(t *testing.T) {
	allow := writeFilter(t, []bpf.Instruction{{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActAllow)}})
	moby := filepath.Join("../../pkg/bytecode/testdata/fixtures", "moby-default-v0.2.3.runc.bpf")
	noBase := writePolicy(t, "baselines: []\n")
	if code, out := runCLI(t, "check", "--policy", noBase, "bpf:"+allow); code != exitOK || !strings.HasPrefix(out, "PASS") {
		t.Errorf("no rules: exit %d\n%s", code, out)
	}
	// The allow-all filter is weaker than the intended one given as a raw
	// filter.
	code, out := runCLI(t, "check", "--policy", noBase, "--intended", "bpf:"+moby, "bpf:"+allow)
	if code != exitNo || !strings.HasPrefix(out, "FAIL (enforce)\n  notWeakerThanIntended: ") {
		t.Errorf("weaker than intended: exit %d\n%s", code, out)
	}
	code, out = runCLI(t, "check", "--policy", writePolicy(t, "baselines: []\nexceptions: [{name: ^web$, reason: ticket 7}]\n"),
		"--name", "web", "--intended", "bpf:"+moby, "bpf:"+allow)
	if code != exitOK || !strings.HasPrefix(out, "PASS (exception: ticket 7)") {
		t.Errorf("exception: exit %d\n%s", code, out)
	}
	code, out = runCLI(t, "check", "--policy", writePolicy(t, "baselines: []\nmode: audit\n"), "--format", "json",
		"--intended", "bpf:"+moby, "bpf:"+allow)
	if code != exitOK || !strings.Contains(out, `"result": "pass"`) || !strings.Contains(out, `"mode": "audit"`) || !strings.Contains(out, `"kind": "weaker"`) {
		t.Errorf("audit json: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"check", "--policy", writePolicy(t, "baselinez: []\n"), "bpf:" + allow},
		{"check", "--format", "xml", "bpf:" + allow},
		{"check", "--policy", "preset:lenient", "bpf:" + allow},
		{"check", "--policy", noBase, "bpf:/nonexistent"},
	} {
		if code, out := runCLI(t, args...); code != exitError {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
	if _, out := runCLI(t, "check", "--policy", writePolicy(t, "baselinez: []\n"), "bpf:"+allow); !strings.Contains(out, `unknown field "baselinez"`) {
		t.Errorf("unknown key not named: %s", out)
	}
}
