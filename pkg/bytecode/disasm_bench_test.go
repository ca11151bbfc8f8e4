package bytecode_test

import (
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/filterfuzz"
	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// The listing of Docker's default (1015 instructions), as disasm and
// eval's path print it.
func BenchmarkDisassembleDockerDefault(b *testing.B) {
	prog := filterfuzz.Named(fixtures(b), "moby-default-v0.2.3.runc.bpf").Prog
	opts := bc.DisasmOptions{Arch: arch.X86_64}
	for b.Loop() {
		bc.Disassemble(prog, opts)
	}
}
