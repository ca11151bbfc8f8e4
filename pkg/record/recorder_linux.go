package record

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

// NameAnnotation names a container's recording file (NAME.json) when the
// profile's listenerMetadata does not: podman --annotation, a CRI pod's
// annotations, a bundle's config.json.
const NameAnnotation = "seccomp-attest.dev/record"

// imageAnnotations are where engines put a container's image reference.
var imageAnnotations = []string{
	"seccomp-attest.dev/image",
	"io.kubernetes.cri.image-name",  // containerd's CRI
	"io.kubernetes.cri-o.ImageName", // CRI-O
	"org.opencontainers.image.ref.name",
}

// inProgress is the problem a recording carries until its workload ends:
// a file left with it means the recorder stopped (or died) first.
const inProgress = "the workload has not ended yet; if this stays, the recorder stopped before the workload ended and the recording is incomplete"

// Recorder answers the seccomp notifications of containers that run under
// a recording profile (RecordingProfile): a runtime connects to its
// socket (the profile's listenerPath) once per container process that
// loads the filter, sends the container's state and the filter's
// listener descriptor, and the recorder answers every notified syscall
// CONTINUE after adding it to the container's Recording, written to
// Dir/NAME.json: at once (beside the first answers) with Complete=false, again every FlushEvery while
// the workload runs, and with Complete=true when the container's last
// recorded process has ended.
type Recorder struct {
	Dir        string
	Version    string        // seccomp-attest's version, for Recording.Recorder
	FlushEvery time.Duration // 0: one second
	Log        logrus.FieldLogger

	mu       sync.Mutex
	sessions map[string]*session // by file
	wg       sync.WaitGroup
}

// ListenRecorder opens the recorder's socket: a unix socket only root
// can connect to (whoever connects makes the recorder write files).
func ListenRecorder(path string) (*net.UnixListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("recorder socket %s: %w", path, err)
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		// A socket left by a recorder that died; one that still
		// answers is not taken over.
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("recorder socket %s: another recorder answers on it", path)
		}
		os.Remove(path)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("recorder socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("recorder socket %s: %w", path, err)
	}
	return l, nil
}

