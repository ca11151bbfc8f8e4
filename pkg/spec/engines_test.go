package spec

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// moduleDir downloads (or finds in the module cache) an upstream module
// with the go command and returns its directory.
func moduleDir(t *testing.T, modVersion string) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", modVersion).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v (the module proxy must be reachable)", modVersion, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		t.Fatalf("go mod download %s: %s %v", modVersion, info.Error, err)
	}
	return info.Dir
}

// The embedded engine profiles are the upstream files of the pinned
// versions, byte for byte; podman's is also the file Debian's podman 4.3.1
// reads, where that is installed.
func TestEngineProfilesAreUpstream(t *testing.T) {
	for _, tc := range []struct {
		embedded []byte
		module   string
		file     string
		system   string
	}{
		{[]byte(docker2010Profile), "github.com/docker/docker@" + Docker20Version, "profiles/seccomp/default.json", ""},
		{podman43Profile, "github.com/containers/common@" + Podman43CommonVersion, "pkg/seccomp/seccomp.json", "/usr/share/containers/seccomp.json"},
	} {
		up, err := os.ReadFile(filepath.Join(moduleDir(t, tc.module), tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(up, tc.embedded) {
			t.Errorf("embedded profile differs from %s %s", tc.module, tc.file)
		}
		if tc.system == "" {
			continue
		}
		if sys, err := os.ReadFile(tc.system); err == nil && !bytes.Equal(sys, tc.embedded) {
			t.Errorf("embedded profile differs from this machine's %s", tc.system)
		}
	}
}

func TestEngineBuiltinsNameTheirVersion(t *testing.T) {
	for name, want := range map[string]string{
		"docker-20.10": "github.com/docker/docker v20.10.24+incompatible",
		"podman-4.3":   "github.com/containers/common v0.50.1",
	} {
		p, err := Builtin(name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(p.Source, want) || !strings.HasPrefix(p.Source, "builtin:"+name+" ") {
			t.Errorf("%s: source %q does not name %q", name, p.Source, want)
		}
	}
}
