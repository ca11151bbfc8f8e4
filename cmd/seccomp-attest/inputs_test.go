package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile/inputfiletest"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// executeWithin runs the root command and returns its error, failing the
// test if it takes more than 5 seconds (a FIFO or /dev/zero used to block
// the commands forever).
func executeWithin(t *testing.T, args ...string) error {
	t.Helper()
	return executeWithStdinWithin(t, nil, args...)
}

// executeWithStdinWithin is executeWithin with stdin as the command's
// standard input (cmd.InOrStdin, which disasm reads).
func executeWithStdinWithin(t *testing.T, stdin []byte, args ...string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		root := newRootCommand()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetIn(bytes.NewReader(stdin))
		root.SetArgs(args)
		done <- root.Execute()
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: still running after 5 s", strings.Join(args, " "))
		return nil
	}
}

// Every file argument of every command that reads one refuses a device, a
// FIFO, a directory and a sparse 1 GiB file at once, with one line naming
// the file and the problem (exit status 2: an error, not an answer).
func TestCommandsRefuseHostileInputFiles(t *testing.T) {
	filter := writeFilter(t, getpidOnly)
	_, pub, err := attest.GenerateKey(attest.KeyEd25519, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range inputfiletest.Cases(t) {
		forms := [][]string{
			{"disasm", c.Path},
			{"decompile", c.Path},
			{"decompile", "bpf:" + c.Path},
			{"diff", filter, c.Path},
			{"diff", "bpf:" + filter + "," + c.Path, filter},
			{"score", c.Path},
			{"score", "--baseline", c.Path, filter},
			{"score", "--rules", c.Path, filter},
			{"explain", "--rules", c.Path, "ptrace"},
			{"check", c.Path},
			{"check", "--intended", "bpf:" + c.Path, filter},
			{"check", "--policy", c.Path, filter},
			{"verify", "--key", c.Path, filter},
			{"verify", "--key", c.Path, "--policy", "preset:default", filter},
			{"verify", "--key", pub, c.Path},
			{"verify", "--key", pub, "--policy", c.Path, filter},
			{"report", "--key", c.Path, "--html", filepath.Join(t.TempDir(), "out.html"), filter},
			{"report", "--html", filepath.Join(t.TempDir(), "out.html"), c.Path},
		}
		if c.Name != "directory" { // profile:DIR and bundle:DIR read DIR/config.json
			forms = append(forms,
				[]string{"decompile", "profile:" + c.Path},
				[]string{"diff", "builtin:docker-default", "profile:" + c.Path},
				[]string{"check", "--intended", "profile:" + c.Path, filter},
			)
		}
		for _, args := range forms {
			err := executeWithin(t, args...)
			if !errors.Is(err, c.Want) || !strings.Contains(err.Error(), c.Path) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s on %s: %v; want one line naming the file and wrapping %q", strings.Join(args, " "), c.Name, err, c.Want)
			}
		}
	}
}

// A file one instruction longer than the kernel takes is refused for its
// length, also through disasm's and standard input's limit reader (which
// stops one byte past the limit: it used to say "32769 bytes is not a
// multiple of 8").
func TestFilterOfTooManyInstructions(t *testing.T) {
	long := make([]bpf.Instruction, bpf.MaxInstructions+1)
	for i := range long {
		long[i] = bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActAllow)}
	}
	path := writeFilter(t, long)
	for _, args := range [][]string{{"disasm", path}, {"decompile", path}, {"decompile", "bpf:" + path}, {"diff", path, path}} {
		err := executeWithin(t, args...)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "exceeds the limit of 4096 instructions") {
			t.Errorf("%s: %v", strings.Join(args, " "), err)
		}
	}
	const wantStdin = "standard input: too large for a seccomp filter: more than 32768 bytes exceeds the limit of 4096 instructions"
	if err := executeWithStdinWithin(t, bpf.Encode(long), "disasm", "-"); err == nil || !strings.Contains(err.Error(), wantStdin) {
		t.Errorf("disasm - of %d instructions: %v", len(long), err)
	}
	withStdin(t, bpf.Encode(long))
	if err := executeWithin(t, "decompile", "-"); err == nil || !strings.Contains(err.Error(), wantStdin) {
		t.Errorf("decompile - of %d instructions: %v", len(long), err)
	}
}

// "-" reads a filter (SOURCE "-" or bpf:-) or a profile (profile:-) from
// standard input, for one source of a command only.
func TestSourceFromStandardInput(t *testing.T) {
	withStdin(t, bpf.Encode(getpidOnly))
	code, out := runCLI(t, "decompile", "-")
	if code != exitOK || !strings.Contains(out, "getpid") {
		t.Fatalf("decompile - exited %d: %s", code, out)
	}
	withStdin(t, bpf.Encode(getpidOnly))
	if code, out := runCLI(t, "diff", "bpf:-", writeFilter(t, getpidOnly)); code != exitOK {
		t.Errorf("diff bpf:- FILE of the same filter exited %d: %s", code, out)
	}
	withStdin(t, bpf.Encode(getpidOnly))
	if err := executeWithin(t, "diff", "-", "bpf:-"); err == nil || !strings.Contains(err.Error(), "give - once") {
		t.Errorf("diff - bpf:-: %v", err)
	}
	withStdin(t, []byte(`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]}`))
	if err := executeWithin(t, "decompile", "profile:-"); err != nil && !strings.Contains(err.Error(), "libseccomp") {
		t.Errorf("decompile profile:-: %v", err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := executeWithin(t, "decompile", fifo); err == nil || !strings.HasSuffix(err.Error(), "(or - for standard input)") {
		t.Errorf("a FIFO does not point to -: %v", err)
	}
	if err := executeWithin(t, "decompile", "bundle:-"); err == nil || !strings.Contains(err.Error(), "profile:-") {
		t.Errorf("decompile bundle:-: %v", err)
	}
}

// withStdin makes os.Stdin, which SOURCE "-" reads, a file holding data.
func withStdin(t *testing.T, data []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = f
	t.Cleanup(func() { os.Stdin = old; f.Close() })
}
