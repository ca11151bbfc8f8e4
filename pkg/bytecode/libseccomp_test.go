package bytecode

import (
	"os"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

// The filter in testdata was compiled by libseccomp 2.5.4 from
// libseccomp-x86_64-x32-i386.c: default ERRNO(EPERM); read and execve
// allowed; socket allowed unless args[0] == AF_VSOCK (40); personality
// allowed if (args[0] & 0xff) == 8; ptrace kills; arches x86_64, x32, i386.
const libseccompFilter = "testdata/libseccomp-x86_64-x32-i386"

func readLibseccompFilter(t *testing.T) *Filter {
	t.Helper()
	raw, err := os.ReadFile(libseccompFilter + ".bpf")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFilter(raw)
	if err != nil {
		t.Fatalf("libseccomp's filter does not validate: %v", err)
	}
	return f
}

// TestDisassembleLibseccomp compares the listing of a real filter with the
// reviewed one in testdata (.disasm). After a deliberate change of the
// output, regenerate it with `seccomp-attest disasm FILE.bpf > FILE.disasm`
// and review the diff.
func TestDisassembleLibseccomp(t *testing.T) {
	f := readLibseccompFilter(t)
	want, err := os.ReadFile(libseccompFilter + ".disasm")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteDisassembly(&b, f.Instructions(), DisasmOptions{Arch: arch.X86_64}); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("listing differs from %s.disasm:\n%s", libseccompFilter, got)
	}
}

func TestRunLibseccomp(t *testing.T) {
	f := readLibseccompFilter(t)
	x86_64, x86 := arch.X86_64.Audit, arch.X86.Audit
	nr := func(a *arch.Arch, name string) uint32 {
		n, ok := a.SyscallNr(name)
		if !ok {
			t.Fatalf("%s has no %s", a, name)
		}
		return n
	}
	tests := []struct {
		name string
		d    Data
		want Action
	}{
		{"x86_64 read", Data{Arch: x86_64, Nr: nr(arch.X86_64, "read")}, ActAllow},
		{"x32 read", Data{Arch: x86_64, Nr: nr(arch.X32, "read")}, ActAllow},
		{"x32 execve", Data{Arch: x86_64, Nr: nr(arch.X32, "execve")}, ActAllow},
		{"x32 nr of x86_64 execve", Data{Arch: x86_64, Nr: arch.X32SyscallBit | 59}, ActErrno | 1},
		{"i386 execve", Data{Arch: x86, Nr: nr(arch.X86, "execve")}, ActAllow},
		{"x86_64 write", Data{Arch: x86_64, Nr: nr(arch.X86_64, "write")}, ActErrno | 1},
		{"x86_64 ptrace", Data{Arch: x86_64, Nr: nr(arch.X86_64, "ptrace")}, ActKillProcess},
		{"i386 ptrace", Data{Arch: x86, Nr: nr(arch.X86, "ptrace")}, ActKillProcess},
		{"other arch", Data{Arch: arch.AArch64.Audit, Nr: 63}, ActKillThread},
		{"socket(AF_INET)", Data{Arch: x86_64, Nr: nr(arch.X86_64, "socket"), Args: [6]uint64{2}}, ActAllow},
		{"socket(AF_VSOCK)", Data{Arch: x86_64, Nr: nr(arch.X86_64, "socket"), Args: [6]uint64{40}}, ActErrno | 1},
		// The filter compares all 64 bits; the kernel's socket() reads an
		// int. This is the bypass the effective table must report.
		{"socket(AF_VSOCK | 1<<32)", Data{Arch: x86_64, Nr: nr(arch.X86_64, "socket"), Args: [6]uint64{40 | 1<<32}}, ActAllow},
		{"i386 socketcall(SYS_SOCKET)", Data{Arch: x86, Nr: nr(arch.X86, "socketcall"), Args: [6]uint64{1}}, ActAllow},
		{"personality(8)", Data{Arch: x86_64, Nr: nr(arch.X86_64, "personality"), Args: [6]uint64{0x108}}, ActAllow},
		{"personality(9)", Data{Arch: x86_64, Nr: nr(arch.X86_64, "personality"), Args: [6]uint64{9}}, ActErrno | 1},
	}
	for _, tt := range tests {
		if got := f.Run(&tt.d); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}
