package score

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

const fixtures = "../bytecode/testdata/fixtures"

// fixtureStack reads captured filters (oldest first).
func fixtureStack(tb testing.TB, names ...string) bytecode.Stack {
	tb.Helper()
	var s bytecode.Stack
	for _, n := range names {
		raw, err := os.ReadFile(filepath.Join(fixtures, n))
		if err != nil {
			tb.Fatal(err)
		}
		f, err := bytecode.ParseFilter(raw)
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
