//go:build !(cgo && libseccomp)

package spec

import "github.com/seccomp-attest/seccomp-attest/pkg/arch"

// KnownSyscall needs libseccomp; see syscallnames_libseccomp.go. It is nil
// in this build: callers then assume every name is known.
var KnownSyscall func(a *arch.Arch, name string, nr uint32) bool
