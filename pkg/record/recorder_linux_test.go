package record

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// childEnv makes the test binary a workload: it loads a notifying filter
// on its main thread and execs the program the variable names.
const childEnv = "SECCOMP_ATTEST_RECORD_TEST_CHILD"

func TestMain(m *testing.M) {
	if prog := os.Getenv(childEnv); prog != "" {
		os.Exit(runNotifiedChild(strings.Fields(prog)))
	}
	os.Exit(m.Run())
}

// runNotifiedChild loads a filter that notifies every syscall except
// write, exit and exit_group (any ABI) with a new listener, then execs
// argv. Nothing is sent anywhere: the test takes the listener from
// /proc/PID/fd with pidfd_getfd (a notified sendmsg would wait for a
// listener nobody has yet, the reason runc refuses to notify write).
func runNotifiedChild(argv []string) int {
	runtime.LockOSThread()
	allow := []uint32{1, 60, 231, 0x40000001, 0x4000003c, 0x400000e7}
	prog := []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}}
	for i, nr := range allow {
		prog = append(prog, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: nr, Jt: uint8(len(allow) - i)})
	}
	prog = append(prog,
		unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_USER_NOTIF},
		unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW})
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		os.Stderr.WriteString("no_new_privs: " + err.Error() + "\n")
		return 2
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		os.Stderr.WriteString("seccomp: " + e.Error() + "\n")
		return 2
	}
	// The listener is close-on-exec: after this only the test holds it.
	err := syscall.Exec(argv[0], argv, os.Environ())
	os.Stderr.WriteString("exec: " + err.Error() + "\n")
	return 2
}

// stealListener takes the seccomp listener of process pid.
func stealListener(t *testing.T, pid int) int {
	t.Helper()
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if link, _ := os.Readlink(filepath.Join(dir, e.Name())); link != "anon_inode:seccomp notify" {
				continue
			}
			n, _ := strconv.Atoi(e.Name())
			pidfd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				t.Fatalf("pidfd_open: %v", err)
			}
			defer unix.Close(pidfd)
			fd, err := unix.PidfdGetfd(pidfd, n, 0)
			if err != nil {
				t.Fatalf("pidfd_getfd: %v", err)
			}
			return fd
		}
	}
	t.Fatalf("no seccomp listener appeared in %s", dir)
	return -1
}

// sendListener hands fd to the recorder as runc does for listenerPath.
func sendListener(t *testing.T, socket, id, name string, pid, fd int) {
	t.Helper()
	st := specs.ContainerProcessState{
		Version: specs.Version, Fds: []string{specs.SeccompFdName}, Pid: pid, Metadata: name,
		State: specs.State{Version: specs.Version, ID: id, Status: specs.StateCreating, Pid: pid},
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.(*net.UnixConn).WriteMsgUnix(b, unix.UnixRights(fd), nil); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
}

// waitEnded reads the recording at path once the recorder has ended it.
func waitEnded(t *testing.T, path string) *Recording {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		rec, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !rec.Ended.IsZero() {
			return rec
		}
	}
	t.Fatalf("%s: the recording did not end", path)
	return nil
}

// startRecorder serves a recorder in a temporary directory until the
// test ends (or stop is called).
func startRecorder(t *testing.T) (r *Recorder, socket string, stop func()) {
	dir := t.TempDir()
	socket = filepath.Join(dir, "record.sock")
	l, err := ListenRecorder(socket)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(testWriter{t})
	r = &Recorder{Dir: filepath.Join(dir, "recordings"), Version: "test", FlushEvery: 10 * time.Millisecond, Log: log}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx, l) }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}
	}
	t.Cleanup(stop)
	return r, socket, stop
}

// testWriter sends the recorder's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (pidfd_getfd of another process)")
	}
}

// buildWorkload compiles test/helpers/record-workload.c.
func buildWorkload(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "record-workload")
	cmd := exec.Command("gcc", "-O2", "-pthread", "-o", out, "../../test/helpers/record-workload.c")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	return out
}

