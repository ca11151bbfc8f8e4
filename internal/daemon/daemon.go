// Package daemon is seccomp-attestd's server: it answers the OCI hook
// program (internal/hook) and wrapper-runc's create and start (internal/wrapper) on
// a unix socket, with the same code they would run in their own
// processes, so that a container start does not pay for loading it.
package daemon

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
	"runtime"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/daemon/wire"
	"github.com/seccomp-attest/seccomp-attest/internal/hook"
	"github.com/seccomp-attest/seccomp-attest/internal/version"
	"github.com/seccomp-attest/seccomp-attest/internal/wrapper"
	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
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

// Serve answers requests on l until ctx ends, then waits for the requests
// under way (each bounded by its deadline). A hook request runs as
// hook.Run would in a hook process of its own, with the deadline capped
// below wire.Backstop so the hook hears the answer, whatever it is, before
// it gives up; a wrapper-runc request runs as wrapper.Run would in the
// wrapper's process, on the stdio it sent. Only root (or the daemon's own
// user) may ask: a request names files the daemon then reads and writes,
// and containers it holds and may kill.
//
// Records a daemon left in a store's spool (it was killed after it
// answered) are appended from the background at start, for the stores
// of configs (configuration files; none: the default configuration),
// rather than at the next hand-off to that store, which may never come.
func Serve(ctx context.Context, l *net.UnixListener, log *logrus.Logger, configs ...string) error {
	// At most this many requests are worked on at once; the others wait
	// their turn, acknowledged and beating. CPU-bound checks beyond the
	// machine's processors only slow each other down, and would delay the
	// goroutines that acknowledge new requests past wire.AckWindow.
	work := make(chan struct{}, max(2, 2*runtime.GOMAXPROCS(0)))
	// Checkpoints go to their sink after the answer, from here: a slow
	// sink must not hold a request (or its work slot).
	pipeline.ShipInBackground(func(err error) { log.WithError(err).Warn("checkpoint sink") })
	// poststop, and poststart for a process already gone, answer once
	// their record is durably spooled; it goes into the store from here.
	pipeline.HandOffRecords(func(err error) { log.WithError(err).Error("append a handed-off record to the store") })
	defer func() {
		// Within systemd's stop timeout (15 s) after the requests under
		// way (at most wire.Backstop); what is left stays in the spool
		// for the next daemon.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		pipeline.FinishHandOffs(ctx)
	}()
	// The configurations, policies, keys and logs the requests name stay
	// loaded from one request to the next, as long as their files do not
	// change.
	warm := pipeline.NewWarm(pipeline.Options{ToolVersion: version.String()})
	defer warm.Close()
	drainSpools(warm, configs, log)
	var wg sync.WaitGroup
	defer wg.Wait()
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	open := make(chan struct{}, maxConns)
	var lastFull time.Time
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
			if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) || errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.ENOMEM) {
				// Out of descriptors or memory for a moment (a flood of
				// connections): the programs asking fall back after
				// wire.AckWindow, and the daemon serves on once some close.
				log.WithError(err).Warn("accept: backing off")
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		select {
		case open <- struct{}{}:
		default:
			// A flood: closed unread, and the program checks in its own
			// process, as with a swamped daemon.
			conn.Close()
			if time.Since(lastFull) > time.Second {
				lastFull = time.Now()
				log.Warn(fmt.Sprintf("dropped connections: %d are open already", cap(open)))
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-open }()
			defer conn.Close()
			defer func() {
				// One connection's bug must not take the daemon, and every
				// check under way, with it.
				if r := recover(); r != nil {
					log.WithField("panic", fmt.Sprint(r)).Error("connection panicked")
				}
			}()
			serveConn(ctx, conn, work, warm, log)
		}()
	}
}

// drainSpools has the records left in the spools of the stores configs
// name (none: the default configuration's) appended from the background.
// A store whose spool is empty is not touched (no key is loaded, or
// generated, for it).
func drainSpools(warm *pipeline.Warm, configs []string, log *logrus.Logger) {
	if len(configs) == 0 {
		configs = []string{""}
	}
	for _, path := range configs {
		cfg, err := warm.Config(path)
		if err != nil {
			log.WithError(err).WithField("config", path).Error("append the records left in the spool: configuration")
			continue
		}
		if !pipeline.SpoolHolds(cfg.Store) {
			continue
		}
		p, err := warm.Pipeline(cfg)
		if err != nil {
			// Appending needs the key and the store, not the policy
			// (the records name theirs already).
			keyOnly := *cfg
			keyOnly.Policy = "builtin:default"
			if kp, kerr := warm.Pipeline(&keyOnly); kerr == nil {
				p, err = kp, nil
			}
		}
		if err != nil {
			log.WithError(err).WithField("store", cfg.Store).Error("append the records left in the spool")
			continue
		}
		log.WithField("store", cfg.Store).Info("appending the records a daemon left in the spool")
		p.AppendSpooledInBackground()
	}
}

