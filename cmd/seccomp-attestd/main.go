// Command seccomp-attestd does the work of seccomp-attest's OCI hook
// (internal/hook) and of wrapper-runc's create and start checks (internal/wrapper)
// in a process that is already running when a container starts, so that
// a start pays only for the small hook and wrapper programs (cmd/hook,
// cmd/wrapper-runc), not for loading the policy, the key and the analysis
// code:
//
//	seccomp-attestd serve [--socket PATH] [--debug] [--config FILE]... [--record-socket PATH [--record-dir DIR]]
//	    answer the hook and wrapper-runc on PATH (default
//	    /run/seccomp-attest/hook.sock) until SIGTERM or SIGINT; requests
//	    under way finish first (--debug logs each answer with its time);
//	    at start, the records a killed daemon left in the spool of the
//	    store of each FILE (default: the default configuration) are
//	    appended;
//	    with --record-socket, also answer the seccomp notifications of
//	    containers under a recording profile (docs/record.md)
//
//	seccomp-attestd wrapper-runc [--argv0=NAME] [--self=PATH] -- ARGS...
//	    wrapper-runc's check of create, start and run in this process:
//	    what the wrapper program becomes when no daemon answers (NAME and
//	    PATH: how the wrapper program was called and its executable)
//
//	seccomp-attestd hook [--runtime-pid N] [hook flags] STAGE < state.json
//	    run one hook in this process: what the hook program becomes when
//	    no daemon answers (N: the runtime that executed the hook, by
//	    default this process's parent)
//
// Both paths run the same code with the same configuration (the hook's
// --config or the wrapper's --seccomp-attest-config, default
// /etc/seccomp-attest/config.yaml), so an attestation
// does not depend on whether the daemon was up. See docs/hook.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/sirupsen/logrus"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/internal/daemon"
	"github.com/seccomp-attest/seccomp-attest/internal/daemon/wire"
	"github.com/seccomp-attest/seccomp-attest/internal/hook"
	"github.com/seccomp-attest/seccomp-attest/internal/version"
	"github.com/seccomp-attest/seccomp-attest/internal/wrapper"
	"github.com/seccomp-attest/seccomp-attest/pkg/record"
)

const usage = `usage: seccomp-attestd serve [--socket PATH] [--debug] [--config FILE]... [--record-socket PATH [--record-dir DIR]]
       seccomp-attestd wrapper-runc [--argv0=NAME] [--self=PATH] -- ARGS...
       seccomp-attestd hook [--runtime-pid N] [hook flags] STAGE < state.json
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		os.Exit(serve(os.Args[2:]))
	case "hook":
		os.Exit(runHook(os.Args[2:]))
	case "wrapper-runc":
		os.Exit(runWrapper(os.Args[2:]))
	default:
		fmt.Fprintf(os.Stderr, "seccomp-attestd: unknown command %q\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}

func runHook(args []string) int {
	runtimePID := os.Getppid()
	if len(args) > 0 {
		if v, ok := strings.CutPrefix(args[0], "--runtime-pid="); ok {
			pid, err := strconv.Atoi(v)
			if err != nil || pid <= 0 {
				fmt.Fprintf(os.Stderr, "seccomp-attestd: --runtime-pid %q: not a pid\n", v)
				return 2
			}
			runtimePID, args = pid, args[1:]
		}
	}
	cwd, _ := os.Getwd()
	req, _, err := wire.ParseHookArgs(args, cwd, os.Stderr)
	if err != nil {
		return 2
	}
	return hook.Run(context.Background(), req, os.Stdin, os.Stderr, runtimePID)
}

func runWrapper(args []string) int {
	argv0, self := "wrapper-runc", ""
	for len(args) > 0 {
		a := args[0]
		args = args[1:]
		if v, ok := strings.CutPrefix(a, "--argv0="); ok {
			argv0 = v
		} else if v, ok := strings.CutPrefix(a, "--self="); ok {
			self = v
		} else if a == "--" {
			break
		} else {
			fmt.Fprintf(os.Stderr, "seccomp-attestd wrapper-runc: unknown flag %q (want --argv0=, --self= and -- before the wrapper's arguments)\n", a)
			return 2
		}
	}
	return wrapper.Run(args, wrapper.ProcessHost(argv0, self))
}

func serve(args []string) int {
	fs := flag.NewFlagSet("seccomp-attestd serve", flag.ContinueOnError)
	socket := fs.String("socket", wire.DefaultSocket, "unix socket to answer hooks on")
	debug := fs.Bool("debug", false, "log every answer with its time")
	recordSocket := fs.String("record-socket", "", "also record containers under a recording profile whose listenerPath is PATH (docs/record.md; "+record.DefaultSocket+" is the profiles' default)")
	recordDir := fs.String("record-dir", record.DefaultDir, "where --record-socket writes recordings")
	var configs []string
	fs.Func("config", "a configuration whose store's spool is appended at start (repeatable; default: the default configuration)", func(v string) error {
		abs, err := filepath.Abs(v)
		configs = append(configs, abs)
		return err
	})
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	log := config.NewJSONLogger()
	log.SetOutput(os.Stderr)
	if *debug {
		log.SetLevel(logrus.DebugLevel)
	}
	l, err := daemon.Listen(*socket)
	if err != nil {
		log.WithError(err).Error("listen")
		return 1
	}
	defer os.Remove(*socket)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *recordSocket != "" {
		rl, err := record.ListenRecorder(*recordSocket)
		if err != nil {
			log.WithError(err).Error("listen")
			return 1
		}
		defer os.Remove(*recordSocket)
		r := &record.Recorder{Dir: *recordDir, Version: version.String(), Log: log}
		recorded := make(chan struct{})
		go func() {
			defer close(recorded)
			if err := r.Serve(ctx, rl); err != nil {
				log.WithError(err).Error("record")
			}
		}()
		// Recordings under way end (incomplete) before the daemon does.
		defer func() { <-recorded }()
		log.WithFields(logrus.Fields{"socket": *recordSocket, "dir": *recordDir}).Info("recording")
	}
	log.WithFields(logrus.Fields{"socket": *socket, "pid": os.Getpid()}).Info("serving the hook and wrapper-runc")
	if err := daemon.Serve(ctx, l, log, configs...); err != nil {
		log.WithError(err).Error("serve")
		return 1
	}
	log.Info("stopped")
	return 0
}
