// Package testfixture gives tests of any package the committed fixtures:
// the filters runtimes loaded and the profiles and states they were
// captured from (see the README in Dir). They are part of the tree, so a
// missing one fails the test that wanted it: skipping would let a lost or
// renamed fixture turn a test into one that checks nothing.
package testfixture

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// Dir is the fixture directory, relative to the module root.
const Dir = "pkg/bytecode/testdata/fixtures"

var root struct {
	once sync.Once
	dir  string
	err  error
}

// moduleRoot is the directory of go.mod above the test's working directory
// (go test runs a test in its package's directory).
func moduleRoot(tb testing.TB) string {
	tb.Helper()
	root.once.Do(func() {
		dir, err := os.Getwd()
		for err == nil {
			if _, statErr := os.Stat(filepath.Join(dir, "go.mod")); statErr == nil {
				root.dir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				err = os.ErrNotExist
				break
			}
			dir = parent
		}
		root.err = err
	})
	if root.err != nil {
		tb.Fatalf("testfixture: no go.mod above the working directory: %v", root.err)
	}
	return root.dir
}

// Path returns the path of the fixture name, failing the test when the
// file does not exist.
func Path(tb testing.TB, name string) string {
	tb.Helper()
	path := filepath.Join(moduleRoot(tb), Dir, name)
	if _, err := os.Stat(path); err != nil {
		tb.Fatalf("committed fixture %s is missing: %v", name, err)
	}
	return path
}

// Read returns the bytes of the fixture name, failing the test when it
// cannot be read.
func Read(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(Path(tb, name))
	if err != nil {
		tb.Fatalf("committed fixture %s: %v", name, err)
	}
	return data
}

// ReadFilter reads and parses the raw filter at path (a fixture's, from
// Path or Glob, or one of a package's own testdata), failing the test when
// it cannot.
func ReadFilter(tb testing.TB, path string) *bytecode.Filter {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := bytecode.ParseFilter(raw)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return f
}

// Glob returns the paths of the fixtures matching pattern (filepath.Match
// syntax, within Dir), failing the test when none does.
func Glob(tb testing.TB, pattern string) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(moduleRoot(tb), Dir, pattern))
	if err != nil {
		tb.Fatalf("fixture pattern %q: %v", pattern, err)
	}
	if len(paths) == 0 {
		tb.Fatalf("no committed fixture matches %s in %s", pattern, Dir)
	}
	return paths
}
