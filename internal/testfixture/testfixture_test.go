package testfixture

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestPresentFixture(t *testing.T) {
	path := Path(t, "README.md")
	if !strings.HasSuffix(path, filepath.Join(Dir, "README.md")) {
		t.Errorf("Path = %s", path)
	}
	if len(Read(t, "README.md")) == 0 {
		t.Error("README.md read empty")
	}
	if got := Glob(t, "*.profile.json"); len(got) < 5 {
		t.Errorf("Glob(*.profile.json) = %d files", len(got))
	}
}

// recorder is a testing.TB that records a Fatalf or a Skip instead of
// ending the test that uses it.
type recorder struct {
	testing.TB
	failed, skipped bool
}

func (r *recorder) Helper() {}

// Fatalf and SkipNow do not return: they end the goroutine, as testing's do.
func (r *recorder) Fatalf(string, ...any) { r.failed = true; panic(r) }
func (r *recorder) SkipNow()              { r.skipped = true; panic(r) }
func (r *recorder) Skip(...any)           { r.SkipNow() }
func (r *recorder) Skipf(string, ...any)  { r.SkipNow() }

// fails runs f with a recorder and reports whether it failed the test
// (skipping is no failure).
func fails(t *testing.T, f func(tb testing.TB)) bool {
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != r {
				panic(p)
			}
		}()
		f(r)
	}()
	return r.failed && !r.skipped
}

func TestMissingFixtureFails(t *testing.T) {
	for name, f := range map[string]func(testing.TB){
		"Path": func(tb testing.TB) { Path(tb, "no-such.bpf") },
		"Read": func(tb testing.TB) { Read(tb, "no-such.bpf") },
		"Glob": func(tb testing.TB) { Glob(tb, "*.no-such") },
	} {
		if !fails(t, f) {
			t.Errorf("%s of a missing fixture did not fail the test", name)
		}
	}
}
