//go:build cgo && libseccomp

package main

import (
	"encoding/json"
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

// builtin:docker-20.10 is what Debian's dockerd 20.10 loaded (captured);
// with CAP_SYS_ADMIN it is weaker only (more allowed), and --capabilities
// does not leak into the next command.
func TestDiffCapabilities(t *testing.T) {
	captured := filepath.Join(fixtureDir, "docker-default.runc.bpf")
	if code, out := runCLI(t, "diff", "builtin:docker-20.10", captured); code != exitOK {
		t.Errorf("default capabilities: exit %d\n%s", code, out)
	}
	var rep struct{ Counts map[string]int }
	code, out := runCLI(t, "diff", "--format", "json", captured, "--capabilities", "docker-default,SYS_ADMIN", "builtin:docker-20.10")
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitNo || rep.Counts["weaker"] == 0 || rep.Counts["stricter"] != 0 {
		t.Errorf("docker-default,SYS_ADMIN: exit %d %v\n%s", code, err, out)
	}
	// CAP_SYS_ADMIN alone drops CAP_SYS_CHROOT: chroot is denied then.
	code, out = runCLI(t, "diff", captured, "--capabilities", "cap_sys_admin", "builtin:docker-20.10")
	if code != exitNo || !strings.Contains(out, "stricter (B denies what A lets through)") || !strings.Contains(out, "chroot") {
		t.Errorf("CAP_SYS_ADMIN only: exit %d\n%s", code, out)
	}
	if code, out := runCLI(t, "diff", "builtin:docker-20.10", captured); code != exitOK {
		t.Errorf("--capabilities leaked into the next command: exit %d\n%s", code, out)
	}
	if code, out := runCLI(t, "diff", "--capabilities", "SYS_ADMN", "builtin:docker-20.10", captured); code != exitError || !strings.Contains(out, "unknown capability") {
		t.Errorf("misspelt capability: exit %d\n%s", code, out)
	}
}

// decompile compiles intended sources as --runtime would: runc's ENOSYS
// stub shows as ERRNO(38), crun has none.
func TestDecompileRuntime(t *testing.T) {
	code, runc := runCLI(t, "decompile", "builtin:docker-20.10")
	if code != exitOK || !strings.Contains(runc, "default: ERRNO(38)") {
		t.Errorf("runc: exit %d, ENOSYS stub missing", code)
	}
	code, crun := runCLI(t, "decompile", "--runtime", "crun", "builtin:docker-20.10")
	if code != exitOK || strings.Contains(crun, "default: ERRNO(38)") {
		t.Errorf("crun: exit %d, ENOSYS stub present", code)
	}
	_, admin := runCLI(t, "decompile", "--format", "json", "--capabilities", "docker-default,SYS_ADMIN", "builtin:docker-20.10")
	_, dflt := runCLI(t, "decompile", "--format", "json", "builtin:docker-20.10")
	if admin == dflt {
		t.Errorf("--capabilities did not change the decompiled builtin")
	}
}

// A Security Profiles Operator SeccompProfile is recognised by its
// extension and content and compiles like the OCI profile it stands for.
func TestDiffSPOProfile(t *testing.T) {
	spo := filepath.Join(specTestdata, "spo.yaml")
	if code, out := runCLI(t, "diff", spo, "profile:"+filepath.Join(specTestdata, "spo-same.oci.json")); code != exitOK {
		t.Errorf("exit %d\n%s", code, out)
	}
	code, out := runCLI(t, "check", "--policy", writePolicy(t, "baselines: []\ndenySyscalls: [ptrace, bpf]\n"), "profile:"+spo)
	if code != exitNo || !strings.Contains(out, "denySyscalls: x86_64 bpf: effective ALLOW") || strings.Contains(out, "x86_64 ptrace") {
		t.Errorf("check: exit %d\n%s", code, out)
	}
}
