package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile/inputfiletest"
)

func TestDefaults(t *testing.T) {
	c := Default()
	if c.Key != DefaultKey || c.Store != DefaultStore || c.Log != DefaultLog || !*c.GenerateKey {
		t.Fatalf("defaults: %+v", c)
	}
	if time.Duration(c.Deadline) != DefaultDeadline || time.Duration(c.FilterWait) != DefaultFilterWait {
		t.Fatalf("deadlines: %v %v", c.Deadline, c.FilterWait)
	}
}

func TestParseRelativePathsAndOverrides(t *testing.T) {
	c, err := Parse([]byte("policy: policy.yaml\nmode: audit\nkey: keys/k.key\nstore: /srv/att\ndeadline: 3s\nfilterWait: 500ms\ngenerateKey: false\n"), "/etc/sa/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy != "/etc/sa/policy.yaml" || c.Key != "/etc/sa/keys/k.key" || c.Store != "/srv/att" || c.Mode != "audit" {
		t.Fatalf("paths: %+v", c)
	}
	if time.Duration(c.Deadline) != 3*time.Second || time.Duration(c.FilterWait) != 500*time.Millisecond || *c.GenerateKey {
		t.Fatalf("values: %+v", c)
	}
	c, err = Parse([]byte("deadline: 9s\nstoreBreak: refuse\ncheckpointSink: {exec: [/usr/bin/logger, -t, sa]}\n"), "/etc/sa/config.yaml")
	if err != nil || time.Duration(c.Deadline) != 9*time.Second || c.StoreBreak != "refuse" || time.Duration(c.CheckpointSink.Timeout) != DefaultSinkTimeout {
		t.Fatalf("deadline, storeBreak and sink: %v %+v", err, c)
	}
	c, err = Parse([]byte("policy: preset:strict\n"), "/etc/sa/config.yaml")
	if err != nil || c.Policy != "preset:strict" {
		t.Fatalf("preset kept as is: %v %+v", err, c)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"mod: audit\n", `unknown field "mod"`},
		{"mode: permissive\n", `mode "permissive"`},
		{"deadline: soon\n", `duration "soon"`},
		{"deadline: -1s\n", "must be positive"},
		{"deadline: 1s\nfilterWait: 2s\n", "exceeds deadline"},
		{"key: [1, 2]\n", "config /x.yaml: YAML: "},
		{"mod: audit\n", `config /x.yaml: YAML: unknown field "mod"`},
		{"mode: [\n", "config /x.yaml: YAML: line 1"},
		{"mode: enforce\n\tkey: x\n", "YAML: line 2: found a tab"},
		{"deadline: 10s\n", "deadline 10s: at most 9s"},
		{"deadline: 1m\n", "timeout of the shipped hooks.d"},
		{"storeBreak: ignore\n", `storeBreak "ignore"`},
		{"checkpointSink: {}\n", "give exec or url"},
		{"checkpointSink: {exec: [/bin/true], url: 'http://x'}\n", "give exec or url"},
		{"checkpointSink: {exec: [logger]}\n", "not an absolute path"},
		{"checkpointSink: {url: 'ftp://x'}\n", "want http"},
		{"checkpointSink: {url: 'http://x', timeout: 9s}\n", "must be below deadline"},
	} {
		_, err := Parse([]byte(tc.in), "/x.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", tc.in, err, tc.want)
		}
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("an explicit missing file must be an error")
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("mode: enforce\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil || c.Source != path || c.Mode != "enforce" {
		t.Fatalf("Load: %v %+v", err, c)
	}
}

// The configuration shipped in packaging/ parses and says what the
// embedded defaults say, so installing it changes nothing by itself.
func TestShippedConfigIsTheDefaults(t *testing.T) {
	c, err := Load("../../packaging/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if c.Key != d.Key || c.Store != d.Store || c.Log != d.Log || c.Deadline != d.Deadline || c.FilterWait != d.FilterWait || *c.GenerateKey != *d.GenerateKey || c.Mode != "" {
		t.Fatalf("packaging/config.yaml %+v differs from the defaults %+v", c, d)
	}
	if c.Policy != "/etc/seccomp-attest/policy.yaml" {
		t.Fatalf("policy %q", c.Policy)
	}
}

func TestOpenLog(t *testing.T) {
	c := Default()
	c.Log = filepath.Join(t.TempDir(), "sa.log")
	log, closeLog, err := c.OpenLog()
	if err != nil || log == nil {
		t.Fatalf("OpenLog: %v %v", log, err)
	}
	log.WithField("id", "c1").Info("pass")
	closeLog()
	data, err := os.ReadFile(c.Log)
	if err != nil || !strings.Contains(string(data), `"id":"c1"`) || !strings.Contains(string(data), `"level":"info"`) {
		t.Fatalf("log %q %v", data, err)
	}
	if st, _ := os.Stat(c.Log); st.Mode().Perm() != 0o600 {
		t.Fatalf("log mode %v", st.Mode())
	}
	c.Log = "-"
	if log, _, err := c.OpenLog(); log != nil || err != nil {
		t.Fatalf(`"-" must mean no file: %v %v`, log, err)
	}
	c.Log = filepath.Join(t.TempDir(), "missing-dir", "sa.log")
	if _, _, err := c.OpenLog(); err == nil || !strings.Contains(err.Error(), c.Log) {
		t.Fatalf("unopenable log: %v", err)
	}
}

// The configuration the hook, the daemon and the wrapper read is checked
// like every other input: a device, a FIFO, a directory or a sparse 1 GiB
// file is refused at once, naming the file.
func TestLoadRefusesWhatIsNotAConfigurationFile(t *testing.T) {
	for _, c := range inputfiletest.Cases(t) {
		inputfiletest.CheckRefused(t, c, func(path string) error { _, err := Load(path); return err })
	}
}
