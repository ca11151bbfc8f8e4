//go:build cgo && libseccomp

package main

import (
	"path/filepath"
	"strings"
	"testing"
)

const fixtureDir = "../../pkg/bytecode/testdata/fixtures"

// The intended side compiled as each runtime would matches what that
// runtime loaded for the same profile (moby v0.2.3 fixtures); the other
// runtime's compilation differs in the ENOSYS answers only.
func TestDiffBuiltinAgainstCapturedFilters(t *testing.T) {
	runc := filepath.Join(fixtureDir, "moby-default-v0.2.3.runc.bpf")
	crun := filepath.Join(fixtureDir, "moby-default-v0.2.3.crun.bpf")
	if code, out := runCLI(t, "diff", "builtin:docker-default", runc); code != exitOK {
		t.Errorf("runc: exit %d\n%s", code, out)
	}
	if code, out := runCLI(t, "diff", "--runtime", "crun", "builtin:docker-default", "bpf:"+crun); code != exitOK {
		t.Errorf("crun: exit %d\n%s", code, out)
	}
	code, out := runCLI(t, "diff", "--runtime", "crun", "builtin:docker-default", runc)
	if code != exitNo || !strings.Contains(out, "0 weaker, 0 stricter") || !strings.Contains(out, "ERRNO(1) -> ERRNO(38)") {
		t.Errorf("crun-compiled vs runc-loaded: exit %d\n%s", code, out)
	}
	// A new command starts from runc again.
	if code, out := runCLI(t, "diff", "builtin:docker-default", runc); code != exitOK {
		t.Errorf("--runtime leaked into the next command: exit %d\n%s", code, out)
	}
}

func TestDiffBundleCrunAnnotation(t *testing.T) {
	bundle := filepath.Join(specTestdata, "bundle-crun-bpf")
	// Under runc the annotation is ignored: the bundle is its own profile.
	if code, out := runCLI(t, "diff", bundle, "bundle:"+filepath.Join(specTestdata, "bundle")); code != exitOK {
		t.Errorf("runc: exit %d\n%s", code, out)
	}
	// Under crun the raw RET ALLOW filter replaces it: weaker than the config.
	code, out := runCLI(t, "diff", "--runtime", "crun", "profile:"+filepath.Join(specTestdata, "bundle", "config.json"), bundle)
	if code != exitNo || !strings.Contains(out, "weaker") {
		t.Errorf("crun: exit %d\n%s", code, out)
	}
}
