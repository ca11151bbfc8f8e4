package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/source"
)

func TestParseEvalInput(t *testing.T) {
	tests := []struct {
		arch, syscall string
		args          []string
		ip            string
		want          bytecode.Data
		name          string
	}{
		{"", "socket", []string{"AF_VSOCK", "SOCK_STREAM|SOCK_CLOEXEC", "0"}, "0x1000",
			bytecode.Data{Nr: 41, Arch: arch.X86_64.Audit, InstructionPointer: 0x1000, Args: [6]uint64{40, 0x80001}}, "socket"},
		{"x32", "read", nil, "0", bytecode.Data{Nr: 0x40000000, Arch: arch.X86_64.Audit}, "read"},
		{"x32", "0", nil, "0", bytecode.Data{Nr: 0x40000000, Arch: arch.X86_64.Audit}, "read"},
		{"i386", "clone", []string{"CLONE_NEWUSER|SIGCHLD"}, "0", bytecode.Data{Nr: 120, Arch: arch.X86.Audit, Args: [6]uint64{0x10000011}}, "clone"},
		{"aarch64", "999", []string{"-1", "0x7fffffffffffffff"}, "-1",
			bytecode.Data{Nr: 999, Arch: arch.AArch64.Audit, InstructionPointer: ^uint64(0), Args: [6]uint64{^uint64(0), 1<<63 - 1}}, ""},
		{"", "personality", []string{"PER_LINUX32|UNAME26"}, "0", bytecode.Data{Nr: 135, Arch: arch.X86_64.Audit, Args: [6]uint64{0x20008}}, "personality"},
	}
	for _, tt := range tests {
		in, err := parseEvalInput(tt.arch, tt.syscall, tt.args, tt.ip)
		if err != nil {
			t.Errorf("%s %s %v: %v", tt.arch, tt.syscall, tt.args, err)
			continue
		}
		if in.data != tt.want || in.syscall != tt.name {
			t.Errorf("%s %s %v: %+v %q, want %+v %q", tt.arch, tt.syscall, tt.args, in.data, in.syscall, tt.want, tt.name)
		}
	}
	bad := []struct {
		arch, syscall string
		args          []string
		ip, want      string
	}{
		{"vax", "read", nil, "0", `--arch: unknown architecture "vax"`},
		{"", "frobnicate", nil, "0", `syscall "frobnicate": not a name of the x86_64 table nor a number`},
		{"", "read", []string{"STDIN"}, "0", `argument 0 "STDIN": not a number, and read's fd has no named constants`},
		{"", "socket", []string{"AF_VSOCK", "SOCK_BOGUS"}, "0", `argument 1 "SOCK_BOGUS": "SOCK_BOGUS" is neither a number nor a socket type name`},
		{"", "read", []string{"1", "2", "3", "4", "5", "6", "7"}, "0", "7 arguments: a system call has at most 6"},
		{"", "read", nil, "pc", `--ip "pc": not a 64-bit number`},
		{"", "0x100000000", nil, "0", "not a name of the x86_64 table nor a number"},
	}
	for _, tt := range bad {
		_, err := parseEvalInput(tt.arch, tt.syscall, tt.args, tt.ip)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %s %v: err %v, want %q", tt.arch, tt.syscall, tt.args, err, tt.want)
		}
	}
}

// eval's JSON says what the evaluator says, for every filter of a stack.
func TestEvalStackJSON(t *testing.T) {
	dir := filepath.Join("..", "..", "pkg", "bytecode", "testdata", "fixtures")
	src := "bpf:" + filepath.Join(dir, "stacked.0.bpf") + "," + filepath.Join(dir, "stacked.1.bpf")
	fs, err := resolveSource(&source.Resolver{}, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range [][]string{{"getpid"}, {"getppid"}, {"socket", "AF_VSOCK"}, {"0x3ff1"}, {"ptrace"}} {
		code, out := execute(t, nil, append([]string{"eval", "--format", "json", src}, call...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", call, code, out)
		}
		var r evalResult
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		in, _ := parseEvalInput("", call[0], call[1:], "0")
		if want := fs.Stack.Run(&in.data); r.Action != want.Effective().String() {
			t.Errorf("%v: action %s, Run %v", call, r.Action, want)
		}
		if len(r.Filters) != 2 || r.DecidedBy < 0 || r.DecidedBy > 1 {
			t.Fatalf("%v: %+v", call, r)
		}
		for i, f := range r.Filters {
			got := fs.Stack[i].Run(&in.data)
			prog := fs.Stack[i].Instructions()
			last := f.Path[len(f.Path)-1]
			if f.Action != got.Effective().String() || prog[last].Class() != bpf.ClassRET {
				t.Errorf("%v filter %d: %s ending at %d, Run %v", call, i, f.Action, last, got)
			}
		}
	}
}

func TestEvalText(t *testing.T) {
	path := writeFile(t, bpf.Encode(getpidOnly))
	code, out := execute(t, nil, "eval", path, "getpid")
	if code != exitOK || !strings.Contains(out, "0003: 0x15 0x00 0x01 0x00000027  if (A != getpid) goto 0005") ||
		!strings.HasSuffix(out, "action: ALLOW\n") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	_, out = execute(t, nil, "eval", "--color=always", path, "read")
	if !strings.Contains(out, "\x1b[31mERRNO(38)\x1b[0m") {
		t.Fatalf("no colour:\n%q", out)
	}
}

// The work of one eval in-process (the command's process start is
// measured by bench/toolkit.sh).
func BenchmarkEvalCommand(b *testing.B) {
	path := filepath.Join("..", "..", "pkg", "bytecode", "testdata", "fixtures", "moby-default-v0.2.3.runc.bpf")
	for _, format := range []string{"text", "json"} {
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				root := newRootCommand()
				root.SetOut(discard{})
				root.SetArgs([]string{"eval", "--format", format, path, "socket", "AF_VSOCK", "1", "0"})
				if err := root.Execute(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
