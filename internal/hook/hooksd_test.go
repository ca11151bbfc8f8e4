package hook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/internal/daemon/wire"

	hooks "github.com/containers/common/pkg/hooks"
	rspec "github.com/opencontainers/runtime-spec/specs-go"
)

// The shipped hooks.d files, read and validated by containers/common's
// pkg/hooks: the parser podman and CRI-O use.
func TestHooksDFiles(t *testing.T) {
	files, err := filepath.Glob("../../hooks.d/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no hooks.d files: %v", err)
	}
	// Validate requires hook.path to exist; point a copy at a file that
	// does, keeping everything else as shipped.
	exe := filepath.Join(t.TempDir(), "seccomp-attest-hook")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		const shipped = `"/usr/libexec/seccomp-attest/seccomp-attest-hook"`
		if !strings.Contains(string(data), shipped) {
			t.Errorf("%s: hook.path is not %s", f, shipped)
		}
		copyPath := filepath.Join(t.TempDir(), filepath.Base(f))
		if err := os.WriteFile(copyPath, []byte(strings.Replace(string(data), shipped, `"`+exe+`"`, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		h, err := hooks.Read(copyPath, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if h.Hook.Timeout == nil || *h.Hook.Timeout <= 0 {
			t.Errorf("%s: no timeout: a hook without one can block the runtime forever", f)
		}
		if len(h.Stages) != 1 {
			t.Fatalf("%s: stages %v, want exactly one (the hook is told its stage in args)", f, h.Stages)
		}
		stage := h.Stages[0]
		if wire.Stage(stage).Check() != nil {
			t.Errorf("%s: stage %q is not one the hook implements", f, stage)
		}
		if n := len(h.Hook.Args); n < 2 || h.Hook.Args[n-1] != stage {
			t.Errorf("%s: args %v must end with the stage %q", f, h.Hook.Args, stage)
		}
		match, err := h.When.Match(&rspec.Spec{Process: &rspec.Process{Args: []string{"sh"}}}, map[string]string{}, false)
		if err != nil || !match {
			t.Errorf("%s: does not apply to every container: %v %v", f, match, err)
		}
		// The hook's deadline must answer before the runtime's timeout.
		if got, limit := defaultDeadlineSeconds(), *h.Hook.Timeout; got >= limit {
			t.Errorf("%s: timeout %ds is not above the hook's default deadline %ds", f, limit, got)
		}
		seen[stage] = true
	}
	for _, want := range []string{"createRuntime", "poststart", "poststop"} {
		if !seen[want] {
			t.Errorf("no hooks.d file for %s", want)
		}
	}
}

func defaultDeadlineSeconds() int {
	return int(time.Duration(config.DefaultDeadline).Seconds())
}
