// Package wire is the protocol between seccomp-attestd and the small
// programs runtimes execute: the hook (cmd/hook) and wrapper-runc
// (cmd/wrapper-runc). It uses only the standard library and x/sys/unix,
// so that those programs start in about a millisecond: a container start
// pays for them every time.
//
// A program connects to a unix socket and writes one Request as a line of
// JSON. The daemon acknowledges it at once with Ack; only a program that
// heard the Ack within AckWindow commits the request to the daemon with Go
// (with its stdio as SCM_RIGHTS for wrapper-runc) and shuts its side down, so a daemon that is stopped or swamped is noticed in a
// fraction of a second and the program checks in its own process, and a
// daemon that hears the Ack late (or no Go) drops the request: the work
// is never done twice. While it works the daemon sends a Heartbeat every
// HeartbeatInterval, then one Response as JSON, and closes: a daemon that
// is alive but slow keeps beating, one stopped mid-request falls silent,
// and after StallWindow of silence the program gives up on it.
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultSocket is where seccomp-attestd listens unless told otherwise.
const DefaultSocket = "/run/seccomp-attest/hook.sock"

// SocketFlag among a hook's arguments (--socket=PATH) names another
// socket; the hook program takes it out before the arguments go on.
const SocketFlag = "--socket="

// MaxRequest bounds a request: a state is a few hundred bytes plus
// annotations (the hook itself refuses states over 4 MiB).
const MaxRequest = 8 << 20

// Backstop is the longest a hook takes, with the daemon or without: a
// second below the 10 s timeout of the shipped hooks.d files, so that the
// runtime hears why before it would kill the hook. The daemon answers
// earlier (it caps each hook's deadline below it).
const Backstop = 9 * time.Second

// The protocol's bytes and windows (see the package comment).
const (
	Ack       = 'A'
	Go        = 'G'
	Heartbeat = '.'
	// AckWindow is how long a program waits for the daemon's Ack: a
	// running daemon acknowledges in well under a millisecond, from a
	// goroutine that does nothing else.
	AckWindow = 250 * time.Millisecond
	// HeartbeatInterval and StallWindow: a daemon silent for StallWindow
	// (eight heartbeats) is taken for stuck.
	HeartbeatInterval = 250 * time.Millisecond
	StallWindow       = 2 * time.Second
)

// ErrNoAck means the daemon did not acknowledge the request within
// AckWindow: it is stopped or swamped, it will not act on the request,
// and the program does the work itself.
var ErrNoAck = errors.New("no acknowledgement")

// ErrStalled means the daemon acknowledged the request, then went silent
// for StallWindow: it is stopped mid-request. It cancels the request when
// it notices that the program hung up.
var ErrStalled = errors.New("stalled mid-request")

// Request is one hook run, or one wrapper-runc check: Kind says which of
// Hook and Wrapper it carries. The programs parse their command lines
// into these (ParseHookArgs, internal/runcargs); the daemon acts on the typed
// fields and never sees an argument vector.
type Request struct {
	Kind    Kind            `json:"kind"`
	Hook    *HookRequest    `json:"hook,omitempty"`
	Wrapper *WrapperRequest `json:"wrapper,omitempty"`
}

// WrapperBackstop is the longest wrapper-runc waits for the daemon: a
// start holds the init at its exec stop for at most the configured
// deadline, then records a failure within seconds.
const WrapperBackstop = 30 * time.Second

// Response is the answer.
type Response struct {
	// Exit is the status the program exits with.
	Exit int `json:"exit"`
	// Stderr is what it writes on stderr (the runtime puts it into its
	// error message).
	Stderr string `json:"stderr,omitempty"`
	// Exec, for wrapper-runc, is the real runtime to become instead of
	// exiting (after a create passed its check).
	Exec *Exec `json:"exec,omitempty"`
	// StopInit, for the hook, says to stop (SIGKILL) the container's init
	// before exiting: a poststart refusal in enforce mode, where crun
	// would ignore the failing hook. The daemon never acts on a
	// container for a hook, so one stopped mid-request cannot touch a
	// container its hook has since checked itself.
	StopInit bool `json:"stopInit,omitempty"`
}

// Exec is a program to execute in the asking process's place.
type Exec struct {
	Path string   `json:"path"`
	Argv []string `json:"argv"` // with argv[0]
}

// Dial connects to the daemon's socket.
func Dial(path string) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
	for errors.Is(err, unix.EINTR) {
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
	}
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINPROGRESS) {
		// The listen backlog is full: the daemon is swamped, and the hook
		// is better off doing the work itself.
		unix.Close(fd)
		return nil, fmt.Errorf("connect %s: daemon busy", path)
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("connect %s: %w", path, err)
	}
	// A non-blocking descriptor joins Go's poller, so deadlines apply.
	return os.NewFile(uintptr(fd), path), nil
}

