package pipeline

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
)

// settleAtOnce makes every file count as settled the moment it is read
// (no racy window), for the length of the test: what is then reused is
// reused because its identity is unchanged. The files the tests change
// change size or inode, which no clock tick hides.
func settleAtOnce(t *testing.T) {
	old := racyWindow
	racyWindow = -time.Hour
	t.Cleanup(func() { racyWindow = old })
}

func writeFile(t *testing.T, path, data string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), perm); err != nil {
		t.Fatal(err)
	}
}

// A warm configuration, policy and key are the ones read before while
// their files are unchanged, and are read again as soon as they change.
func TestWarmReloadsWhatChanged(t *testing.T) {
	settleAtOnce(t)
	dir := t.TempDir()
	cfgPath, polPath, keyDir := filepath.Join(dir, "config.yaml"), filepath.Join(dir, "policy.yaml"), filepath.Join(dir, "keys")
	writeFile(t, polPath, "mode: enforce\nbaselines: []\n", 0o644)
	writeFile(t, cfgPath, "policy: policy.yaml\nkey: keys/signing.key\nstore: store\nlog: \"-\"\n", 0o644)
	w := NewWarm(Options{})

	cfg, err := w.Config(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	first, err := w.Pipeline(cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := w.Pipeline(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if again.policy != first.policy || again.signer != first.signer {
		t.Fatal("unchanged files: the policy and key were loaded again")
	}
	if first.Mode() != "enforce" {
		t.Fatalf("mode %q", first.Mode())
	}

	// The policy changes: the next pipeline has the new one.
	writeFile(t, polPath, "mode: audit\nbaselines: []\n", 0o644)
	changed, err := w.Pipeline(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if changed.policy == first.policy || changed.Mode() != "audit" || changed.policyDigest == first.policyDigest {
		t.Fatalf("changed policy not reloaded: mode %q", changed.Mode())
	}

	// The key is replaced (a new file renamed over it): the new key signs.
	newKeys := t.TempDir()
	if _, _, err := attest.GenerateKey(attest.KeyECDSAP256, newKeys); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(newKeys, attest.PrivateKeyFile), filepath.Join(keyDir, attest.PrivateKeyFile)); err != nil {
		t.Fatal(err)
	}
	rekeyed, err := w.Pipeline(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want, err := attest.LoadSigner(filepath.Join(keyDir, attest.PrivateKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	gotID, _ := rekeyed.signer.KeyID()
	wantID, _ := want.KeyID()
	oldID, _ := first.signer.KeyID()
	if gotID != wantID || gotID == oldID {
		t.Fatalf("replaced key: signing with %s, want %s (old %s)", gotID, wantID, oldID)
	}

	// A key made readable by others is refused at once, not served from
	// memory.
	if err := os.Chmod(filepath.Join(keyDir, attest.PrivateKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Pipeline(cfg); err == nil {
		t.Fatal("a key readable by others was still used")
	}

	// The configuration changes: the next check reads it.
	writeFile(t, cfgPath, "policy: preset:strict\nkey: keys/signing.key\nstore: store\nlog: \"-\"\nmode: audit\n", 0o644)
	cfg2, err := w.Config(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg2.Policy != "preset:strict" || cfg2.Mode != "audit" {
		t.Fatalf("changed configuration not reloaded: %+v", cfg2)
	}
}

// A baseline the policy reads from a file is part of the policy: when
// it changes, the policy (and what it resolved) is loaded again.
func TestWarmReloadsPolicyWhenABaselineChanges(t *testing.T) {
	settleAtOnce(t)
	dir := t.TempDir()
	polPath, profile := filepath.Join(dir, "policy.yaml"), filepath.Join(dir, "base.json")
	writeFile(t, profile, `{"defaultAction":"SCMP_ACT_ERRNO"}`, 0o644)
	writeFile(t, polPath, "baselines: [\"profile:base.json\"]\n", 0o644)
	w := NewWarm(Options{})
	first, _, err := w.policy(polPath, "")
	if err != nil {
		t.Fatal(err)
	}
	if again, _, _ := w.policy(polPath, ""); again != first {
		t.Fatal("unchanged policy and baseline: the policy was loaded again")
	}
	writeFile(t, profile, `{"defaultAction":"SCMP_ACT_ALLOW"}`, 0o644)
	if changed, _, _ := w.policy(polPath, ""); changed == first {
		t.Fatal("the baseline's file changed and the policy kept what it had resolved from it")
	}
}

// A file changed within the racy window of its read may carry the times
// it had: it is read again at every use until it is older.
func TestWarmRereadsRacyFiles(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	writeFile(t, cfgPath, "log: \"-\"\n", 0o644)
	w := NewWarm(Options{})
	if _, err := w.Config(cfgPath); err != nil {
		t.Fatal(err)
	}
	if w.configs[cfgPath].files.current() {
		t.Fatal("a file changed just now counts as settled")
	}
	// Same size, same inode, written again at once: read again.
	writeFile(t, cfgPath, "log: \"+\"\n", 0o644)
	cfg, err := w.Config(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log != filepath.Join(dir, "+") {
		t.Fatalf("rewritten within the racy window: log %q", cfg.Log)
	}
}

// Without a configuration file the defaults are used, and a file that
// appears later is read.
func TestWarmConfigAppears(t *testing.T) {
	settleAtOnce(t)
	path := filepath.Join(t.TempDir(), "config.yaml")
	w := NewWarm(Options{})
	if _, err := w.Config(path); err == nil {
		t.Fatal("an explicit configuration that does not exist was accepted")
	}
	writeFile(t, path, "mode: audit\n", 0o644)
	cfg, err := w.Config(path)
	if err != nil || cfg.Mode != "audit" {
		t.Fatalf("%+v %v", cfg, err)
	}
	// The copy handed out is the caller's to change.
	cfg.Mode = "enforce"
	if again, _ := w.Config(path); again.Mode != "audit" {
		t.Fatal("a caller's change reached the kept configuration")
	}
}

// A log that was rotated away is reopened at its path; the file a check
// still writes to stays open until it is done.
func TestWarmLogFollowsRotation(t *testing.T) {
	dir := t.TempDir()
	cfg := &config.Config{Log: filepath.Join(dir, "hook.log")}
	w := NewWarm(Options{})
	defer w.Close()
	first, releaseFirst, err := w.OpenLog(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(cfg.Log, cfg.Log+".1"); err != nil {
		t.Fatal(err)
	}
	second, releaseSecond, err := w.OpenLog(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseSecond()
	first.Info("before the rotation was noticed")
	releaseFirst()
	second.Info("after")
	old, _ := os.ReadFile(cfg.Log + ".1")
	now, _ := os.ReadFile(cfg.Log)
	if len(old) == 0 || len(now) == 0 {
		t.Fatalf("rotated log %q, new log %q", old, now)
	}
}
