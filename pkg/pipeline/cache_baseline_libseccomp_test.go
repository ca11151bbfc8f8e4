//go:build libseccomp

package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
)

// A policy's verdicts depend on its baselines' files as well as on its
// own: a baseline edited to deny what the container's profile allows must
// refuse the next container, not answer with the verdict cached under the
// old baseline (the policy file, and so its digest, did not change).
func TestVerdictCacheFollowsBaselineFiles(t *testing.T) {
	dir := t.TempDir()
	profile, polPath := filepath.Join(dir, "base.json"), filepath.Join(dir, "policy.yaml")
	writeFile(t, profile, `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[]}`, 0o644)
	writeFile(t, polPath, "mode: enforce\nbaselines: [\"profile:base.json\"]\n", 0o644)
	_, check := kexecBundle(t, dir, polPath)
	if got := check(); got != "pass" {
		t.Fatalf("under an allow-all baseline: %s, want pass", got)
	}
	writeFile(t, profile, `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["kexec_load"],"action":"SCMP_ACT_ERRNO"}]}`, 0o644)
	if got := check(); got != "fail" {
		t.Fatalf("the baseline now denies kexec_load, which the profile allows: %s, want fail (a verdict cached under the old baseline)", got)
	}
}

// kexecBundle is a bundle whose profile allows kexec_load, and a
// configuration with policy polPath and its key and store in dir; check
// judges the bundle's intended profile with a new pipeline each time (as
// one hook process each would).
func kexecBundle(t *testing.T, dir, polPath string) (cfg *config.Config, check func() string) {
	t.Helper()
	b := filepath.Join(dir, "bundle")
	if err := os.Mkdir(b, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(b, "config.json"), `{"ociVersion":"1.0.2","process":{"args":["true"]},"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read","write","exit","exit_group","kexec_load"],"action":"SCMP_ACT_ALLOW"}]}}}`, 0o644)
	cfg = config.Default()
	cfg.Key = filepath.Join(dir, "keys", attest.PrivateKeyFile)
	cfg.Store = filepath.Join(dir, "store")
	cfg.Policy = polPath
	return cfg, func() string {
		t.Helper()
		p, err := New(cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.CheckIntended(context.Background(), Container{ID: "c1", Bundle: b})
		if err != nil {
			t.Fatal(err)
		}
		return out.Verdict.Result
	}
}

// A verdict cache that others may write (or a symbolic link to one)
// holds verdicts nobody judged: a forged "pass" there must not answer
// for a profile the policy refuses.
func TestVerdictCacheOthersMayWriteIsNotRead(t *testing.T) {
	dir := t.TempDir()
	polPath := filepath.Join(dir, "policy.yaml")
	writeFile(t, polPath, "mode: enforce\nbaselines: []\ndenySyscalls: [kexec_load]\n", 0o644)
	cfg, check := kexecBundle(t, dir, polPath)
	if got := check(); got != "fail" {
		t.Fatalf("kexec_load allowed against a policy denying it: %s", got)
	}
	cache := filepath.Join(cfg.Store, "cache")
	entries, _ := filepath.Glob(filepath.Join(cache, "*.json"))
	if len(entries) == 0 {
		t.Fatal("no cache entry written")
	}
	for _, e := range entries {
		writeFile(t, e, `{"result":"pass","groups":[{"reasons":[]}]}`, 0o644)
	}
	if err := os.Chmod(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	if got := check(); got != "fail" {
		t.Fatalf("a forged entry in a cache writable by others answered: %s", got)
	}
}

// The intended profile is compiled by a shared libseccomp that upgrades
// apart from this program: another library is another key.
func TestVerdictCacheKeyNamesLibseccomp(t *testing.T) {
	if id := libseccompIdentity(); !strings.Contains(id, "libseccomp") {
		t.Fatalf("libseccomp mapped by this test: %q", id)
	}
	p, _ := newPipeline(t, "")
	c := Container{ID: "c", Runtime: "runc"}
	before := p.cache.key(p, &c, nil, nil)
	old := libseccompIdentity
	libseccompIdentity = func() string { return "08:01 4242 /usr/lib/libseccomp.so.2.6.0" }
	t.Cleanup(func() { libseccompIdentity = old })
	if after := p.cache.key(p, &c, nil, nil); after == before || after == "" {
		t.Fatalf("same key with another libseccomp: %q", after)
	}
}
