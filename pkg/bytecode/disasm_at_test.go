package bytecode_test

import (
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// DisassembleAt names the lines it describes as Disassemble does.
func TestDisassembleAtMatchesDisassemble(t *testing.T) {
	for _, fx := range fixtures(t) {
		opts := bc.DisasmOptions{Arch: arch.X86_64}
		all := bc.Disassemble(fx.Prog, opts)
		pcs := []int{len(fx.Prog) - 1, 0, len(fx.Prog) / 2, len(fx.Prog) / 3}
		for i, l := range bc.DisassembleAt(fx.Prog, opts, pcs) {
			if l != all[pcs[i]] {
				t.Errorf("%s line %d: %v, Disassemble %v", fx.Name, pcs[i], l, all[pcs[i]])
			}
		}
	}
}