func TestRecorderFollowsChildThreadExecAndX32(t *testing.T) {
	needRoot(t)
	if runtime.GOARCH != "amd64" {
		t.Skip("the workload's marker numbers are x86_64's")
	}
	workload := buildWorkload(t)
	r, socket, _ := startRecorder(t)

	var stdout, stderr bytes.Buffer
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+workload)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	sendListener(t, socket, "ctr-1", "workload", pid, stealListener(t, pid))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("workload under the recorder: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "done") {
		t.Fatalf("the exec'd program did not run: %q %q", stdout.String(), stderr.String())
	}
	rec := waitEnded(t, filepath.Join(r.Dir, "workload.json"))
	if !rec.Complete || rec.Problem != "" {
		t.Fatalf("recording not complete: %q", rec.Problem)
	}
	if rec.Container != "ctr-1" || rec.Recorder == "" || rec.Started.IsZero() || rec.Ended.Before(rec.Started) {
		t.Errorf("recording's facts: container %q recorder %q started %v ended %v", rec.Container, rec.Recorder, rec.Started, rec.Ended)
	}
	if !slices.Equal(rec.Unobserved, UnobservedSyscalls) {
		t.Errorf("unobserved %v, want %v", rec.Unobserved, UnobservedSyscalls)
	}
	x86 := rec.Arches["x86_64"]
	if x86 == nil {
		t.Fatalf("nothing recorded under x86_64: %+v", rec.Arches)
	}
	for nr, who := range map[uint32]string{111: "getpgrp of the forked child", 99: "sysinfo of the second thread", 100: "times of the exec'd program", 59: "execve", 41: "socket"} {
		if x86.Syscalls[nr] == nil {
			t.Errorf("%s (x86_64 %d) not recorded", who, nr)
		}
	}
	if u := x86.Syscalls[41]; u != nil && !slices.Contains(u.Args[0], 1) {
		t.Errorf("socket's family AF_UNIX not among %v", u.Args[0])
	}
	if u := x86.Syscalls[56]; u == nil || len(u.Args[0]) == 0 {
		t.Errorf("clone (fork) or its flags not recorded: %+v", u)
	}
	if x32 := rec.Arches["x32"]; x32 == nil || x32.Syscalls[39] == nil {
		t.Errorf("x32 getpid not recorded under x32: %+v", rec.Arches)
	}
	for _, nr := range []uint32{1, 60, 231} {
		if x86.Syscalls[nr] != nil {
			t.Errorf("syscall %d is allowed by the filter, yet recorded", nr)
		}
	}
}

func TestRecorderStoppedMidWorkloadLeavesIncompleteRecording(t *testing.T) {
	needRoot(t)
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep program")
	}
	r, socket, stop := startRecorder(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+sleep+" 2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	sendListener(t, socket, "ctr-2", "", pid, stealListener(t, pid))
	path := filepath.Join(r.Dir, "ctr-2.json")
	// The recording is on disk, marked incomplete, while the workload runs.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		data, err := os.ReadFile(path)
		if err == nil {
			rec, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Complete || rec.Problem == "" {
				t.Fatalf("a recording under way reads complete: %+v", rec)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no recording file while the workload runs")
		}
	}
	stop()
	// Without its recorder the workload gets ENOSYS from the filter for
	// every notified call, can still exit, and ends.
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case <-waitErr:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the workload did not end after its recorder stopped")
	}
	rec := waitEnded(t, path)
	if rec.Complete || !strings.Contains(rec.Problem, "recorder stopped") {
		t.Fatalf("recording after the recorder stopped: complete=%v problem=%q", rec.Complete, rec.Problem)
	}
}

func TestNotifyStructSizesMatchIoctls(t *testing.T) {
	// _IOWR('!', 0, struct seccomp_notif), _IOWR('!', 1, struct seccomp_notif_resp)
	size := func(req uint) uintptr { return uintptr(req>>16) & 0x3fff }
	if got, want := unsafe.Sizeof(seccompNotif{}), size(unix.SECCOMP_IOCTL_NOTIF_RECV); got != want {
		t.Errorf("seccomp_notif is %d bytes, the ioctl says %d", got, want)
	}
	if got, want := unsafe.Sizeof(seccompNotifResp{}), size(unix.SECCOMP_IOCTL_NOTIF_SEND); got != want {
		t.Errorf("seccomp_notif_resp is %d bytes, the ioctl says %d", got, want)
	}
}

