package score

import (
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/testfixture"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// fixtureStack reads captured filters (oldest first).
func fixtureStack(tb testing.TB, names ...string) bytecode.Stack {
	tb.Helper()
	var s bytecode.Stack
	for _, n := range names {
		f, err := bytecode.ParseFilter(testfixture.Read(tb, n))
		if err != nil {
			tb.Fatalf("%s: %v", n, err)
		}
		s = append(s, f)
	}
	return s
}

func mustScore(tb testing.TB, s bytecode.Stack) *Report {
	tb.Helper()
	r, err := ComputeStack(s, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}
