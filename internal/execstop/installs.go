package execstop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/tracer"
	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
)

// The install stop: a program started under ptrace runs until it has
// installed a number of seccomp filters (or until it exits), and is held
// there, never running further, while its filters are read; then it is
// killed. This is seccomp-tools' `dump EXEC`, for static and dynamic
// programs and for filters installed from several threads and processes:
// every thread and child is followed (PTRACE_O_TRACECLONE, FORK, VFORK).
//
// An install is a seccomp(SECCOMP_SET_MODE_FILTER) or
// prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) call after which the
// thread's Seccomp_filters count grew (with TSYNC one call installs on
// every thread: it counts once). The calls are seen at syscall stops
// (PTRACE_SYSCALL, PTRACE_GET_SYSCALL_INFO); a program that issues them
// through another ABI than this machine's (i386 int $0x80) is not followed.

// InstallOptions tune RunToInstalls.
type InstallOptions struct {
	// Limit is the number of installs to stop at (at least 1).
	Limit int
	// Stdin, Stdout, Stderr of the program (nil: /dev/null).
	Stdin, Stdout, Stderr *os.File
	// Env is the program's environment (nil: this process's).
	Env []string
}

// Installs is what RunToInstalls found.
type Installs struct {
	// Installs counts the filter installs seen; Limit was reached when
	// it equals InstallOptions.Limit.
	Installs int
	// By is the thread of the last install (0 if none).
	By int
	// Exited says the program ended before reaching the limit: the
	// filters are those its threads had when each one exited.
	Exited bool
	// Processes holds the filters of every process of the program (its
	// threads, then its children), by first appearance.
	Processes []*procfilters.ProcessFilters
}

// ptraceGetSyscallInfo is PTRACE_GET_SYSCALL_INFO (Linux 5.3).
const ptraceGetSyscallInfo = 0x420e

// syscallInfo is struct ptrace_syscall_info up to the entry's arguments
// (for an exit stop the first union word is rval).
type syscallInfo struct {
	Op   uint8
	_    [3]uint8
	Arch uint32
	IP   uint64
	SP   uint64
	Nr   uint64
	Args [6]uint64
}

const (
	syscallInfoEntry = 1
	syscallInfoExit  = 2

	prSetSeccomp         = 22 // PR_SET_SECCOMP
	seccompModeFilter    = 2  // SECCOMP_MODE_FILTER
	seccompSetModeFilter = 1  // SECCOMP_SET_MODE_FILTER
)

// task is one traced thread.
type task struct {
	tid, tgid int
	stopped   bool // in a ptrace stop we have not resumed
	// install: at the entry of a filter install, the thread's filter
	// count then (-1 when not in one).
	install int
	exited  bool
	last    *procfilters.ThreadFilters // filters read at its exit stop
}

// RunToInstalls starts argv[0] (looked up in PATH) with argv traced, runs
// it until opts.Limit filters are installed or it exits, reads the filters
// of every thread there, and kills it. ctx bounds the whole run: when it
// ends first the program is killed and the error says so.
func RunToInstalls(ctx context.Context, argv []string, opts InstallOptions) (*Installs, error) {
	if len(argv) == 0 {
		return nil, errors.New("no program to run")
	}
	if opts.Limit < 1 {
		return nil, fmt.Errorf("limit %d: stop after at least 1 filter", opts.Limit)
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, err
	}
	type result struct {
		in  *Installs
		err error
	}
	done := make(chan result, 1)
	t := &installTracer{tasks: map[int]*task{}, opts: opts, out: &Installs{}}
	go func() {
		// The thread that starts the program is its tracer; with
		// PTRACE_O_EXITKILL its end kills the program.
		var r result
		tracer.Run(func() { r.in, r.err = t.run(path, argv) })
		done <- r
	}()
	select {
	case r := <-done:
		return r.in, r.err
	case <-ctx.Done():
		// Killed, the program's threads end and the tracer's wait
		// returns; it reaps them and reports.
		t.killAll()
		<-done
		return nil, fmt.Errorf("%s: stopped before its filter installs: %w", argv[0], context.Cause(ctx))
	}
}

func (t *installTracer) run(path string, argv []string) (*Installs, error) {
	opts := t.opts
	cmd := &exec.Cmd{Path: path, Args: argv, Env: opts.Env, Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL}}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	pid := cmd.Process.Pid
	t.pid = pid
	root := t.add(pid)
	defer t.reap()
	// The exec stop of PTRACE_TRACEME comes first. The wait is bounded by
	// RunToInstalls, which kills the program when its context ends.
	_, ws, err := tracer.WaitBlocking(pid)
	if err != nil {
		return nil, fmt.Errorf("wait for %s to start: %w", argv[0], err)
	}
	if !ws.Stopped() {
		root.exited = true
		return nil, fmt.Errorf("%s ended before it ran (status %#x)", argv[0], uint32(ws))
	}
	options := unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEFORK |
		unix.PTRACE_O_TRACEVFORK | unix.PTRACE_O_TRACEEXIT | unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_EXITKILL
	if err := tracer.SetOptions(pid, options); err != nil {
		return nil, fmt.Errorf("ptrace(PTRACE_SETOPTIONS) on %d: %w", pid, err)
	}
	root.install = -1
	if err := t.resume(root, 0); err != nil {
		return nil, err
	}
	return t.loop()
}

