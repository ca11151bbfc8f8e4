// Package version names the build of seccomp-attest's programs: what
// --version prints and what attestations record as tool.version.
package version

import "runtime/debug"

// stamped is set by the Makefile:
//
//	-ldflags "-X github.com/seccomp-attest/seccomp-attest/internal/version.stamped=V"
var stamped string

// String is the stamped version, else the module version the go command
// recorded (go install m@v), else "(devel)" for other builds of a checkout.
func String() string {
	if stamped != "" {
		return stamped
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "(devel)"
}
