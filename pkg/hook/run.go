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
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/seccomp-attest/seccomp-attest/internal/runtimemsg"
	"github.com/seccomp-attest/seccomp-attest/pkg/config"
)

// Exit statuses: the runtime only distinguishes zero from non-zero, the
// numbers are for people reading logs.
const (
	exitOK      = 0
	exitRefused = 1
	exitError   = 2
)

// Run runs one hook: args are the hook's flags and stage, stdin the state
// the runtime passed, runtimePID the process that executed the hook (the
// runtime, whose name and version the attestation records). It returns
// the exit status for the runtime.
func Run(args []string, stdin io.Reader, stderr io.Writer, runtimePID int) int {
	return RunContext(context.Background(), args, stdin, stderr, runtimePID)
}

// RunContext is Run with a parent context: the deadline applied is the
// earlier of ctx's and the configured one.
func RunContext(parent context.Context, args []string, stdin io.Reader, stderr io.Writer, runtimePID int) int {
	code, _ := runHook(parent, args, stdin, stderr, runtimePID, false)
	return code
}

// RunRemote is RunContext for seccomp-attestd, on behalf of a hook program
// that waits for the answer: it never acts on the container itself.
// stopInit says the container's init must be stopped (a poststart that
// refused, in enforce mode), which the hook program does. A daemon that
// was stopped mid-request and whose hook program has since checked in its
// own process thus can never touch that container.
func RunRemote(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer, runtimePID int) (code int, stopInit bool) {
	return runHook(ctx, args, stdin, stderr, runtimePID, true)
}

func runHook(parent context.Context, args []string, stdin io.Reader, stderr io.Writer, runtimePID int, remote bool) (int, bool) {
	stderr = runtimemsg.Writer{W: stderr}
	fs := flag.NewFlagSet("seccomp-attest-hook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (default "+config.DefaultPath+" if it exists, else embedded defaults)")
	mode := fs.String("mode", "", "override the policy mode: enforce or audit")
	policyPath := fs.String("policy", "", "override the policy (file, preset:NAME or builtin:default)")
	store := fs.String("store", "", "override the attestation store directory")
	key := fs.String("key", "", "override the signing key")
	logPath := fs.String("log", "", `override the JSON log file ("-": stderr only)`)
	fallback := fs.String("fallback", "", "why the hook program checks in its own process rather than in seccomp-attestd (recorded in the log)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: seccomp-attest-hook [--socket=PATH] [flags] createRuntime|prestart|poststart|poststop < state.json\n  --socket=PATH\n    \tseccomp-attestd's socket (default /run/seccomp-attest/hook.sock); without an answer the hook runs here\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitError, false
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError, false
	}
	st, ok := parseStage(fs.Arg(0))
	if !ok {
		fmt.Fprintf(stderr, "seccomp-attest-hook: unknown stage %q (want createRuntime, prestart, poststart or poststop)\n", fs.Arg(0))
		return exitError, false
	}

	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "seccomp-attest-hook: %v\n", err)
		return exitError, false
	}
	for flagValue, field := range map[*string]*string{mode: &cfg.Mode, policyPath: &cfg.Policy, store: &cfg.Store, key: &cfg.Key, logPath: &cfg.Log} {
		if *flagValue != "" {
			*field = *flagValue
		}
	}
	if cfg.Mode != "" && cfg.Mode != "enforce" && cfg.Mode != "audit" {
		fmt.Fprintf(stderr, "seccomp-attest-hook: --mode %q: want enforce or audit\n", cfg.Mode)
		return exitError, false
	}

	log, closeLog := newLogger(cfg, stderr)
	defer closeLog()
	h := &hook{cfg: cfg, stage: st, log: log, stderr: stderr, started: time.Now(), runtimePID: runtimePID, initFD: -1, fallback: *fallback, remote: remote}
	ctx, cancel := context.WithTimeoutCause(parent, time.Duration(cfg.Deadline),
		fmt.Errorf("deadline of %s passed: %w", time.Duration(cfg.Deadline), context.DeadlineExceeded))
	defer cancel()
	code := h.run(ctx, stdin)
	return code, h.stopRequested
}

type stage string

const (
	stageCreateRuntime stage = "createRuntime"
	stagePrestart      stage = "prestart"
	stagePoststart     stage = "poststart"
	stagePoststop      stage = "poststop"
)

func parseStage(s string) (stage, bool) {
	for _, st := range []stage{stageCreateRuntime, stagePrestart, stagePoststart, stagePoststop} {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// newLogger logs JSON lines to the configured file, where operators find
// every decision, or to stderr when there is none or it cannot be opened;
// errors also go to stderr in words, which the runtime puts into its own
// error message.
func newLogger(cfg *config.Config, stderr io.Writer) (*logrus.Logger, func()) {
	log, closeLog, err := cfg.OpenLog()
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
