package wrapper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/version"
	"github.com/seccomp-attest/seccomp-attest/internal/wrapper/front"
	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
)

// Host is the process a wrapper-runc invocation is for: the wrapper
// program's own (seccomp-attestd wrapper-runc), or a wrapper program that
// asked seccomp-attestd to check create or start for it.
type Host struct {
	Stdin, Stdout, Stderr *os.File
	// Env is the environment of the real runtime's commands.
	Env []string
	// Dir is the caller's working directory, against which relative
	// paths of the command line are taken ("" = this process's).
	Dir string
	// Argv0 is how the wrapper program was called (a link named like
	// wrapper-crun stands for crun); Self is its executable, which must
	// never be taken for the real runtime.
	Argv0, Self string
	// Remote is set when the caller is another process: signals are its
	// own, and its becoming the real runtime (exec) is handed back to it
	// in Exec.
	Remote bool
	// Exec is what a remote caller is to execute instead of exiting:
	// set by Run.
	Exec *ExecRequest
	// Gone, for a remote caller, is closed when it went away: a check
	// under way ends as if its deadline passed (in enforce mode, a held
	// init is killed), as it would have with the caller's own process.
	Gone <-chan struct{}
	// Loader gives the check its configuration, pipeline and log
	// (pipeline.Cold when nil: everything read for this check).
	Loader pipeline.Loader
	// Seize holds a container's init at its exec stop (execstop.Seize
	// when nil).
	Seize func(pid int) (InitHolder, error)
}

// loader is h.Loader, or one that reads everything for this check.
func (h *Host) loader() pipeline.Loader {
	if h.Loader == nil {
		return pipeline.Cold{Options: pipeline.Options{ToolVersion: version.String()}}
	}
	return h.Loader
}

// errCallerGone is why a remote caller's check stopped.
var errCallerGone = errors.New("wrapper-runc went away before the check ended")

// context bounds a check by deadline and, for a remote caller, by its
// presence.
func (h *Host) context(deadline time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeoutCause(context.Background(), deadline,
		fmt.Errorf("deadline of %s passed: %w", deadline, context.DeadlineExceeded))
	if h.Gone == nil {
		return ctx, cancel
	}
	ctx, cancelGone := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-h.Gone:
			cancelGone(errCallerGone)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancelGone(nil); cancel() }
}

// ExecRequest is a real runtime to run in the caller's place.
type ExecRequest struct {
	Path string
	Argv []string // with argv[0]
}

// ProcessHost is the Host of this process.
func ProcessHost(argv0, self string) *Host {
	return &Host{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Env: os.Environ(), Argv0: argv0, Self: self}
}

// exec has the real runtime take over: in this process, or, for a remote
// caller, recorded for it to do.
func (h *Host) exec(rt *front.Runtime, argv []string) int {
	if h.Remote {
		h.Exec = &ExecRequest{Path: rt.Path, Argv: append([]string{rt.Argv0}, argv...)}
		return 0
	}
	err := rt.Exec(argv)
	fmt.Fprintf(h.Stderr, "wrapper-runc: %v\n", err)
	return exitError
}

// abs makes a path of the caller's command line absolute.
func (h *Host) abs(p string) (string, error) {
	if filepath.IsAbs(p) || h.Dir == "" {
		return filepath.Abs(p)
	}
	return filepath.Join(h.Dir, p), nil
}

// command is the real runtime running args for the caller: its
// environment and directory.
func (h *Host) command(rt *front.Runtime, args ...string) *exec.Cmd {
	cmd := exec.Command(rt.Path, args...)
	cmd.Env, cmd.Dir = h.Env, h.Dir
	return cmd
}
