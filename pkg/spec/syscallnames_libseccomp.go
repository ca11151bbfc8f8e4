//go:build cgo && libseccomp

package spec

import (
	libseccomp "github.com/seccomp/libseccomp-golang"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

// KnownSyscall reports whether this machine's libseccomp, the runtimes'
// compiler, resolves a syscall name on an architecture to nr: a profile
// can only name what its reader knows (runc and crun skip other names).
// The socket and SysV IPC calls that libseccomp multiplexes (x86, s390)
// resolve to pseudo numbers and count as known. Nil in builds without
// libseccomp.
var KnownSyscall = knownSyscall

func knownSyscall(a *arch.Arch, name string, nr uint32) bool {
	sa, err := libseccomp.GetArchFromString(a.Name)
	if err != nil {
		return false
	}
	got, err := libseccomp.GetSyscallFromNameByArch(name, sa)
	if err != nil {
		return false
	}
	if n := int32(got); n <= -100 && n >= -224 {
		// A multiplexed call: libseccomp adds the rule to the direct
		// syscall (nr here) and to the multiplexer.
		return true
	}
	return got >= 0 && uint32(got) == nr
}