type installTracer struct {
	pid   int
	tasks map[int]*task
	order []int // tids by first appearance
	opts  InstallOptions
	out   *Installs

	// tgids are the program's processes, for killAll from any goroutine.
	mu    sync.Mutex
	tgids []int
}

func (t *installTracer) resume(tk *task, sig int) error {
	tk.stopped = false
	if err := tracer.Syscall(tk.tid, sig); err != nil {
		return fmt.Errorf("resume thread %d: %w", tk.tid, err)
	}
	return nil
}

func (t *installTracer) live() int {
	n := 0
	for _, tk := range t.tasks {
		if !tk.exited {
			n++
		}
	}
	return n
}

// loop follows every stop until the limit or the end of the program. Its
// waits block (a wake-up on SIGCHLD at every syscall stop would slow the
// program down); RunToInstalls bounds them by killing the program.
func (t *installTracer) loop() (*Installs, error) {
	for t.live() > 0 {
		tid, ws, err := tracer.WaitBlocking(-1)
		if errors.Is(err, unix.ECHILD) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("wait for the program: %w", err)
		}
		tk := t.tasks[tid]
		if tk == nil {
			// A new thread or child reported before its parent's event.
			tk = t.add(tid)
		}
		if ws.Exited() || ws.Signaled() {
			tk.exited, tk.stopped = true, false
			continue
		}
		if !ws.Stopped() {
			continue
		}
		tk.stopped = true
		sig := ws.StopSignal()
		switch ev := tracer.Event(ws); {
		case sig == unix.SIGTRAP|0x80:
			reached, err := t.syscallStop(tk)
			if err != nil {
				return nil, err
			}
			if reached {
				return t.finish(tk.tid)
			}
			err = t.resume(tk, 0)
			if err != nil {
				return nil, err
			}
		case sig == unix.SIGTRAP && (ev == unix.PTRACE_EVENT_CLONE || ev == unix.PTRACE_EVENT_FORK || ev == unix.PTRACE_EVENT_VFORK):
			if msg, err := tracer.EventMsg(tid); err == nil && t.tasks[msg] == nil {
				t.add(msg)
			}
			if err := t.resume(tk, 0); err != nil {
				return nil, err
			}
		case sig == unix.SIGTRAP && ev == unix.PTRACE_EVENT_EXIT:
			// Its filters as it leaves: what "at exit" reports.
			tf, err := procfilters.ReadTracedThread(tk.tgid, tk.tid)
			if err == nil {
				tk.last = &tf
			}
			if err := t.resume(tk, 0); err != nil {
				return nil, err
			}
		case sig == unix.SIGTRAP && ev == unix.PTRACE_EVENT_EXEC:
			// A thread other than the leader that executes a program takes
			// the leader's id; its old id reports nothing more.
			if former, err := tracer.EventMsg(tid); err == nil && former != tid {
				if old := t.tasks[former]; old != nil {
					old.exited, old.stopped = true, false
				}
			}
			if err := t.resume(tk, 0); err != nil {
				return nil, err
			}
		case sig == unix.SIGTRAP && ev != 0:
			// Other events: go on.
			if err := t.resume(tk, 0); err != nil {
				return nil, err
			}
		case sig == unix.SIGSTOP && tk.fresh():
			// The first stop of an auto-attached thread or child.
			tk.install = -1
			if err := t.resume(tk, 0); err != nil {
				return nil, err
			}
		default:
			// A signal on its way to the program: deliver it.
			if err := t.resume(tk, int(sig)); err != nil {
				return nil, err
			}
		}
	}
	t.out.Exited = true
	for _, tid := range t.order {
		tk := t.tasks[tid]
		if tk.last != nil {
			t.processOf(tk.tgid).Threads = append(t.processOf(tk.tgid).Threads, *tk.last)
		}
	}
	return t.out, nil
}

// fresh marks a task that has not been resumed since it appeared.
func (tk *task) fresh() bool { return tk.install == -2 }

func (t *installTracer) add(tid int) *task {
	tgid := tid
	if st, err := readThreadStatus(tid); err == nil && st.TGID > 0 {
		tgid = st.TGID
	}
	tk := &task{tid: tid, tgid: tgid, install: -2}
	t.tasks[tid] = tk
	t.order = append(t.order, tid)
	t.mu.Lock()
	if !slices.Contains(t.tgids, tgid) {
		t.tgids = append(t.tgids, tgid)
	}
	t.mu.Unlock()
	return tk
}

