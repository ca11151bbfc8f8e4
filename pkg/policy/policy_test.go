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