// maxConns bounds the connections served at once (each holds a
// goroutine and a few kilobytes while it is read and waits its turn):
// 4000 connections that sent a byte and nothing more held 72 MB, and
// nothing else bounded them. Beyond it a connection is closed at once.
var maxConns = 1024

// answerMargin is how long before wire.Backstop a hook must be answered:
// time for the response to reach the hook.
const answerMargin = 500 * time.Millisecond

// exitError is the status of a request the daemon could not run.
const exitError = 2

// maxFiles is how many descriptors a request may carry (wrapper-runc's
// stdin, stdout and stderr).
const maxFiles = 3

func serveConn(ctx context.Context, conn *net.UnixConn, work chan struct{}, warm *pipeline.Warm, log *logrus.Logger) {
	started := time.Now()
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if err := checkPeer(conn); err != nil {
		// Refused without acting: the answer replaces the
		// acknowledgement, after the request was read (so that the
		// program hears it rather than a broken pipe), and who asked
		// goes to the log.
		conn.SetReadDeadline(started.Add(requestWindow))
		_, received, release, rerr := readRequest(conn)
		release()
		files = received
		if errors.Is(rerr, errLargeBusy) {
			return
		}
		entry := log.WithError(err)
		var rp *refusedPeer
		if errors.As(err, &rp) {
			entry = entry.WithFields(logrus.Fields{"uid": rp.uid, "pid": rp.pid})
		}
		entry.Warn("refused a request")
		conn.Write(answer(wire.Response{Exit: exitError, Stderr: "seccomp-attestd: " + err.Error() + "\n"}))
		return
	}
	conn.SetReadDeadline(started.Add(requestWindow))
	body, received, release, err := readRequest(conn)
	defer release()
	files = received
	if errors.Is(err, errLargeBusy) {
		// Closed unanswered: the program checks in its own process, as
		// with a swamped daemon.
		log.Warn("dropped a request: " + err.Error())
		return
	}
	if errors.Is(err, errNoRequest) {
		// A probe (another daemon checking the socket is taken), or a
		// program that died before it asked.
		log.Debug("a connection closed without a request")
		return
	}
	if err != nil {
		log.WithError(err).Warn("read a request")
		conn.Write(answer(wire.Response{Exit: exitError, Stderr: fmt.Sprintf("seccomp-attestd: read the request: %v\n", err)}))
		return
	}
	if !commit(conn, &files, log) {
		return
	}
	conn.SetDeadline(time.Time{})
	gone, stopWatching := watchHangup(conn)
	defer stopWatching()
	stopBeating := heartbeat(conn)
	select {
	case work <- struct{}{}:
		defer func() { <-work }()
	case <-gone:
		stopBeating()
		log.Info("dropped a request: the program hung up while it waited its turn")
		return
	}
	var kind wire.Kind
	resp := func() (resp wire.Response) {
		defer func() {
			// One request's bug must not take every later container's
			// check with it; this one fails closed.
			if r := recover(); r != nil {
				log.WithField("panic", fmt.Sprint(r)).Error("request panicked")
				resp = wire.Response{Exit: exitError, Stderr: fmt.Sprintf("seccomp-attestd: internal error: %v\n", r)}
			}
		}()
		var req wire.Request
		if err := json.Unmarshal(body, &req); err != nil {
			return wire.Response{Exit: exitError, Stderr: fmt.Sprintf("seccomp-attestd: the request is not one: %v\n", err)}
		}
		kind = req.Kind
		switch {
		case req.Kind == wire.KindHook && req.Hook != nil:
			// The hook gives up at wire.Backstop; a hook that hung up
			// (it found the daemon stalled and checks in its own
			// process) must not be answered by an attestation too.
			hctx, hangUp := context.WithCancelCause(context.WithoutCancel(ctx))
			defer hangUp(nil)
			go func() {
				select {
				case <-gone:
					hangUp(pipeline.ErrAbandoned)
				case <-hctx.Done():
				}
			}()
			rctx, cancel := context.WithDeadlineCause(hctx, started.Add(wire.Backstop-answerMargin),
				fmt.Errorf("the daemon's limit of %s per hook passed: %w", wire.Backstop-answerMargin, context.DeadlineExceeded))
			defer cancel()
			var stderr bytes.Buffer
			code, stop := hook.RunRemote(rctx, warm, *req.Hook, &stderr)
			return wire.Response{Exit: code, Stderr: stderr.String(), StopInit: stop}
		case req.Kind == wire.KindWrapper && req.Wrapper != nil:
			if len(files) != 3 {
				return wire.Response{Exit: exitError, Stderr: fmt.Sprintf("seccomp-attestd: a wrapper-runc request comes with its stdin, stdout and stderr, not %d descriptors\n", len(files))}
			}
			h := &wrapper.Host{Stdin: files[0], Stdout: files[1], Stderr: files[2],
				Env: req.Wrapper.Env, Dir: req.Wrapper.Dir, Remote: true, Gone: gone, Loader: warm}
			code := wrapper.Check(req.Wrapper, h)
			resp := wire.Response{Exit: code}
			if h.Exec != nil {
				resp.Exec = &wire.Exec{Path: h.Exec.Path, Argv: h.Exec.Argv}
			}
			return resp
		}
		if req.Kind != wire.KindHook && req.Kind != wire.KindWrapper {
			return wire.Response{Exit: exitError, Stderr: fmt.Sprintf("seccomp-attestd: unknown request kind %s\n", req.Kind)}
		}
		return wire.Response{Exit: exitError, Stderr: fmt.Sprintf("seccomp-attestd: a %s request without its %s part\n", req.Kind, req.Kind)}
	}()
	stopBeating()
	conn.SetWriteDeadline(time.Now().Add(requestWindow))
	if _, err := conn.Write(answer(resp)); err != nil {
		log.WithError(err).WithField("kind", kind.String()).Warn("answer a request (the program hung up)")
		return
	}
	// The program reads to the end: end it now, whoever else may hold
	// a copy of this connection.
	conn.CloseWrite()
	log.WithFields(logrus.Fields{"kind": kind.String(), "exit": resp.Exit, "exec": resp.Exec != nil, "elapsed": time.Since(started).String()}).Debug("answered")
}