// A container the recorder refuses to record (here: a name that is no
// file name) must not hang: the task that loaded the filter may hold the
// listener itself (runc's init does until a notified read is answered; the
// test's child does until its notified execve), so closing the recorder's
// copy left its call waiting forever. Its calls fail ENOSYS instead.
func TestRecorderRefusalDoesNotHangTheWorkload(t *testing.T) {
	needRoot(t)
	r, socket, _ := startRecorder(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=/bin/true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	sendListener(t, socket, "ctr-refused", "../escape", pid, stealListener(t, pid))
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err == nil || !strings.Contains(stderr.String(), "function not implemented") {
			t.Fatalf("refused workload: %v, stderr %q (want its execve to fail ENOSYS)", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the workload of a refused container hung")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(r.Dir), "escape.json")); err == nil {
		t.Fatal("a recording was written outside the directory")
	}
}

// SECCOMP_IOCTL_NOTIF_SEND fails EINTR when a signal arrives while it
// waits for the filter's lock; the answer must be sent again, not the
// listener (and the container's recording) given up.
func TestFollowListenerRetriesInterruptedSend(t *testing.T) {
	needRoot(t)
	sent := 0
	orig := rawIoctl
	rawIoctl = func(fd int, req uint, arg uintptr) unix.Errno {
		if req == unix.SECCOMP_IOCTL_NOTIF_SEND {
			if sent++; sent%2 == 1 {
				return unix.EINTR
			}
		}
		return orig(fd, req, arg)
	}
	defer func() { rawIoctl = orig }()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fd := stealListener(t, cmd.Process.Pid)
	defer unix.Close(fd)
	stopFd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(stopFd)
	calls := 0
	if err := followListener(fd, stopFd, func(*seccompData) unix.Errno { calls++; return 0 }); err != nil {
		cmd.Process.Kill()
		t.Fatalf("followListener: %v", err)
	}
	if err := cmd.Wait(); err != nil || calls == 0 {
		t.Fatalf("workload: %v after %d calls", err, calls)
	}
}

// Two containers recorded under one name at once (replicas of one
// annotation or profile --name) share the file: each session used to
// write it, and the one that ended last replaced the other's recording,
// calls and all.
func TestRecorderSameNameContainersShareOneRecording(t *testing.T) {
	needRoot(t)
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep program")
	}
	r, socket, _ := startRecorder(t)
	var cmds []*exec.Cmd
	for i, prog := range []string{sleep + " 1", "/bin/true"} {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), childEnv+"="+prog)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		sendListener(t, socket, "ctr-same-"+strconv.Itoa(i), "same", cmd.Process.Pid, stealListener(t, cmd.Process.Pid))
	}
	rec := waitEnded(t, filepath.Join(r.Dir, "same.json"))
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if execs := rec.Arches["x86_64"].Syscalls[59]; !rec.Complete || execs == nil || execs.Count < 2 || rec.Container != "ctr-same-0,ctr-same-1" {
		t.Fatalf("recording of two containers named alike: complete %v, container %q, execve %+v (want both containers' execve)", rec.Complete, rec.Container, execs)
	}
}

// sendState connects to socket on a thread whose effective uid is uid
// and sends a container state with fd.
func sendState(t *testing.T, socket string, uid int, id, name string, fd int) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // the thread ends with the goroutine: its uid goes with it
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, ^uintptr(0), uintptr(uid), ^uintptr(0)); e != 0 {
			done <- e
			return
		}
		st := specs.ContainerProcessState{Version: specs.Version, Fds: []string{specs.SeccompFdName}, Metadata: name,
			State: specs.State{Version: specs.Version, ID: id, Status: specs.StateCreating}}
		b, _ := json.Marshal(st)
		c, err := net.Dial("unix", socket)
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		// The recorder may refuse the peer before it has written.
		c.(*net.UnixConn).WriteMsgUnix(b, unix.UnixRights(fd), nil)
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A peer that is not root (the socket's mode let it in) or that sends
// a descriptor other than a seccomp listener makes no recording: a pipe
// whose writer is closed read as a workload that had ended at once, and
// the recorder wrote NAME.json complete and empty over a real one.
func TestRecorderRefusesForeignPeersAndNonListeners(t *testing.T) {
	needRoot(t)
	r, socket, _ := startRecorder(t)
	if err := os.Chmod(socket, 0o777); err != nil {
		t.Fatal(err)
	}
	for d := filepath.Dir(socket); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // t.TempDir's are 0700
	}
	for _, c := range []struct {
		uid  int
		name string
		fd   func() int
	}{
		{0, "pipe", func() int {
			var p [2]int
			unix.Pipe2(p[:], unix.O_CLOEXEC)
			unix.Close(p[1])
			return p[0]
		}},
		{65534, "nobody", func() int {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), childEnv+"=/bin/true")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			return stealListener(t, cmd.Process.Pid)
		}},
	} {
		fd := c.fd()
		sendState(t, socket, c.uid, "ctr-"+c.name, c.name, fd)
		unix.Close(fd)
		time.Sleep(300 * time.Millisecond)
		if data, err := os.ReadFile(filepath.Join(r.Dir, c.name+".json")); err == nil {
			t.Errorf("uid %d sending %s made a recording: %s", c.uid, c.name, data)
		}
	}
}

