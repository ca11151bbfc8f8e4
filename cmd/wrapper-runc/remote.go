package main

import (
	"github.com/seccomp-attest/seccomp-attest/pkg/runcargs"
)

// checked has create, start and run checked, in this process: it becomes
// `seccomp-attestd wrapper-runc`.
func checked(argv []string, inv *runcargs.Invocation, self string) int {
	return execChecker(argv, self)
}
