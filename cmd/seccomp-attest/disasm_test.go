package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// x86_64 allow list for getpid only, as a runtime would load it.
var getpidOnly = []bpf.Instruction{
	{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: bytecode.OffsetArch},
	{Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), Jt: 0, Jf: 3, K: 0xc000003e},
	{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: bytecode.OffsetNr},
	{Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), Jt: 0, Jf: 1, K: 39},
	{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActAllow)},
	{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActErrno | 38)},
}

// execute runs the root command as main does and returns the exit code
// and standard output.
func execute(t *testing.T, stdin []byte, args ...string) (int, string) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(bytes.NewReader(stdin))
	root.SetArgs(args)
	code := exitOK
	if err := root.Execute(); err != nil {
		t.Logf("error: %v", err)
		code = exitError
	}
	return code, out.String()
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "filter.bpf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDisasmFile(t *testing.T) {
	code, out := execute(t, nil, "disasm", writeFile(t, bpf.Encode(getpidOnly)))
	if code != exitOK {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	for _, want := range []string{
		" line  CODE  JT   JF      K\n",
		" 0001: 0x15 0x00 0x03 0xc000003e  if (A != ARCH_X86_64) goto 0005\n",
		" 0003: 0x15 0x00 0x01 0x00000027  if (A != getpid) goto 0005\n",
		" 0005: 0x06 0x00 0x00 0x00050026  return ERRNO(38)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestDisasmStdinAndArch(t *testing.T) {
	// Without an arch check, --arch decides the names: 39 is getpid on
	// x86_64 and umount2 on aarch64 (asm-generic numbering).
	prog := getpidOnly[2:]
	for _, tt := range []struct{ arch, want string }{
		{"x86_64", "if (A != getpid) goto 0003"},
		{"aarch64", "if (A != umount2) goto 0003"},
	} {
		code, out := execute(t, bpf.Encode(prog), "disasm", "--arch", tt.arch, "-")
		if code != exitOK || !strings.Contains(out, tt.want) {
			t.Errorf("--arch %s: exit %d, want %q in:\n%s", tt.arch, code, tt.want, out)
		}
	}
}

func TestDisasmErrors(t *testing.T) {
	invalid := append([]bpf.Instruction(nil), getpidOnly...)
	invalid[5] = bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: 2}
	tests := []struct {
		name     string
		args     []string
		stdin    []byte
		wantOut  string // listing printed before the error, if any
		wantExit int
	}{
		{"not a multiple of 8", []string{"disasm", "-"}, []byte{1, 2, 3}, "", exitError},
		{"empty", []string{"disasm"}, nil, "", exitError},
		{"missing file", []string{"disasm", filepath.Join(t.TempDir(), "nope")}, nil, "", exitError},
		{"unknown arch", []string{"disasm", "--arch", "vax", "-"}, bpf.Encode(getpidOnly), "", exitError},
		{"too long", []string{"disasm", "-"}, make([]byte, 8*(bpf.MaxInstructions+1)), "", exitError},
		// The kernel refuses it, but the listing is still shown.
		{"invalid", []string{"disasm", "-"}, bpf.Encode(invalid), " 0005: 0x20 0x00 0x00 0x00000002  A = data[2]", exitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := execute(t, tt.stdin, tt.args...)
			if code != tt.wantExit {
				t.Errorf("exit %d, want %d", code, tt.wantExit)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("output lacks %q:\n%s", tt.wantOut, out)
			}
		})
	}
}

// TestDisasmExitCode checks the exit code through run, as main uses it.
func TestDisasmExitCode(t *testing.T) {
	if got := run([]string{"disasm", writeFile(t, []byte{0})}); got != exitError {
		t.Errorf("run on a 1-byte file = %d, want %d", got, exitError)
	}
}