// readThreadStatus reads /proc/TID/status (any thread's id works there).
func readThreadStatus(tid int) (procfilters.Status, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return procfilters.Status{}, fmt.Errorf("thread %d: %w", tid, err)
	}
	return procfilters.ParseStatus(data)
}

// syscallStop handles a syscall entry or exit stop; reached says the
// limit of installs was reached at this exit.
func (t *installTracer) syscallStop(tk *task) (reached bool, err error) {
	var info syscallInfo
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, ptraceGetSyscallInfo, uintptr(tk.tid),
		unsafe.Sizeof(info), uintptr(unsafe.Pointer(&info)), 0, 0)
	if errno != 0 {
		return false, fmt.Errorf("ptrace(PTRACE_GET_SYSCALL_INFO) on thread %d: %w", tk.tid, errno)
	}
	switch info.Op {
	case syscallInfoEntry:
		tk.install = -1
		if isInstall(&info) {
			st, err := readThreadStatus(tk.tid)
			if err != nil {
				return false, err
			}
			tk.install = st.Filters
		}
	case syscallInfoExit:
		if tk.install < 0 {
			return false, nil
		}
		before := tk.install
		tk.install = -1
		st, err := readThreadStatus(tk.tid)
		if err != nil {
			return false, err
		}
		if st.Filters > before {
			t.out.Installs++
			t.out.By = tk.tid
			return t.out.Installs >= t.opts.Limit, nil
		}
	}
	return false, nil
}

// isInstall says whether a syscall entry installs a seccomp filter, on
// this machine's ABI.
func isInstall(info *syscallInfo) bool {
	if native := arch.Native(); native == nil || info.Arch != native.Audit || info.Nr&arch.X32SyscallBit != 0 {
		return false
	}
	switch info.Nr {
	case unix.SYS_SECCOMP:
		return info.Args[0] == seccompSetModeFilter
	case unix.SYS_PRCTL:
		return info.Args[0] == prSetSeccomp && info.Args[1] == seccompModeFilter
	}
	return false
}

// finish holds every thread, reads their filters and returns them; the
// deferred killAll ends the program.
func (t *installTracer) finish(by int) (*Installs, error) {
	for _, tid := range t.order {
		tk := t.tasks[tid]
		if tk.exited || tk.stopped {
			continue
		}
		if err := t.hold(tk); err != nil {
			return nil, err
		}
	}
	for _, tid := range t.order {
		tk := t.tasks[tid]
		if tk.exited {
			continue
		}
		tf, err := procfilters.ReadTracedThread(tk.tgid, tk.tid)
		if err != nil {
			var re *procfilters.ReadError
			if errors.As(err, &re) && re.Kind == procfilters.ErrNoProcess {
				continue // it exited while held
			}
			return nil, err
		}
		p := t.processOf(tk.tgid)
		p.Threads = append(p.Threads, tf)
	}
	t.out.By = by
	return t.out, nil
}

func (t *installTracer) processOf(tgid int) *procfilters.ProcessFilters {
	for _, p := range t.out.Processes {
		if p.PID == tgid {
			return p
		}
	}
	p := &procfilters.ProcessFilters{PID: tgid}
	t.out.Processes = append(t.out.Processes, p)
	return p
}

// holdTimeout bounds the wait for a running thread to stop.
const holdTimeout = 5 * time.Second

// hold brings a running thread into a ptrace stop (SIGSTOP by tgkill; the
// signal is never delivered: the program is killed from there).
func (t *installTracer) hold(tk *task) error {
	if err := unix.Tgkill(tk.tgid, tk.tid, unix.SIGSTOP); err != nil {
		if errors.Is(err, unix.ESRCH) {
			tk.exited = true
			return nil
		}
		return fmt.Errorf("stop thread %d: %w", tk.tid, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), holdTimeout)
	defer cancel()
	for {
		_, ws, err := tracer.Wait(ctx, tk.tid)
		switch {
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("thread %d did not stop within %s", tk.tid, holdTimeout)
		case err != nil:
			tk.exited = true
			return nil
		case ws.Exited() || ws.Signaled():
			tk.exited = true
			return nil
		case ws.Stopped():
			tk.stopped = true
			return nil
		}
	}
}

// killAll kills every process of the program; safe from any goroutine.
func (t *installTracer) killAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tgid := range t.tgids {
		_ = unix.Kill(tgid, unix.SIGKILL)
	}
}

// reap collects the killed program's threads (on the tracing thread).
func (t *installTracer) reap() {
	t.killAll()
	ctx, cancel := context.WithTimeout(context.Background(), holdTimeout)
	defer cancel()
	for t.live() > 0 {
		tid, ws, err := tracer.Wait(ctx, -1)
		switch {
		case err != nil:
			return // nothing left to reap, or the deadline passed
		case ws.Exited() || ws.Signaled():
			if tk := t.tasks[tid]; tk != nil {
				tk.exited = true
			}
		case ws.Stopped():
			// Let a stopped thread reach its death.
			_ = tracer.Cont(tid, 0)
		}
	}
}
