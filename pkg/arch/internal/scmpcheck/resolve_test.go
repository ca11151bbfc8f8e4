//go:build cgo && libseccomp

package scmpcheck

import (
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

// scmpArchX32 is SCMP_ARCH_X32: libseccomp tells x32 apart from x86_64 by a
// token of its own, since both share AUDIT_ARCH_X86_64.
const scmpArchX32 = 0x4000003e

// TestTablesAgreeWithLibseccomp checks every number libseccomp names: ours
// must give it the same name. Ours may name more (syscalls newer than the
// installed libseccomp), never fewer.
func TestTablesAgreeWithLibseccomp(t *testing.T) {
	major, minor, micro := libVersion()
	t.Logf("libseccomp %d.%d.%d", major, minor, micro)
	for _, a := range arch.All {
		if a == arch.S390 {
			continue // package arch has no 31-bit s390 table (see internal/mksyscalls)
		}
		t.Run(a.Name, func(t *testing.T) {
			tok := a.Audit
			if a == arch.X32 {
				tok = scmpArchX32
			}
			// Every ABI's numbers start at a base: 4000 for MIPS o32, 5000
			// for MIPS n64, the X32 bit for x32; ARM's private calls sit at
			// 0xf0000.
			base := a.NrBase
			switch a {
			case arch.MIPS, arch.MIPSEL:
				base = 4000
			case arch.MIPS64, arch.MIPSEL64:
				base = 5000
			}
			ranges := [][2]uint32{{base, base + 1024}}
			if a == arch.ARM {
				ranges = append(ranges, [2]uint32{0xf0000, 0xf0010})
			}
			named := 0
			for _, r := range ranges {
				for nr := r[0]; nr < r[1]; nr++ {
					lib := resolve(tok, nr)
					if lib == "" {
						continue
					}
					named++
					if ours, _ := a.SyscallName(nr); ours != lib {
						t.Errorf("nr %d (%#x): libseccomp says %q, arch says %q", nr, nr, lib, ours)
					}
				}
			}
			if named == 0 && a != arch.LoongArch64 { // libseccomp < 2.6 has no loongarch64
				t.Errorf("libseccomp names no syscall of %s: wrong token %#x?", a.Name, tok)
			}
		})
	}
}
