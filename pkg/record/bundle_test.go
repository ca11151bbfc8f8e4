package record

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func writeBundle(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readBundle(t *testing.T, dir string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRestoreListenerPath(t *testing.T) {
	for _, c := range []struct {
		name, config string
		changed      bool
	}{
		{"notify without listener", `{"x-unknown":1,"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_NOTIFY"}],"x-keep":true},"namespaces":[]}}`, true},
		{"notify with listener", `{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","listenerPath":"/other.sock","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_NOTIFY"}]}}}`, false},
		{"no notify", `{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_ALLOW"}]}}}`, false},
		{"no seccomp", `{"linux":{}}`, false},
	} {
		dir := writeBundle(t, c.config)
		changed, err := RestoreListenerPath(dir, "/run/rec.sock")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if changed != c.changed {
			t.Errorf("%s: changed %v, want %v", c.name, changed, c.changed)
		}
		got := readBundle(t, dir)
		if !c.changed {
			var want map[string]any
			json.Unmarshal([]byte(c.config), &want)
			if g, _ := json.Marshal(got); string(g) != mustMarshal(want) {
				t.Errorf("%s: config.json changed: %s", c.name, g)
			}
			continue
		}
		sc := got["linux"].(map[string]any)["seccomp"].(map[string]any)
		if sc["listenerPath"] != "/run/rec.sock" || sc["x-keep"] != true || got["x-unknown"] != float64(1) {
			t.Errorf("%s: %v", c.name, got)
		}
	}
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
