package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/source"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

const specTestdata = "../../pkg/spec/testdata"

func TestIntendedSourceErrors(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []string
	}{
		{filepath.Join(specTestdata, "malformed.json"), []string{"malformed.json:5:3", "invalid JSON"}},
		{"profile:" + filepath.Join(specTestdata, "unknown.json"), []string{"unknown format"}},
		{"bundle:" + filepath.Join(specTestdata, "oci.json"), []string{"not an OCI bundle config"}},
		{"builtin:nope", []string{"unknown builtin", "docker-default"}},
		{"nope:x", []string{"unknown kind", "builtin:NAME"}},
	} {
		_, err := resolveSource(&source.Resolver{}, tc.src)
		if err == nil {
			t.Errorf("%s: no error", tc.src)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not contain %q", tc.src, err, w)
			}
		}
	}
	if !spec.CompileSupported {
		_, err := resolveSource(&source.Resolver{}, "builtin:docker-default")
		if err == nil || !strings.Contains(err.Error(), "libseccomp") {
			t.Errorf("builtin without libseccomp: %v", err)
		}
	}
}

func TestDiffUnknownRuntime(t *testing.T) {
	code, out := runCLI(t, "diff", "--runtime", "youki", "builtin:docker-default", "builtin:docker-default")
	if code != exitError || !strings.Contains(out, `unknown runtime "youki"`) {
		t.Errorf("exit %d: %s", code, out)
	}
}
