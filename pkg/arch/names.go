package arch

import (
	"runtime"
	"strings"
)

// AuditName returns the arch's AUDIT_ARCH_* constant name without the
// AUDIT_ARCH_ prefix, as seccomp-tools prints it (X86_64, I386, AARCH64).
// x32 shares X86_64's value and so its name.
func (a *Arch) AuditName() string {
	switch a {
	case X32:
		return X86_64.AuditName()
	case X86:
		return "I386"
	}
	return strings.ToUpper(a.Name)
}

// goarchs maps GOARCH values to architectures.
var goarchs = map[string]*Arch{
	"amd64": X86_64, "386": X86, "arm64": AArch64, "arm": ARM, "riscv64": RISCV64,
	"s390x": S390X, "ppc64le": PPC64LE, "ppc64": PPC64, "mips": MIPS, "mipsle": MIPSEL,
	"mips64": MIPS64, "mips64le": MIPSEL64, "loong64": LoongArch64,
}

// Native returns the architecture of this program's own system calls
// (runtime.GOARCH), or nil on a GOARCH seccomp does not know.
func Native() *Arch { return goarchs[runtime.GOARCH] }
