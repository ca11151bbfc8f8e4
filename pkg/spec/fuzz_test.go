package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/testfixture"
)

// maxProfileBytes bounds a fuzzed profile; Docker's default is about 20 KiB.
const maxProfileBytes = 64 << 10

// FuzzProfileLoad feeds Parse, the loader of every intended profile
// (Docker, podman, OCI, bundle and Security Profiles Operator formats),
// arbitrary bytes: it never panics; an error names the file; an accepted
// profile says where it came from, its seccomp section reads back the
// same as a bare OCI profile, and asking for the filter runc or crun
// would load ends in a filter or an error (with libseccomp built in, that
// runs the real compiler on it).
func FuzzProfileLoad(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"testdata/*.json", "testdata/*.yaml", "testdata/*/config.json", "engines/*.json"} {
		paths, err := filepath.Glob(pattern)
		if err != nil || len(paths) == 0 {
			f.Fatalf("no seed matches %s (%v)", pattern, err)
		}
		seeds = append(seeds, paths...)
	}
	seeds = append(seeds, testfixture.Glob(f, "*.profile.json")...)
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) <= maxProfileBytes {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxProfileBytes {
			return
		}
		const name = "fuzz.json"
		p, err := Parse(data, name, Options{})
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if !strings.HasPrefix(p.Source, name) {
			t.Fatalf("Source %q does not start with %q", p.Source, name)
		}
		if p.Seccomp != nil {
			out, err := json.Marshal(p.Seccomp)
			if err != nil {
				t.Fatalf("accepted profile does not encode: %v", err)
			}
			again, err := Parse(out, name, Options{})
			if err != nil {
				t.Fatalf("seccomp section %s read back: %v", out, err)
			}
			if out2, _ := json.Marshal(again.Seccomp); string(out2) != string(out) {
				t.Fatalf("seccomp section changed on reading back:\n%s\n%s", out, out2)
			}
		}
		for _, runtime := range []string{RuntimeRunc, RuntimeCrun} {
			if _, err := p.Stack(runtime); err != nil && err.Error() == "" {
				t.Fatalf("%s: empty error", runtime)
			}
		}
	})
}
