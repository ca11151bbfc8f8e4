// Package hook is the OCI runtime hook of seccomp-attest: one entry point
// for every stage, named by its last argument,
//
//	createRuntime, prestart  static check of the bundle's profile against the policy
//	poststart                read the filters the kernel enforces on the container's init,
//	                         judge them and write the signed attestation
//	poststop                 record the container's end in the host chain
//
// with the container state on stdin. A failing check in enforce mode
// answers non-zero with the reason on stderr, which runc and crun include
// in their error; at poststart that makes the runtime stop the container
// (runtime spec 1.3), and the hook stops it itself where the runtime does
// not. Every run answers before its configured deadline, which stays
// below the hooks.d timeout.
//
// seccomp-attestd runs it, for one hook (fallback) or for every hook that
// connects to its socket (cmd/hook, the program runtimes execute).
package hook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/internal/daemon/wire"
	"github.com/seccomp-attest/seccomp-attest/internal/runtimemsg"
	"github.com/seccomp-attest/seccomp-attest/internal/version"
	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
)

// Exit statuses: the runtime only distinguishes zero from non-zero, the
// numbers are for people reading logs.
const (
	exitOK      = 0
	exitRefused = 1
	exitError   = 2
)

// Run runs one hook in this process, loading its configuration, policy
// and key for it: req is the hook program's parsed command line
// (wire.ParseHookArgs), stdin the state the runtime passed, runtimePID
// the process that executed the hook (the runtime, whose name and
// version the attestation records). It returns the exit status for the
// runtime. The deadline applied is the earlier of ctx's and the
// configured one.
func Run(ctx context.Context, req wire.HookRequest, stdin io.Reader, stderr io.Writer, runtimePID int) int {
	loader := pipeline.Cold{Options: pipeline.Options{ToolVersion: version.String()}}
	code, _ := run(ctx, loader, kernelReader{}, req, stdin, stderr, runtimePID, false)
	return code
}

// RunRemote is Run for seccomp-attestd, on behalf of a hook program that
// waits for the answer, with req.State as the state and what loader
// keeps loaded: it never acts on the container itself. stopInit says the
// container's init must be stopped (a poststart that refused, in enforce
// mode), which the hook program does. A daemon that was stopped
// mid-request and whose hook program has since checked in its own
// process thus can never touch that container.
func RunRemote(ctx context.Context, loader pipeline.Loader, req wire.HookRequest, stderr io.Writer) (code int, stopInit bool) {
	return run(ctx, loader, kernelReader{}, req, bytes.NewReader(req.State), stderr, req.RuntimePID, true)
}

func run(parent context.Context, loader pipeline.Loader, reader FilterReader, req wire.HookRequest, stdin io.Reader, stderr io.Writer, runtimePID int, remote bool) (int, bool) {
	stderr = runtimemsg.Writer{W: stderr}
	if err := req.Stage.Check(); err != nil {
		fmt.Fprintln(stderr, err)
		return exitError, false
	}
	cfg, err := loader.Config(req.Config)
	if err != nil {
		fmt.Fprintf(stderr, "seccomp-attest-hook: %v\n", err)
		return exitError, false
	}
	o := req.Override
	for _, f := range []struct {
		value string
		field *string
	}{{o.Mode, &cfg.Mode}, {o.Policy, &cfg.Policy}, {o.Store, &cfg.Store}, {o.Key, &cfg.Key}, {o.Log, &cfg.Log}} {
		if f.value != "" {
			*f.field = f.value
		}
	}
	if cfg.Mode != "" && cfg.Mode != "enforce" && cfg.Mode != "audit" {
		fmt.Fprintf(stderr, "seccomp-attest-hook: --mode %q: want enforce or audit\n", cfg.Mode)
		return exitError, false
	}

	log, closeLog := newLogger(loader, cfg, stderr)
	defer closeLog()
	h := &hook{cfg: cfg, loader: loader, reader: reader, stage: req.Stage, log: log, stderr: stderr, started: time.Now(),
		runtimePID: runtimePID, initFD: -1, fallback: req.Fallback, remote: remote}
	ctx, cancel := context.WithTimeoutCause(parent, time.Duration(cfg.Deadline),
		fmt.Errorf("deadline of %s passed: %w", time.Duration(cfg.Deadline), context.DeadlineExceeded))
	defer cancel()
	code := h.run(ctx, stdin)
	return code, h.stopRequested
}

// newLogger logs JSON lines to the configured file, where operators find
// every decision, or to stderr when there is none or it cannot be opened;
// errors also go to stderr in words, which the runtime puts into its own
// error message.
func newLogger(loader pipeline.Loader, cfg *config.Config, stderr io.Writer) (*logrus.Logger, func()) {
	log, closeLog, err := loader.OpenLog(cfg)
	if err != nil {
		// Not fatal: the decision still reaches the runtime through the
		// exit status and stderr.
		fmt.Fprintf(stderr, "seccomp-attest-hook: %v (logging to stderr)\n", err)
	}
	if log == nil {
		log = config.NewJSONLogger()
		log.SetOutput(stderr)
	}
	return log, closeLog
}
