package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaults(t *testing.T) {
	p := Default()
	if p.Mode != ModeEnforce || !*p.NotWeakerThanIntended || p.AllowUnconfined || len(p.DenySyscalls) != 0 ||
		strings.Join(p.Baselines, ",") != strings.Join(DefaultBaselines(), ",") {
		t.Fatalf("%+v", p)
	}
	// Omitted keys take the same defaults as the embedded file.
	q, err := Parse([]byte("mode: enforce\n"), "x.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(q.Baselines, ",") != strings.Join(p.Baselines, ",") || !*q.NotWeakerThanIntended {
		t.Fatalf("%+v", q)
	}
	s, err := Preset("strict")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.DenySyscalls) != 9 || s.DenySyscalls[0] != "ptrace" || strings.Join(s.Baselines, ",") != strings.Join(p.Baselines, ",") {
		t.Fatalf("%v", s.DenySyscalls)
	}
}

func TestUnknownKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(path, []byte("mode: audit\ndenySyscall: [ptrace]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), `"denySyscall"`) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v does not name the key and file", err)
	}
}

func TestInvalid(t *testing.T) {
	for _, s := range []string{
		"mode: warn\n",
		"exceptions: [{name: '(', reason: x}]\n",
		"exceptions: [{name: a}]\n",
		"exceptions: [{reason: x}]\n",
		"exceptions: [{annotation: novalue, reason: x}]\n",
		`{"minScore": "high"}`,
	} {
		if _, err := Parse([]byte(s), "t.yaml", ""); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
	if _, err := Parse([]byte(`{"minScore": 7, "mode": "audit"}`), "t.json", ""); err != nil {
		t.Errorf("JSON policy: %v", err)
	}
}

// A baseline's form is checked when the policy is loaded: a misspelt kind
// or builtin, a live process or a bare path is refused then, naming the
// policy and the baseline.
func TestBaselinesAreParsedWhenLoaded(t *testing.T) {
	for s, want := range map[string]string{
		"baselines: [builtin:docker-defualt]\n":   `unknown builtin profile "docker-defualt"`,
		"baselines: [builtins:docker-default]\n":  `unknown kind "builtins"`,
		"baselines: [pid:1]\n":                    `a pid source is not accepted here`,
		"baselines: [docker.json]\n":              `no kind`,
		"baselines: [builtin:podman-4.3, bpf:]\n": `empty file name`,
	} {
		_, err := Parse([]byte(s), "t.yaml", "")
		if err == nil || !strings.Contains(err.Error(), "policy t.yaml: baselines: source ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming the policy, the baseline and %q", s, err, want)
		}
	}
	// Files are not read yet: a missing one fails when a container is
	// judged.
	if _, err := Parse([]byte("baselines: [profile:missing.json, bpf:a.bpf]\n"), "t.yaml", t.TempDir()); err != nil {
		t.Errorf("missing baseline files refused at load: %v", err)
	}
}

// BaselineFiles names the files the baselines are read from, from the
// policy's directory.
func TestBaselineFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := Parse([]byte("baselines: [builtin:docker-default, profile:p.json, bundle:b, 'bpf:0.bpf,/abs/1.bpf']\n"), "t.yaml", dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "p.json"), filepath.Join(dir, "b", "config.json"), filepath.Join(dir, "0.bpf"), "/abs/1.bpf"}
	if got := p.BaselineFiles(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%v, want %v", got, want)
	}
	if got := Default().BaselineFiles(); len(got) != 0 {
		t.Errorf("builtins only: %v", got)
	}
}
