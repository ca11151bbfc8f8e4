package asm

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/filterfuzz"
	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

func fixtures(t *testing.T) []filterfuzz.Fixture {
	t.Helper()
	fs, err := filterfuzz.LoadFixtures(filepath.Join("..", "bytecode", "testdata", "fixtures", "*.bpf"),
		filepath.Join("..", "bytecode", "testdata", "*.bpf"))
	if err != nil || len(fs) == 0 {
		t.Fatalf("fixtures: %d, %v", len(fs), err)
	}
	return fs
}

// Both text forms of every captured filter assemble back to its bytes.
func TestRoundTripFixtures(t *testing.T) {
	for _, fx := range fixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			opts := Options{Arch: arch.X86_64}
			var listing bytes.Buffer
			if err := bc.WriteDisassembly(&listing, fx.Prog, bc.DisasmOptions{Arch: opts.Arch}); err != nil {
				t.Fatal(err)
			}
			checkSame(t, "listing", listing.String(), fx.Prog, opts)
			var form bytes.Buffer
			if err := Format(&form, fx.Prog, opts); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(form.String(), ".raw") {
				t.Errorf("a compiled filter needs no .raw:\n%s", form.String())
			}
			// The .arch directive makes the asm form stand alone.
			checkSame(t, "asm form", form.String(), fx.Prog, Options{})
		})
	}
}

func checkSame(t *testing.T, what, text string, want []bpf.Instruction, opts Options) {
	t.Helper()
	got, err := Assemble(strings.NewReader(text), opts)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !bytes.Equal(bpf.Encode(got), bpf.Encode(want)) {
		for i := range want {
			if i >= len(got) || got[i] != want[i] {
				t.Fatalf("%s: instruction %d: got %+v, want %+v", what, i, got[min(i, len(got)-1)], want[i])
			}
		}
		t.Fatalf("%s: %d instructions, want %d", what, len(got), len(want))
	}
}

// Generated programs reach every instruction kind, unknown actions, jumps
// out of range and fields the text does not show: the asm form keeps
// them all (with .raw where needed).
func TestFormatRoundTripGenerated(t *testing.T) {
	for i := range 300 {
		seed := []byte{byte(i), byte(i >> 8), 7, 13, byte(i * 31), 99, byte(i * 7), 1}
		prog := filterfuzz.Generate(bytes.Repeat(seed, 8), 64)
		var form bytes.Buffer
		if err := Format(&form, prog, Options{Arch: arch.X86_64}); err != nil {
			t.Fatalf("program %d: %v", i, err)
		}
		checkSame(t, form.String(), form.String(), prog, Options{})
	}
	// Fields the text leaves out come back through .raw.
	odd := []bpf.Instruction{{Op: bpf.Ret(bpf.RetK), Jt: 3, K: uint32(bc.ActAllow) | 5}}
	var form bytes.Buffer
	if err := Format(&form, odd, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(form.String(), ".raw 0x06 0x03 0x00 0x7fff0005") {
		t.Fatalf("no .raw:\n%s", form.String())
	}
	checkSame(t, "odd", form.String(), odd, Options{})
}

func TestAssembleNames(t *testing.T) {
	src := `.arch x86_64
	A = arch
	if (A != ARCH_X86_64) goto kill
	A = sys_number
	if (A == socket) goto sock
	if (A != clone) goto allow
	A = clone_flags
	A &= CLONE_NEWUSER|CLONE_NEWNS
	if (A == 0) goto allow else goto deny
sock:
	A = family >> 32
	A = family
	if (A == AF_VSOCK) goto deny
allow:
	return ALLOW
deny:
	return ERRNO(1)
kill:
	return KILL_PROCESS
`
	prog, err := Assemble(strings.NewReader(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []bpf.Instruction{
		{Op: 0x20, K: 4}, {Op: 0x15, Jf: 11, K: arch.X86_64.Audit}, {Op: 0x20, K: 0},
		{Op: 0x15, Jt: 4, K: 41}, {Op: 0x15, Jf: 6, K: 56}, {Op: 0x20, K: 16},
		{Op: 0x54, K: 0x10020000}, {Op: 0x15, Jt: 3, Jf: 4, K: 0},
		{Op: 0x20, K: 20}, {Op: 0x20, K: 16}, {Op: 0x15, Jt: 1, K: 40},
		{Op: 0x06, K: 0x7fff0000}, {Op: 0x06, K: 0x00050001}, {Op: 0x06, K: 0x80000000},
	}
	if !bytes.Equal(bpf.Encode(prog), bpf.Encode(want)) {
		t.Fatalf("got  %+v\nwant %+v", prog, want)
	}
	if err := bpf.Validate(prog); err != nil {
		t.Fatal(err)
	}
}

func TestAssembleErrorsNameTheLine(t *testing.T) {
	tests := []struct{ src, want string }{
		{"A = arch\nA = family\nreturn ALLOW\n", `line 2: "family" is not a seccomp_data field`},
		{"A = sys_number\nif (A == socket) goto 2\nreturn ALLOW\n", `line 2: syscall name "socket", but no arch is known`},
		{"A = sys_number\nif (A == 1) goto 0\nreturn ALLOW\n", "line 2: jump to 0 goes backwards"},
		{"A = sys_number\ngoto nowhere\nreturn ALLOW\n", `line 2: unknown label "nowhere"`},
		{"return MAYBE\n", `line 1: unknown action "MAYBE"`},
		{"A %= 3\nreturn A\n", "line 1: the modulo operation (A %= ...) is not allowed"},
		{"X = arch\nreturn A\n", `line 1: register X cannot be loaded from "arch"`},
		{"mem[16] = A\nreturn A\n", "line 1: mem[16]: scratch memory has 16 words"},
		{" 0001: 0x06 0x00 0x00 0x7fff0000  return ALLOW\n", "line 1: index 0001, but this is instruction 0"},
		{"frobnicate\n", "line 1: not an instruction"},
		{"# nothing\n", "no instructions"},
	}
	for _, tt := range tests {
		_, err := Assemble(strings.NewReader(tt.src), Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.src, err, tt.want)
		}
	}
	var le *Error
	_, err := Assemble(strings.NewReader("return ALLOW\nbogus\n"), Options{})
	if !errors.As(err, &le) || le.Line != 2 {
		t.Fatalf("err = %#v", err)
	}
}

// Hostile input: a huge text, a long line, too many instructions.
func TestAssembleBounds(t *testing.T) {
	many := strings.Repeat("return ALLOW\n", bpf.MaxInstructions+1)
	if _, err := Assemble(strings.NewReader(many), Options{}); err == nil || !strings.Contains(err.Error(), "at most 4096") {
		t.Errorf("too many: %v", err)
	}
	long := strings.Repeat("x", 100<<10) + "\n"
	if _, err := Assemble(strings.NewReader(long), Options{}); err == nil {
		t.Error("a 100 KiB line was read")
	}
	huge := strings.Repeat("# "+strings.Repeat("y", 1000)+"\n", 5000)
	if _, err := Assemble(strings.NewReader(huge), Options{}); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("huge: %v", err)
	}
	if _, err := Assemble(strings.NewReader(""), Options{}); err == nil {
		t.Error("empty text assembled")
	}
}

func TestErrorQuotesABoundedLine(t *testing.T) {
	_, err := Assemble(strings.NewReader(strings.Repeat("z", 5000)+"\n"), Options{})
	if err == nil || len(err.Error()) > 200 || !strings.Contains(err.Error(), "line 1: not an instruction") {
		t.Fatalf("err = %.300v", err)
	}
}
