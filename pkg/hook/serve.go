package hook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/pkg/hook/wire"
)

// Listen makes the daemon's socket at path: its directory is created
// root-only, a socket left by a daemon that is gone is replaced, and one
// a running daemon answers on is an error.
func Listen(path string) (*net.UnixListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("socket directory: %w", err)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("%s: another daemon is listening", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket: %w", err)
	}
	old := unix.Umask(0o077)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	unix.Umask(old)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Serve answers hook requests on l until ctx ends, then waits for the
// requests under way (each bounded by its deadline). Each request runs as
// Run would in a hook process of its own, with the deadline capped below
// wire.Backstop so the hook hears the answer, whatever it is, before it
// gives up. Only root (or the daemon's own user) may ask: a request names
// files the daemon then reads and writes.
func Serve(ctx context.Context, l *net.UnixListener, log *logrus.Logger) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	for {
		conn, err := l.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			serveConn(ctx, conn, log)
		}()
	}
}

// answerMargin is how long before wire.Backstop a request must be
// answered: time for the response to reach the hook.
const answerMargin = 500 * time.Millisecond

func serveConn(ctx context.Context, conn *net.UnixConn, log *logrus.Logger) {
	started := time.Now()
	conn.SetDeadline(started.Add(wire.Backstop))
	resp := func() (resp wire.Response) {
		defer func() {
			// One request's bug must not take every later container's
			// hook with it; this one fails closed.
			if r := recover(); r != nil {
				log.WithField("panic", fmt.Sprint(r)).Error("hook request panicked")
				resp = wire.Response{Exit: exitError, Stderr: fmt.Sprintf("seccomp-attestd: internal error: %v\n", r)}
			}
		}()
		if err := checkPeer(conn); err != nil {
			return wire.Response{Exit: exitError, Stderr: "seccomp-attestd: " + err.Error() + "\n"}
		}
		body, err := io.ReadAll(io.LimitReader(conn, wire.MaxRequest+1))
		if err != nil || len(body) > wire.MaxRequest {
			return wire.Response{Exit: exitError, Stderr: fmt.Sprintf("seccomp-attestd: read the request: %v (%d bytes)\n", err, len(body))}
		}
		var req wire.Request
		if err := json.Unmarshal(body, &req); err != nil {
			return wire.Response{Exit: exitError, Stderr: fmt.Sprintf("seccomp-attestd: the request is not one: %v\n", err)}
		}
		rctx, cancel := context.WithDeadlineCause(context.WithoutCancel(ctx), started.Add(wire.Backstop-answerMargin),
			fmt.Errorf("the daemon's limit of %s per hook passed: %w", wire.Backstop-answerMargin, context.DeadlineExceeded))
		defer cancel()
		var stderr bytes.Buffer
		code := RunContext(rctx, req.Args, bytes.NewReader(req.State), &stderr, req.RuntimePID)
		return wire.Response{Exit: code, Stderr: stderr.String()}
	}()
	data, err := json.Marshal(resp)
	if err == nil {
		_, err = conn.Write(data)
	}
	if err != nil {
		log.WithError(err).Warn("answer a hook")
		return
	}
	log.WithFields(logrus.Fields{"exit": resp.Exit, "elapsed": time.Since(started).String()}).Debug("answered a hook")
}

// checkPeer admits root and the daemon's own user.
func checkPeer(conn *net.UnixConn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var cerr error
	if err := rc.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil || cerr != nil {
		return fmt.Errorf("peer credentials: %w", errors.Join(err, cerr))
	}
	if cred.Uid != 0 && int(cred.Uid) != os.Getuid() {
		return fmt.Errorf("uid %d (pid %d) may not ask for hooks: root only", cred.Uid, cred.Pid)
	}
	return nil
}