// A state the recorder cannot read (here: not JSON; also too long, cut
// off, without an id) still came with the runtime's listener, which the
// runtime's init may hold too: closing it left the workload waiting
// forever, as with a refused name. Its calls fail ENOSYS instead.
func TestRecorderUnreadableStateDoesNotHangTheWorkload(t *testing.T) {
	needRoot(t)
	_, socket, _ := startRecorder(t)
	for _, state := range []string{"not json", `{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":1,"state":{"ociVersion":"1.0.2","id":"","status":"creating"}}`} {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), childEnv+"=/bin/true")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		fd := stealListener(t, cmd.Process.Pid)
		c, err := net.Dial("unix", socket)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.(*net.UnixConn).WriteMsgUnix([]byte(state), unix.UnixRights(fd), nil); err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
		c.Close()
		waitErr := make(chan error, 1)
		go func() { waitErr <- cmd.Wait() }()
		select {
		case err := <-waitErr:
			if err == nil {
				t.Fatalf("state %q: the workload ran", state)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("state %q: the workload hung", state)
		}
	}
}

// panicHook panics when the recorder logs msg.
type panicHook struct{ msg string }

func (panicHook) Levels() []logrus.Level { return logrus.AllLevels }
func (h panicHook) Fire(e *logrus.Entry) error {
	if e.Message == h.msg {
		panic("injected")
	}
	return nil
}

// A bug (a panic) while a container is followed is recovered so that the
// recorder goes on; it also kept the container's listener open and
// unanswered (the workload waited forever) and its recording in
// progress. Now the recording ends incomplete, the call received when
// the panic struck goes on, and the rest fail ENOSYS.
func TestRecorderPanicReleasesTheWorkload(t *testing.T) {
	needRoot(t)
	r, socket, _ := startRecorder(t)
	r.Log.(*logrus.Logger).AddHook(panicHook{"recording"})
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sendListener(t, socket, "ctr-panic", "", cmd.Process.Pid, stealListener(t, cmd.Process.Pid))
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case <-waitErr:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the workload hung after a recorder panic")
	}
	if rec := waitEnded(t, filepath.Join(r.Dir, "ctr-panic.json")); rec.Complete || !strings.Contains(rec.Problem, "injected") {
		t.Fatalf("recording after a panic: complete %v, problem %q", rec.Complete, rec.Problem)
	}

	// A panic while a notification is received and not answered.
	cmd = exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fd := stealListener(t, cmd.Process.Pid)
	stopFd, _ := unix.Eventfd(0, unix.EFD_CLOEXEC)
	defer unix.Close(stopFd)
	func() {
		defer func() { recover() }()
		followListener(fd, stopFd, func(*seccompData) unix.Errno { panic("injected") })
	}()
	unix.Close(fd)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case <-waitErr:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("a notification received when the recorder panicked was never answered")
	}
}

// A bundle whose config.json is a FIFO (nobody writes it) must not stop
// the recorder from following the container: opening it blocked forever.
func TestRecorderBundleConfigFIFODoesNotBlock(t *testing.T) {
	needRoot(t)
	r, socket, _ := startRecorder(t)
	bundle := t.TempDir()
	if err := unix.Mkfifo(filepath.Join(bundle, "config.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fd := stealListener(t, cmd.Process.Pid)
	st := specs.ContainerProcessState{Version: specs.Version, Fds: []string{specs.SeccompFdName}, Pid: cmd.Process.Pid,
		State: specs.State{Version: specs.Version, ID: "ctr-fifo", Status: specs.StateCreating, Bundle: bundle}}
	b, _ := json.Marshal(st)
	c, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.(*net.UnixConn).WriteMsgUnix(b, unix.UnixRights(fd), nil); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	c.Close()
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		// The recorder's goroutine stays in open(2): give it a writer.
		if w, err := os.OpenFile(filepath.Join(bundle, "config.json"), os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		t.Fatal("the workload hung: the recorder blocked opening a FIFO config.json")
	}
	if rec := waitEnded(t, filepath.Join(r.Dir, "ctr-fifo.json")); !rec.Complete {
		t.Fatalf("recording: %+v", rec)
	}
}
