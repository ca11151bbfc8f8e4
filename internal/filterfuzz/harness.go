package filterfuzz

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// Fixture is a captured filter.
type Fixture struct {
	Name string
	Prog []bpf.Instruction
}

// LoadFixtures reads the *.bpf files matched by the patterns, sorted by
// name so that fuzz inputs keep naming the same filters.
func LoadFixtures(patterns ...string) ([]Fixture, error) {
	var files []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	slices.SortFunc(files, func(a, b string) int {
		return cmp.Or(cmp.Compare(filepath.Base(a), filepath.Base(b)), cmp.Compare(a, b))
	})
	if len(files) == 0 {
		return nil, errors.New("no fixtures match " + fmt.Sprint(patterns))
	}
	var out []Fixture
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		f, err := bc.ParseFilter(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, Fixture{filepath.Base(path), f.Instructions()})
	}
	return out, nil
}

// Named finds a fixture by name; other names (the fuzzer mutates them
// too) pick one by their hash, so that every input means a fixture.
func Named(fs []Fixture, name string) Fixture {
	for _, f := range fs {
		if f.Name == name {
			return f
		}
	}
	return fs[Salt([]byte(name))%uint64(len(fs))]
}

// Salt hashes a fuzz input: the offset from which a limited set of
// boundary inputs is sampled, so that iterations sample differently.
func Salt(parts ...[]byte) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// TB is the part of testing.TB that Judge uses.
type TB interface {
	Helper()
	Fatal(args ...any)
	Skipf(format string, args ...any)
	Log(args ...any)
}

// Judge fails the test on new problems and skips it when every problem
// is a known engine bug being fixed, so that CI stays green. Either way,
// with FUZZ_FINDINGS_DIR set, it writes the reproducer there.
func Judge(t TB, target string, ps Problems, describe func() string) {
	t.Helper()
	if len(ps) == 0 {
		return
	}
	text := fmt.Sprintf("target %s\n%s\nfailing checks:\n%s", target, describe(), ps)
	if err := Record(os.Getenv("FUZZ_FINDINGS_DIR"), target, text); err != nil {
		t.Log(err)
	}
	if len(ps.New()) > 0 {
		t.Fatal(text)
	}
	t.Skipf("known engine bug being fixed: %s\n%s", strings.Join(ps.Known(), "; "), text)
}