// Serve answers runtimes on l until ctx is done, then marks the
// recordings still under way incomplete and returns.
func (r *Recorder) Serve(ctx context.Context, l *net.UnixListener) error {
	if err := os.MkdirAll(r.Dir, 0o700); err != nil {
		return fmt.Errorf("recordings directory: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var err error
	for {
		conn, aerr := l.AcceptUnix()
		if aerr != nil {
			if ctx.Err() == nil {
				if errors.Is(aerr, unix.EMFILE) || errors.Is(aerr, unix.ENFILE) {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				err = fmt.Errorf("recorder: accept: %w", aerr)
			}
			break
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.serveConn(ctx, conn)
		}()
	}
	r.wg.Wait()
	return err
}

func (r *Recorder) log() logrus.FieldLogger {
	if r.Log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		return l
	}
	return r.Log
}

// serveConn takes a runtime's container state and listener descriptor,
// then follows the descriptor until the workload ends.
func (r *Recorder) serveConn(ctx context.Context, conn *net.UnixConn) {
	fd := -1
	var s *session
	defer func() {
		// A bug here must not end the recorder: every other workload's
		// listener dies with it (their syscalls then fail ENOSYS). Nor
		// may it keep this one's listener open unanswered (its workload
		// would wait forever) or its recording in progress.
		if p := recover(); p != nil {
			r.log().WithField("panic", fmt.Sprint(p)).Error("recorder: connection")
			if s != nil {
				r.leave(s, fmt.Errorf("recorder error: %v", p))
			}
			r.refuse(ctx, fd)
		}
	}()
	state, fd, runtime, err := receiveListener(conn)
	conn.Close()
	if err != nil {
		r.log().WithError(err).Error("recorder: a runtime's connection")
		r.refuse(ctx, fd)
		return
	}
	s, err = r.join(state, runtime)
	if err != nil {
		r.log().WithError(err).WithField("id", state.State.ID).Error("recorder: cannot record; the container's calls fail ENOSYS")
		r.refuse(ctx, fd)
		return
	}
	r.log().WithFields(logrus.Fields{"id": state.State.ID, "pid": state.Pid, "file": s.path}).Info("recording")
	err = s.follow(ctx, fd)
	unix.Close(fd)
	fd = -1
	sess := s
	s = nil
	r.leave(sess, err)
}

// refuse answers every call notified to the listener fd (if >= 0) ENOSYS
// until its tasks are gone or ctx is done, then closes it. Closing it at
// once is not enough: runc's init holds a copy of it until a notified
// read is answered, and would wait for that answer forever (and runc run
// with it); ENOSYS is what the calls get with no listener.
func (r *Recorder) refuse(ctx context.Context, fd int) {
	if fd < 0 {
		return
	}
	err := followUntil(ctx, fd, func(*seccompData) unix.Errno { return unix.ENOSYS })
	unix.Close(fd)
	if err != nil && err != errListenerStopped {
		r.log().WithError(err).Error("recorder: refusing a listener")
	}
}

// receiveListener reads what runc and crun send to listenerPath: the
// container's state (specs.ContainerProcessState) as JSON with the
// listener descriptor in SCM_RIGHTS. It also
// names the runtime from the peer's executable.
func receiveListener(conn *net.UnixConn) (*specs.ContainerProcessState, int, string, error) {
	cred := peerCred(conn)
	if cred == nil {
		return nil, -1, "", errors.New("no peer credentials")
	}
	// The socket's mode (0600) is the first gate; this one holds when
	// the mode does not (a --socket in a directory others can reach, the
	// moment between bind and chmod under umask 0).
	if cred.Uid != 0 && int(cred.Uid) != os.Geteuid() {
		return nil, -1, "", fmt.Errorf("peer pid %d uid %d: only root or the recorder's user may hand over a listener", cred.Pid, cred.Uid)
	}
	runtime := peerProgram(cred)
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	const maxState = 1 << 20
	var (
		payload []byte
		fds     []int
		buf     = make([]byte, 64<<10)
		oob     = make([]byte, unix.CmsgSpace(4*4))
	)
	// A state the recorder cannot take still came with the runtime's
	// listener: closing it would leave runc's init (which holds a copy
	// until a notified read is answered) waiting forever, so the first
	// seccomp listener among the descriptors is returned with the error,
	// for serveConn to answer ENOSYS.
	listener := -1
	closeAll := func() {
		for _, fd := range fds {
			if listener < 0 && isListener(fd) {
				listener = fd
				continue
			}
			unix.Close(fd)
		}
		fds = nil
	}
	for {
		n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if oobn > 0 {
			got, perr := parseRights(oob[:oobn])
			fds = append(fds, got...)
			if perr != nil {
				closeAll()
				return nil, listener, runtime, perr
			}
		}
		if n > 0 { // n is -1 with some errors
			payload = append(payload, buf[:n]...)
		}
		if len(payload) > maxState {
			closeAll()
			return nil, listener, runtime, fmt.Errorf("container state longer than %d bytes", maxState)
		}
		// runc 1.1 never closes its end (it closes a dup of it): the
		// state is complete when it parses, not at the end of the stream.
		if len(fds) > 0 && json.Valid(payload) || errors.Is(err, io.EOF) || n == 0 && oobn == 0 && err == nil {
			break
		}
		if err != nil {
			closeAll()
			return nil, listener, runtime, fmt.Errorf("reading the container state: %w", err)
		}
	}
	var st specs.ContainerProcessState
	if err := json.Unmarshal(payload, &st); err != nil {
		closeAll()
		return nil, listener, runtime, fmt.Errorf("container state: %w", err)
	}
	at := -1
	for i, name := range st.Fds {
		if name == specs.SeccompFdName {
			at = i
		}
	}
	if at < 0 && len(fds) == 1 {
		at = 0
	}
	if at < 0 || at >= len(fds) {
		closeAll()
		return nil, listener, runtime, fmt.Errorf("container %s: no %s among %d descriptors (names %v)", st.State.ID, specs.SeccompFdName, len(fds), st.Fds)
	}
	fd := fds[at]
	fds = append(fds[:at], fds[at+1:]...)
	closeAll()
	// Anything else (a pipe whose writer is closed reads as a workload
	// that ended at once) would make a complete, empty recording.
	if !isListener(fd) {
		unix.Close(fd)
		return nil, listener, runtime, fmt.Errorf("container %s: the descriptor named %s is not a seccomp listener", st.State.ID, specs.SeccompFdName)
	}
	if st.State.ID == "" {
		if listener >= 0 {
			unix.Close(listener)
		}
		return nil, fd, runtime, errors.New("container state without an id")
	}
	if listener >= 0 {
		unix.Close(listener) // a second listener: not the one named
	}
	return &st, fd, runtime, nil
}

// isListener reports whether fd is a seccomp user notification listener.
func isListener(fd int) bool {
	link, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	return err == nil && link == "anon_inode:seccomp notify"
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("control message: %w", err)
	}
	var fds []int
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// peerCred is the connecting process's credentials, or nil.
func peerCred(conn *net.UnixConn) *unix.Ucred {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil
	}
	var cred *unix.Ucred
	raw.Control(func(fd uintptr) {
		cred, _ = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	return cred
}

// peerProgram is the base name of the connecting process's executable
// (runc, crun), or "".
func peerProgram(cred *unix.Ucred) string {
	proc := "/proc/" + strconv.Itoa(int(cred.Pid))
	if exe, err := os.Readlink(proc + "/exe"); err == nil && filepath.Base(exe) != "/" {
		return filepath.Base(exe)
	}
	// crun's sender runs in the container's mount namespace, where its
	// executable has no path; its name is still crun's.
	comm, err := os.ReadFile(proc + "/comm")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(comm))
}

// session is one container's recording, shared by the listeners of its
// processes (the init and every runc exec).
type session struct {
	r         *Recorder
	id        string
	path      string
	mu        sync.Mutex
	rec       *Recording
	followers int
	dirty     bool
	ended     bool       // the final recording is set: progress writes stop
	writeMu   sync.Mutex // orders the file's replacements
	problems  []string
	flushDone chan struct{}
}

// join returns the container's session, starting it (and its file) for
// the container's first listener.
func (r *Recorder) join(st *specs.ContainerProcessState, runtime string) (*session, error) {
	id := st.State.ID
	cfg := readBundleConfig(st.State.Bundle)
	annotations := map[string]string{}
	if cfg != nil {
		for k, v := range cfg.Annotations {
			annotations[k] = v
		}
	}
	for k, v := range st.State.Annotations {
		annotations[k] = v
	}
	name := st.Metadata
	if name == "" {
		name = annotations[NameAnnotation]
	}
	if name == "" {
		name = id
	}
	if !ValidName(name) {
		return nil, fmt.Errorf("recording name %q (listenerMetadata, annotation %s or container id): not a file name", name, NameAnnotation)
	}
	path := filepath.Join(r.Dir, name+".json")
	r.mu.Lock()
	defer r.mu.Unlock()
	// Sessions are by file: a runc exec joins its container's, and a
	// second container under the same name (replicas of one profile or
	// annotation) joins the first one's instead of replacing its file.
	if s := r.sessions[path]; s != nil {
		s.mu.Lock()
		s.followers++
		if !slices.Contains(strings.Split(s.rec.Container, ","), id) {
			s.rec.Container += "," + id
		}
		s.mu.Unlock()
		return s, nil
	}
	rec := &Recording{
		Container:  id,
		Runtime:    runtime,
		Started:    time.Now().UTC(),
		Recorder:   "seccomp-attest " + r.Version + " (seccomp user notification)",
		Problem:    inProgress,
		Arches:     map[string]*ArchCalls{},
		Unobserved: append([]string(nil), UnobservedSyscalls...),
	}
	for _, k := range imageAnnotations {
		if v := annotations[k]; v != "" {
			rec.Image = v
			break
		}
	}
	if cfg != nil && cfg.Process != nil {
		rec.Command = cfg.Process.Args
	}
	s := &session{r: r, id: id, path: path, rec: rec, followers: 1, flushDone: make(chan struct{})}
	if r.sessions == nil {
		r.sessions = map[string]*session{}
	}
	r.sessions[path] = s
	go s.flushLoop()
	return s, nil
}

// leave ends one listener of the session; the last one ends the session
// and writes the final recording.
func (r *Recorder) leave(s *session, err error) {
	r.mu.Lock()
	s.mu.Lock()
	if err != nil {
		s.problems = append(s.problems, err.Error())
	}
	s.followers--
	last := s.followers == 0
	if last {
		delete(r.sessions, s.path)
		close(s.flushDone)
		s.ended = true
		s.rec.Ended = time.Now().UTC()
		s.rec.Complete = len(s.problems) == 0
		s.rec.Problem = joinProblems(s.problems)
	}
	s.mu.Unlock()
	r.mu.Unlock()
	if !last {
		return
	}
	log := r.log().WithFields(logrus.Fields{"id": s.id, "file": s.path, "complete": s.rec.Complete})
	if werr := s.write(true); werr != nil {
		log.WithError(werr).Error("recorder: writing the recording")
		return
	}
	if s.rec.Complete {
		log.Info("recorded")
	} else {
		log.WithField("problem", s.rec.Problem).Error("recording incomplete")
	}
}

func joinProblems(ps []string) string {
	out := ""
	for i, p := range ps {
		if i > 0 {
			out += "; "
		}
		out += p
	}
	return out
}

// follow answers the listener fd until the workload's processes under it
// have ended or ctx is done.
func (s *session) follow(ctx context.Context, fd int) error {
	return followUntil(ctx, fd, s.add)
}

// followUntil answers the listener fd with answer until its tasks have
// ended (nil) or ctx is done (errListenerStopped).
func followUntil(ctx context.Context, fd int, answer func(*seccompData) unix.Errno) error {
	stopFd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("eventfd: %w", err)
	}
	defer unix.Close(stopFd)
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	stop := context.AfterFunc(ctx, func() { unix.Write(stopFd, one) })
	defer stop()
	return followListener(fd, stopFd, answer)
}

// add records one notified call; the call goes on (CONTINUE) whatever
// happens here.
func (s *session) add(d *seccompData) unix.Errno {
	nr := uint32(d.Nr)
	var recordArgs []int
	if a := arch.ForNr(d.Arch, nr); a != nil {
		recordArgs = ArgsToRecord(a, nr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.rec.Add(d.Arch, nr, d.Args, recordArgs); err != nil {
		// The call went on (CONTINUE), unrecorded: the recording must
		// not pass for complete. One problem per kind is enough.
		p := err.Error()
		for _, have := range s.problems {
			if have == p {
				return 0
			}
		}
		if len(s.problems) < 8 {
			s.problems = append(s.problems, p)
		}
		return 0
	}
	s.dirty = true
	return 0
}

// flushLoop writes the recording while the workload runs, so that what a
// recorder that dies had seen is on disk (marked incomplete).
func (s *session) flushLoop() {
	every := s.r.FlushEvery
	if every <= 0 {
		every = time.Second
	}
	// The first write is here, not in join: the container's first
	// notified call waits for the listener to be followed, and the write
	// need not be on that path.
	if err := s.write(false); err != nil {
		s.r.log().WithError(err).WithField("file", s.path).Error("recorder: cannot write the recording")
		s.mu.Lock()
		s.problems = append(s.problems, err.Error())
		s.mu.Unlock()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.flushDone:
			return
		case <-t.C:
			s.mu.Lock()
			dirty := s.dirty
			s.mu.Unlock()
			if dirty {
				if err := s.write(false); err != nil {
					s.r.log().WithError(err).WithField("file", s.path).Error("recorder: progress write")
				}
			}
		}
	}
}

// write replaces the recording file atomically (a reader never sees half
// a recording). A progress write (final false) after the final one is
// skipped, so the last file is always the final recording.
func (s *session) write(final bool) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	if s.ended && !final {
		s.mu.Unlock()
		return nil
	}
	data, err := json.MarshalIndent(s.rec, "", "  ")
	s.dirty = false
	s.mu.Unlock()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), "."+filepath.Base(s.path)+".*")
	if err != nil {
		return fmt.Errorf("recording %s: %w", s.path, err)
	}
	_, err = tmp.Write(append(data, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("recording %s: %w", s.path, err)
	}
	return nil
}

// readBundleConfig reads the bundle's config.json for the workload's
// command and annotations; nil when it cannot (the recording then just
// lacks them).
func readBundleConfig(bundle string) *specs.Spec {
	if bundle == "" {
		return nil
	}
	// Non-blocking, and regular files only: a FIFO put in place of
	// config.json blocked the open forever, and with it the container
	// (its listener unanswered).
	f, err := os.OpenFile(filepath.Join(bundle, "config.json"), os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	var cfg specs.Spec
	if err := json.NewDecoder(io.LimitReader(f, 16<<20)).Decode(&cfg); err != nil {
		return nil
	}
	return &cfg
}