// Exchange sends req on conn, with files (their descriptors, as
// SCM_RIGHTS), and returns the daemon's response. It fails with ErrNoAck
// when the daemon does not acknowledge within AckWindow, ErrStalled when
// it then falls silent for StallWindow, and os.ErrDeadlineExceeded at
// deadline.
func Exchange(conn *os.File, req Request, files []*os.File, deadline time.Time) (Response, error) {
	var resp Response
	data, err := json.Marshal(req)
	if err != nil {
		return resp, err
	}
	data = append(data, '\n')
	if err := conn.SetDeadline(earliest(deadline, time.Now().Add(AckWindow))); err != nil {
		return resp, err
	}
	// Not conn.Fd(), which would make the descriptor blocking and lose
	// the deadline.
	rc, err := conn.SyscallConn()
	if err != nil {
		return resp, err
	}
	if _, err := conn.Write(data); err != nil {
		return resp, sendError(err)
	}
	var b [1]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return resp, fmt.Errorf("%w within %s", ErrNoAck, AckWindow)
		}
		return resp, fmt.Errorf("receive: %w", err)
	}
	if b[0] == '{' {
		// An answer instead of the acknowledgement: the daemon refused
		// the request without acting on it (a program it may not serve).
		rest, err := io.ReadAll(io.LimitReader(conn, MaxRequest))
		if err != nil {
			return resp, fmt.Errorf("receive: %w", err)
		}
		if err := json.Unmarshal(append(b[:], rest...), &resp); err != nil {
			return resp, fmt.Errorf("receive: the daemon's answer is not a response: %w", err)
		}
		return resp, nil
	}
	if b[0] != Ack {
		return resp, fmt.Errorf("receive: the daemon answered %q, not the acknowledgement", b[0])
	}
	// The descriptors go with Go, not with the request: a request left
	// unread in a stopped daemon's socket must not hold them (a pipe
	// whose reader waits for its end would wait for the daemon).
	var rights []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		rights = unix.UnixRights(fds...)
	}
	var serr error
	if err := rc.Write(func(fd uintptr) bool {
		_, serr = unix.SendmsgN(int(fd), []byte{Go}, rights, nil, 0)
		return !errors.Is(serr, unix.EAGAIN)
	}); err != nil || serr != nil {
		return resp, fmt.Errorf("send: %w", errors.Join(err, serr))
	}
	if err := rc.Control(func(fd uintptr) { serr = unix.Shutdown(int(fd), unix.SHUT_WR) }); err != nil || serr != nil {
		return resp, fmt.Errorf("send: %w", errors.Join(err, serr))
	}
	body, err := readAnswer(conn, deadline)
	if err != nil {
		return resp, err
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return resp, fmt.Errorf("receive: the daemon's answer is not a response (%d bytes): %w", len(body), err)
	}
	return resp, nil
}

// sendError: a daemon whose socket buffer is full does not read, which
// is the same as not acknowledging.
func sendError(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: the request was not read within %s", ErrNoAck, AckWindow)
	}
	return fmt.Errorf("send: %w", err)
}

// readAnswer reads heartbeats and the response to the daemon's close,
// giving up after StallWindow of silence or at deadline.
func readAnswer(conn *os.File, deadline time.Time) ([]byte, error) {
	var body []byte
	buf := make([]byte, 32<<10)
	for {
		if err := conn.SetReadDeadline(earliest(deadline, time.Now().Add(StallWindow))); err != nil {
			return nil, err
		}
		n, err := conn.Read(buf)
		chunk := buf[:n]
		if len(body) == 0 {
			// Heartbeats come only before the response.
			for len(chunk) > 0 && chunk[0] == Heartbeat {
				chunk = chunk[1:]
			}
		}
		body = append(body, chunk...)
		if len(body) > MaxRequest {
			return nil, fmt.Errorf("receive: an answer larger than %d bytes", MaxRequest)
		}
		switch {
		case errors.Is(err, io.EOF):
			return body, nil
		case errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(deadline):
			return nil, err
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, fmt.Errorf("%w: silent for %s", ErrStalled, StallWindow)
		case err != nil:
			return nil, fmt.Errorf("receive: %w", err)
		}
	}
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// TakeSocketFlag removes --socket=PATH from a hook's arguments and returns
// the socket to use (DefaultSocket without the flag).
func TakeSocketFlag(args []string) (rest []string, socket string) {
	socket = DefaultSocket
	for _, a := range args {
		if s, ok := strings.CutPrefix(a, SocketFlag); ok {
			socket = s
			continue
		}
		rest = append(rest, a)
	}
	return rest, socket
}

// DaemonName is the program that answers on the socket, and that the
// hook and wrapper programs become when it does not.
const DaemonName = "seccomp-attestd"

// FindDaemon looks for seccomp-attestd next to the program self (the
// installed layout keeps them together in /usr/libexec/seccomp-attest, a
// build in bin/), then where the package installs it: runtimes often give
// their hooks and runtimes no PATH.
func FindDaemon(self string) (string, error) {
	var candidates []string
	if self != "" {
		candidates = append(candidates, filepath.Join(filepath.Dir(self), DaemonName))
	}
	candidates = append(candidates, "/usr/libexec/seccomp-attest/"+DaemonName, "/usr/local/libexec/seccomp-attest/"+DaemonName)
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return c, nil
		}
	}
	return "", fmt.Errorf("no %s in %v", DaemonName, candidates)
}

// ExecDaemon replaces the calling program (self) with seccomp-attestd
// running args: the check then happens in this process, with its pid,
// parent, stdio and environment. It returns only on failure.
func ExecDaemon(self string, args ...string) error {
	daemon, err := FindDaemon(self)
	if err != nil {
		return err
	}
	err = unix.Exec(daemon, append([]string{DaemonName}, args...), os.Environ())
	return fmt.Errorf("exec %s: %w", daemon, err)
}
