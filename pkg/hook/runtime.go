package hook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// detectRuntime names the OCI runtime that runs the hook: the process
// that executed it (runc and crun run hooks themselves), by its comm. Its version comes
// from `RUNTIME --version`, remembered per executable in the store's
// cache so that only the first container pays for it.
func detectRuntime(ppid int, store string) (name, version string) {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", ppid))
	if err != nil {
		return "", ""
	}
	base := strings.TrimSpace(string(comm))
	switch {
	case strings.Contains(base, "crun"):
		name = spec.RuntimeCrun
	case strings.Contains(base, "runc"):
		name = spec.RuntimeRunc
	default:
		return base, ""
	}
	// crun runs hooks from a process whose executable may not resolve in
	// the hook's mount namespace; fall back to the runtime on PATH.
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", ppid))
	exe = strings.TrimSuffix(exe, " (deleted)")
	if err != nil || !filepath.IsAbs(exe) || filepath.Base(exe) != base {
		if exe, err = exec.LookPath(name); err != nil {
			return name, ""
		}
	}
	return name, runtimeVersion(exe, store)
}

var versionLine = regexp.MustCompile(`(?m)^(?:runc|crun) version ([^\s]+)`)

func runtimeVersion(exe, store string) string {
	st, err := os.Stat(exe)
	if err != nil {
		return ""
	}
	id := sha256.Sum256(fmt.Appendf(nil, "%s %d %d", exe, st.Size(), st.ModTime().UnixNano()))
	cache := filepath.Join(store, "cache", "runtime-"+hex.EncodeToString(id[:8]))
	if b, err := os.ReadFile(cache); err == nil {
		return strings.TrimSpace(string(b))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, exe, "--version").Output()
	if err != nil {
		return ""
	}
	m := versionLine.FindSubmatch(out)
	if m == nil {
		return ""
	}
	v := string(m[1])
	if os.MkdirAll(filepath.Dir(cache), 0o700) == nil {
		os.WriteFile(cache, []byte(v+"\n"), 0o600)
	}
	return v
}