// errNoRequest: the connection closed before a byte was sent.
var errNoRequest = errors.New("no request")

// requestWindow bounds reading a request and writing an answer: both are
// a few kilobytes on a local socket.
const requestWindow = 2 * time.Second

func answer(r wire.Response) []byte {
	data, err := json.Marshal(r)
	if err != nil {
		data, _ = json.Marshal(wire.Response{Exit: exitError, Stderr: "seccomp-attestd: encode the answer: " + err.Error() + "\n"})
	}
	return data
}

// commit acknowledges a request and waits for the program's Go, which
// brings the descriptors of a wrapper-runc request: a program that gave
// up waiting for the Ack (it checks in its own process) sends none, and
// the request is dropped.
func commit(conn *net.UnixConn, files *[]*os.File, log *logrus.Logger) bool {
	conn.SetDeadline(time.Now().Add(requestWindow))
	if _, err := conn.Write([]byte{wire.Ack}); err != nil {
		log.WithError(err).Info("dropped a request: the program gave up before the acknowledgement")
		return false
	}
	var b [1]byte
	oob := make([]byte, unix.CmsgSpace(maxFiles*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(b[:], oob)
	if oobn > 0 {
		fds, perr := parseRights(oob[:oobn])
		for _, fd := range fds {
			*files = append(*files, os.NewFile(uintptr(fd), fmt.Sprintf("request-fd-%d", len(*files))))
		}
		err = errors.Join(err, perr)
	}
	if n != 1 || b[0] != wire.Go || err != nil {
		log.WithError(err).Info("dropped a request: the program gave up before the acknowledgement")
		return false
	}
	return true
}

// heartbeat writes wire.Heartbeat every wire.HeartbeatInterval until the
// returned stop is called (which returns once no more is written).
func heartbeat(conn *net.UnixConn) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(wire.HeartbeatInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				conn.SetWriteDeadline(time.Now().Add(wire.HeartbeatInterval))
				if _, err := conn.Write([]byte{wire.Heartbeat}); err != nil {
					// Gone, or not reading: watchHangup tells the request.
					<-done
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// largeRequests holds a slot for each request being read or worked on
// that is larger than smallRequest: a state is a few hundred bytes, but
// wire.MaxRequest allows 8 MiB, and sixty connections sending that much
// at once took the daemon to 1 GiB. Beyond the slots a large request is
// closed unanswered (errLargeBusy), and the program checks in its own
// process.
var largeRequests = make(chan struct{}, 4)

// smallRequest is what any request may take without a slot: one read.
const smallRequest = 64 << 10

// errLargeBusy: a large request found every slot of largeRequests taken.
var errLargeBusy = errors.New("a large request while the daemon reads or works on as many as it takes")

// readRequest reads a request, one line of JSON, with the descriptors
// that came with it (at most maxFiles; more are closed and refused).
// release gives back the slot of a large request (largeRequests) once
// the request is done with.
func readRequest(conn *net.UnixConn) (body []byte, files []*os.File, release func(), err error) {
	release = func() {}
	large := false
	defer func() {
		if large {
			release = sync.OnceFunc(func() { <-largeRequests })
		}
	}()
	body, files, err = readRequestLine(conn, func() bool {
		select {
		case largeRequests <- struct{}{}:
			large = true
			return true
		default:
			return false
		}
	})
	return body, files, release, err
}

func readRequestLine(conn *net.UnixConn, grow func() bool) ([]byte, []*os.File, error) {
	var body []byte
	var files []*os.File
	// Small reads: a connection that sends nothing, or a byte, holds
	// little (4000 idle connections held 365 MB with a 64 KiB buffer each).
	buf := make([]byte, 4<<10)
	oob := make([]byte, unix.CmsgSpace(maxFiles*4))
	granted := false
	for {
		n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if oobn > 0 {
			fds, perr := parseRights(oob[:oobn])
			for _, fd := range fds {
				files = append(files, os.NewFile(uintptr(fd), fmt.Sprintf("request-fd-%d", len(files))))
			}
			if perr != nil {
				return nil, files, perr
			}
			if len(files) > maxFiles {
				return nil, files, fmt.Errorf("%d descriptors, at most %d", len(files), maxFiles)
			}
		}
		if n > 0 && len(body)+n > smallRequest && !granted {
			if granted = grow(); !granted {
				return nil, files, errLargeBusy
			}
		}
		if n > 0 { // n is -1 on a timeout
			body = append(body, buf[:n]...)
		}
		if len(body) > wire.MaxRequest {
			return nil, files, fmt.Errorf("larger than %d bytes", wire.MaxRequest)
		}
		// The program sends nothing more until it hears the Ack.
		if len(body) > 0 && body[len(body)-1] == '\n' {
			return body[:len(body)-1], files, nil
		}
		if errors.Is(err, io.EOF) || (err == nil && n == 0 && oobn == 0) {
			if len(body) == 0 {
				return nil, files, errNoRequest
			}
			return nil, files, errors.New("the program hung up mid-request")
		}
		if err != nil {
			return nil, files, err
		}
	}
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for _, m := range msgs {
		got, err := unix.ParseUnixRights(&m)
		if err != nil {
			return fds, err
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// watchHangup closes gone when the peer closes its end of conn (it has
// only shut down writing while it waits for the answer): wrapper-runc was
// killed, and whoever ran it will not wait for the container. It polls a
// duplicate of the socket, so that closing conn never waits for it, and a
// pipe that stop writes to.
func watchHangup(conn *net.UnixConn) (gone <-chan struct{}, stop func()) {
	g := make(chan struct{})
	rc, err := conn.SyscallConn()
	if err != nil {
		return g, func() {}
	}
	sock := -1
	// CLOEXEC: a program the daemon starts (a checkpoint sink) must not
	// hold the connection open after the answer.
	rc.Control(func(fd uintptr) { sock, err = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) })
	var wake [2]int
	if err != nil || unix.Pipe2(wake[:], unix.O_CLOEXEC) != nil {
		if sock >= 0 {
			unix.Close(sock)
		}
		return g, func() {}
	}
	go func() {
		defer unix.Close(sock)
		defer unix.Close(wake[0])
		for {
			pfd := []unix.PollFd{{Fd: int32(sock), Events: unix.POLLHUP}, {Fd: int32(wake[0]), Events: unix.POLLIN}}
			n, err := unix.Poll(pfd, -1)
			if errors.Is(err, unix.EINTR) || (err == nil && n == 0) {
				continue
			}
			if err != nil || pfd[1].Revents != 0 {
				return
			}
			if pfd[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0 {
				close(g)
				return
			}
		}
	}()
	return g, func() {
		unix.Write(wake[1], []byte{0})
		unix.Close(wake[1])
	}
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
		return &refusedPeer{uid: cred.Uid, pid: cred.Pid}
	}
	return nil
}

// refusedPeer is a program that may not ask: its uid and pid go to the
// daemon's log.
type refusedPeer struct {
	uid uint32
	pid int32
}

func (r *refusedPeer) Error() string {
	return fmt.Sprintf("uid %d (pid %d) may not ask for hooks: root only", r.uid, r.pid)
}
