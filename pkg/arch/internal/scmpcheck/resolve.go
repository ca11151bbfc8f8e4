//go:build cgo && libseccomp

// Package scmpcheck cross-checks the syscall tables of package arch against
// libseccomp's own tables. It needs cgo and libseccomp-dev, so it builds
// only with -tags libseccomp:
//
//	go test -tags libseccomp ./pkg/arch/internal/scmpcheck
package scmpcheck

/*
#cgo LDFLAGS: -lseccomp
#include <seccomp.h>
#include <stdlib.h>
*/
import "C"

import "unsafe"

// resolve returns libseccomp's name for syscall nr of the architecture
// whose token (an AUDIT_ARCH value, or SCMP_ARCH_X32) is tok, or "".
func resolve(tok uint32, nr uint32) string {
	p := C.seccomp_syscall_resolve_num_arch(C.uint32_t(tok), C.int(nr))
	if p == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(p))
	return C.GoString(p)
}

// libVersion returns libseccomp's version as major, minor, micro.
func libVersion() (int, int, int) {
	v := C.seccomp_version()
	return int(v.major), int(v.minor), int(v.micro)
}
