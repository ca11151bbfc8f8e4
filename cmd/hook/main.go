// Command seccomp-attest-hook is the OCI runtime hook of seccomp-attest,
// the program runc, crun, podman and CRI-O execute at createRuntime,
// prestart, poststart and poststop (hooks.d/, or a bundle's config.json):
//
//	seccomp-attest-hook [--socket=PATH] [flags] STAGE < state.json
//
// It is small on purpose: a container start waits for it. It parses its
// arguments into a request (wire.HookRequest), hands it with the state to
// seccomp-attestd over a unix socket (/run/seccomp-attest/hook.sock, or
// --socket=PATH) and exits with the daemon's answer; the daemon reads the
// filters, judges them and writes the attestation (internal/hook). Without a daemon, it becomes seccomp-attestd
// running this one hook (`seccomp-attestd hook`): the same work, in this
// process. See docs/hook.md.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/daemon/wire"
)

const exitError = 2

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(argv []string) int {
	// The command line is parsed here, once: the daemon gets the request
	// it says, and a command line that is not one is answered without it.
	cwd, _ := os.Getwd()
	req, socket, err := wire.ParseHookArgs(argv, cwd, os.Stderr)
	if err != nil {
		return exitError
	}
	args, _ := wire.TakeSocketFlag(argv)
	conn, err := wire.Dial(socket)
	if err != nil {
		// No daemon: do the work here. exec keeps this process's pid,
		// parent and unread stdin, so the hook is what the runtime ran.
		return execDirect(args)
	}
	defer conn.Close()
	state, err := io.ReadAll(io.LimitReader(os.Stdin, wire.MaxRequest))
	if err != nil {
		fmt.Fprintf(os.Stderr, "seccomp-attest-hook: read the container state on stdin: %v\n", err)
		return exitError
	}
	// At poststart the container's init is opened first: if the daemon
	// answers that it must be stopped, this program does it, on the
	// process it opened, never a pid reused meanwhile.
	initFD := -1
	if req.Stage == wire.StagePoststart {
		var st struct {
			Pid int `json:"pid"`
		}
		if json.Unmarshal(state, &st) == nil && st.Pid > 0 {
			if fd, err := unix.PidfdOpen(st.Pid, 0); err == nil {
				initFD = fd
				defer unix.Close(fd)
			}
		}
	}
	started := time.Now()
	req.State, req.RuntimePID = state, os.Getppid()
	resp, err := wire.Exchange(conn, wire.Request{Kind: wire.KindHook, Hook: &req}, nil, started.Add(wire.Backstop))
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		fmt.Fprintf(os.Stderr, "seccomp-attest-hook: seccomp-attestd at %s did not answer within %s (failing closed)\n", socket, wire.Backstop)
		return exitError
	case errors.Is(err, wire.ErrNoAck):
		// Stopped or swamped: it will not act on this request, and the
		// hook checks here, with most of its time left.
		return runDirect(args, state, "seccomp-attestd did not acknowledge ("+err.Error()+")", time.Until(started.Add(wire.Backstop)))
	case err != nil:
		// Stalled mid-request, or gone: it drops the request when it sees
		// the hook hang up (the state is read already, so the hook runs in
		// a child with it).
		conn.Close()
		return runDirect(args, state, "seccomp-attestd: "+err.Error(), time.Until(started.Add(wire.Backstop)))
	}
	if resp.StopInit {
		if initFD < 0 {
			fmt.Fprintf(os.Stderr, "seccomp-attest-hook: the container's init could not be opened to stop it\n")
		} else if err := unix.PidfdSendSignal(initFD, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
			fmt.Fprintf(os.Stderr, "seccomp-attest-hook: stop the container's init: %v\n", err)
		}
	}
	io.WriteString(os.Stderr, resp.Stderr)
	return resp.Exit
}

func execDirect(args []string) int {
	err := wire.ExecDaemon(executable(), append([]string{"hook"}, args...)...)
	fmt.Fprintf(os.Stderr, "seccomp-attest-hook: no daemon to ask and %v (failing closed)\n", err)
	return exitError
}

// runDirect runs the hook in a child (seccomp-attestd hook) with the state
// already read, within left; why is recorded in the operators' log.
func runDirect(args []string, state []byte, why string, left time.Duration) int {
	daemon, err := wire.FindDaemon(executable())
	if err != nil {
		fmt.Fprintf(os.Stderr, "seccomp-attest-hook: %s, and %v (failing closed)\n", why, err)
		return exitError
	}
	cmd := exec.Command(daemon, append([]string{"hook", "--runtime-pid=" + strconv.Itoa(os.Getppid()), "--fallback=" + why}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(state), os.Stdout, os.Stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "seccomp-attest-hook: %s: %v (failing closed)\n", daemon, err)
		return exitError
	}
	timer := time.AfterFunc(left, func() {
		fmt.Fprintf(os.Stderr, "seccomp-attest-hook: %s, and the check here did not finish within the %s left (failing closed)\n", why, left.Round(time.Millisecond))
		cmd.Process.Kill()
	})
	defer timer.Stop()
	err = cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode()
	default:
		fmt.Fprintf(os.Stderr, "seccomp-attest-hook: %s: %v (failing closed)\n", daemon, err)
		return exitError
	}
}

// executable is this program's path ("" if unknown).
func executable() string {
	exe, _ := os.Executable()
	return exe
}
