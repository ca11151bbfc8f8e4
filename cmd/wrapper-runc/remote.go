package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/daemon/wire"
	"github.com/seccomp-attest/seccomp-attest/internal/runcargs"
	"github.com/seccomp-attest/seccomp-attest/internal/runtimemsg"
	"github.com/seccomp-attest/seccomp-attest/internal/wrapper/front"
)

// checked has create, start and run checked. create and start go to
// seccomp-attestd when it answers on its socket: it checks on this
// program's stdio, environment and directory, and answers with the exit
// status or the real runtime to become (create, once checked). run, whose
// init must be this process's child, and everything when no daemon
// answers, are checked in this process: it becomes `seccomp-attestd
// wrapper-runc`.
func checked(argv []string, inv *runcargs.Invocation, self string) int {
	if inv == nil || (inv.Command != "create" && inv.Command != "start") {
		return execChecker(argv, inv, self)
	}
	// The daemon gets the command line parsed, and the real runtime
	// found: anything odd (a command line runc would refuse, --help, no
	// runtime) is answered in this process, as it always was.
	opts, err := inv.CommandOptions()
	if err != nil || opts.Help {
		return execChecker(argv, inv, self)
	}
	rt, err := front.FindRuntime(inv, os.Args[0], self)
	if err != nil {
		return execChecker(argv, inv, self)
	}
	socket := inv.Extra[front.FlagSocket]
	if socket == "" {
		socket = wire.DefaultSocket
	}
	conn, err := wire.Dial(socket)
	if err != nil {
		return execChecker(argv, inv, self)
	}
	defer conn.Close()
	cwd, err := os.Getwd()
	if err != nil {
		return execChecker(argv, inv, self)
	}
	cfg := inv.Extra[front.FlagConfig]
	if cfg != "" && !filepath.IsAbs(cfg) {
		cfg = filepath.Join(cwd, cfg)
	}
	wreq := &wire.WrapperRequest{Command: inv.Command, Global: inv.Global, GlobalArgs: inv.GlobalArgs, Options: *opts, Args: inv.Args,
		Config: cfg, Runtime: *rt, Env: os.Environ(), Dir: cwd}
	resp, err := wire.Exchange(conn, wire.Request{Kind: wire.KindWrapper, Wrapper: wreq}, []*os.File{os.Stdin, os.Stdout, os.Stderr}, time.Now().Add(wire.WrapperBackstop))
	switch {
	case errors.Is(err, wire.ErrNoAck):
		// Stopped or swamped: it will not act on this request; the check
		// runs here.
		conn.Close()
		return execChecker(argv, inv, self)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return refuse(inv, fmt.Sprintf("seccomp-attest: seccomp-attestd at %s did not answer %s within %s (refused)", socket, inv.Command, wire.WrapperBackstop))
	case errors.Is(err, wire.ErrStalled):
		// It may hold the container (a start's init at its exec stop,
		// which dies with the daemon's hold on it): the container is
		// refused, and the daemon drops it when it sees this hang-up.
		return refuse(inv, fmt.Sprintf("seccomp-attest: seccomp-attestd at %s stopped answering mid-%s (%v): refused", socket, inv.Command, err))
	case err != nil:
		// The daemon went away: a create was not run, a start's init
		// died with the daemon's hold on it (the runtime says so); the
		// check runs here.
		return execChecker(argv, inv, self)
	}
	os.Stderr.WriteString(resp.Stderr)
	if resp.Exec != nil {
		err := unix.Exec(resp.Exec.Path, resp.Exec.Argv, os.Environ())
		fmt.Fprintf(os.Stderr, "wrapper-runc: exec %s: %v\n", resp.Exec.Path, err)
		return exitError
	}
	return resp.Exit
}

// refuse reports why the container may not run where its engine reads
// errors (runc's --log for Docker and containerd) and on stderr.
func refuse(inv *runcargs.Invocation, msg string) int {
	msg = runtimemsg.Plain(msg)
	fmt.Fprintln(os.Stderr, msg)
	if inv == nil {
		return 1
	}
	if err := front.LogError(inv.Global.Log, inv.Global.LogFormat == "json", msg); err != nil {
		fmt.Fprintf(os.Stderr, "wrapper-runc: %v\n", err)
	}
	return 1
}
