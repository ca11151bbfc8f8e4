package hook

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// detectRuntime names the OCI runtime that runs the hook: the process
// that executed it (runc and crun run hooks themselves), by its comm, and
// its version (pipeline.RuntimeVersion).
// The version is only looked up when wanted: the static check records
// nothing.
func detectRuntime(ppid int, store string, wantVersion bool) (name, version string) {
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
	if !wantVersion {
		return name, ""
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
	return name, pipeline.RuntimeVersion(exe, store)
}
