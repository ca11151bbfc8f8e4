package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// runCLI runs the root command and maps errors to exit codes as main does.
func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	switch {
	case err == nil:
		return exitOK, out.String()
	case errors.Is(err, errNegativeAnswer):
		return exitNo, out.String()
	}
	return exitError, out.String() + err.Error()
}

func writeFilter(t *testing.T, prog []bpf.Instruction) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.bpf")
	if err := os.WriteFile(path, bpf.Encode(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDecompileFormats(t *testing.T) {
	path := writeFilter(t, getpidOnly)
	code, out := runCLI(t, "decompile", path)
	if code != exitOK || !strings.Contains(out, "arch x86_64") || !strings.Contains(out, "getpid") || !strings.Contains(out, "default: ERRNO(38)") {
		t.Fatalf("decompile text: exit %d\n%s", code, out)
	}
	code, out = runCLI(t, "decompile", "--format", "json", "bpf:"+path)
	var js struct {
		Arches []struct {
			Name     string
			Syscalls []struct {
				Name  string
				Rules []struct{ Action string }
			}
		}
	}
	if code != exitOK || json.Unmarshal([]byte(out), &js) != nil {
		t.Fatalf("decompile json: exit %d\n%s", code, out)
	}
	found := false
	for _, a := range js.Arches {
		for _, s := range a.Syscalls {
			if a.Name == "x86_64" && s.Name == "getpid" && s.Rules[0].Action == "ALLOW" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("json has no x86_64 getpid ALLOW:\n%s", out)
	}
	code, out = runCLI(t, "decompile", "--format", "oci", path)
	if code != exitOK || !strings.Contains(out, `"getpid"`) || !strings.Contains(out, `"defaultErrnoRet": 38`) {
		t.Fatalf("decompile oci: exit %d\n%s", code, out)
	}
}

func TestDiffExitCodes(t *testing.T) {
	a := writeFilter(t, getpidOnly)
	allow := writeFilter(t, []bpf.Instruction{{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActAllow)}})
	if code, out := runCLI(t, "diff", a, a); code != exitOK || !strings.Contains(out, "alike") {
		t.Errorf("diff of a filter with itself: exit %d\n%s", code, out)
	}
	code, out := runCLI(t, "diff", a, allow)
	if code != exitNo || !strings.Contains(out, "weaker") || !strings.Contains(out, "ERRNO(38) -> ALLOW") {
		t.Errorf("diff against allow-all: exit %d\n%s", code, out)
	}
	if code, out := runCLI(t, "diff", a, "nosuch:x"); code != exitError {
		t.Errorf("diff with a bad source: exit %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.bpf")
	os.WriteFile(bad, []byte{1, 2, 3}, 0o644)
	if code, out := runCLI(t, "decompile", bad); code != exitError || !strings.Contains(out, "multiple of 8") {
		t.Errorf("decompile of a truncated filter: exit %d\n%s", code, out)
	}
}

// runDecompile runs the root command with stdout and stderr apart.
func runDecompile(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	root := newRootCommand()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"decompile"}, args...))
	if err := root.Execute(); err != nil {
		return exitError, out.String(), errOut.String() + err.Error()
	}
	return exitOK, out.String(), errOut.String()
}

// Docker's default as runc loads it comes back as Docker writes it: a deny
// default, clone allowed without namespace flags, the ABIs Docker lists,
// and nothing reported as approximated.
func TestDecompileOCIDockerDefault(t *testing.T) {
	code, out, stderr := runDecompile(t, "--format", "oci", filepath.Join("../../pkg/bytecode/testdata/fixtures", "docker-default.runc.bpf"))
	var p specs.LinuxSeccomp
	if code != exitOK || json.Unmarshal([]byte(out), &p) != nil {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if p.DefaultAction != specs.ActErrno || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != 1 ||
		len(p.Architectures) != 3 {
		t.Errorf("default %s %v, architectures %v: want ERRNO(1) for x86_64, x32 and x86", p.DefaultAction, p.DefaultErrnoRet, p.Architectures)
	}
	clone := false
	for _, s := range p.Syscalls {
		if len(s.Names) == 1 && s.Names[0] == "clone" {
			clone = s.Action == specs.ActAllow && len(s.Args) == 1 && s.Args[0].Op == specs.OpMaskedEqual && s.Args[0].Value == 0x7e020000
		}
	}
	if !clone {
		t.Errorf("no clone entry allowing it when arg0 & 0x7e020000 == 0:\n%s", out)
	}
	exact := "compiled by runc, this profile decides exactly like the filter"
	if !spec.CompileSupported {
		exact = "the profile writes exactly what the filter does (unchecked"
	}
	if strings.Contains(stderr, "approximated:") || !strings.Contains(stderr, exact) {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// Where OCI cannot say what the filter does, stderr says where and that
// the profile is stricter there, and that it is never weaker.
func TestDecompileOCIReportsApproximations(t *testing.T) {
	code, out, stderr := runDecompile(t, "--format", "oci", filepath.Join("../../pkg/bytecode/testdata/fixtures", "stacked.1.bpf"))
	if code != exitOK || !json.Valid([]byte(out)) {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "approximated: x86_64 numbers {0x3ff0}") ||
		!strings.Contains(stderr, "the profile is stricter than the filter there") ||
		!strings.Contains(stderr, "decompile: the profile is never weaker than the filter;") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if strings.Contains(out, "approximated") {
		t.Errorf("approximations on stdout:\n%s", out)
	}
}
