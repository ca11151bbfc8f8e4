package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

const specTestdata = "../../pkg/spec/testdata"

func TestSourceAutodetect(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"ociVersion":"1.0.2"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		dir:                                 "bundle",
		filepath.Join(dir, "config.json"):   "profile",
		"x/profile.JSON":                    "profile",
		"x/spo.yaml":                        "profile",
		"x/spo.YML":                         "profile",
		"x/filter.bpf":                      "bpf",
		t.TempDir():                         "bpf", // a directory without config.json
		filepath.Join(specTestdata, "none"): "bpf",
	} {
		if got := autodetectKind(path); got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
}

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
		_, err := loadFilterSource(tc.src)
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
		_, err := loadFilterSource("builtin:docker-default")
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
