// Package tracer is the one place the program uses ptrace, and it keeps
// the rules every tracer here follows:
//
//   - Every request for a tracee comes from the OS thread that seized it;
//     the kernel refuses any other thread (ESRCH). A Thread is a goroutine
//     locked to its OS thread and never unlocked, so that the OS thread
//     exits with it, and the kernel then detaches whatever it still traces
//     (or kills it, under PTRACE_O_EXITKILL) even where an error path could
//     not.
//   - A tracee that goes on goes on as it would without a tracer: Resume
//     delivers the signal it was stopped for and leaves a group stop
//     stopped, and Detach hands back the signal it is given.
//   - Every wait is bounded. Wait ends with its context; WaitBlocking is
//     only for a caller that bounds it by killing its tracees, whose ends
//     the wait then reports.
//
// Why Wait sleeps on SIGCHLD: a blocked wait4 cannot also watch a
// deadline. Go's signal handlers restart it (SA_RESTART); a pidfd becomes
// readable when the process exits, not at its ptrace stops; and a timer
// cannot PTRACE_INTERRUPT a tracee that will not stop (uninterruptible
// sleep, a frozen cgroup), nor from any thread but the blocked one. The
// kernel sends the tracer a SIGCHLD for every stop and exit of a tracee,
// so Wait looks with WNOHANG and, when nothing is pending, sleeps until
// the next SIGCHLD or the end of its context: no polling interval, no
// wait without an end. A SIGCHLD cannot slip between the look and the
// sleep: the sleeper takes its wake-up channel before it looks.
package tracer

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// Thread is an OS thread that issues ptrace requests: the tracer of
// whatever it seizes. It is not for concurrent use by its owner, but Do
// may be called from any goroutine.
type Thread struct {
	work   chan func()
	closed bool
}

// NewThread starts a tracing thread.
func NewThread() *Thread {
	t := &Thread{work: make(chan func())}
	go func() {
		// Never unlocked: the OS thread exits with this goroutine (see the
		// package comment).
		runtime.LockOSThread()
		for f := range t.work {
			f()
		}
	}()
	return t
}

// Do runs f on the thread and returns once f has.
func (t *Thread) Do(f func()) {
	done := make(chan struct{})
	t.work <- func() { f(); close(done) }
	<-done
}

// Close ends the thread. Whatever it still traces is detached by the
// kernel, or killed if seized with PTRACE_O_EXITKILL.
func (t *Thread) Close() {
	if !t.closed {
		t.closed = true
		close(t.work)
	}
}

// Run runs f on a tracing thread of its own, which ends when f returns.
func Run(f func()) {
	t := NewThread()
	defer t.Close()
	t.Do(f)
}

// The requests below must be issued on the tracing Thread.

// Seize attaches to thread tid with PTRACE_SEIZE and options
// (PTRACE_O_*); it keeps running.
func Seize(tid, options int) error {
	return request(unix.PTRACE_SEIZE, tid, 0, uintptr(options))
}

// Interrupt brings a seized thread to a ptrace stop (PTRACE_EVENT_STOP)
// that a wait then reports.
func Interrupt(tid int) error {
	return request(unix.PTRACE_INTERRUPT, tid, 0, 0)
}

// SetOptions sets the PTRACE_O_* options of a stopped tracee.
func SetOptions(tid, options int) error {
	return request(unix.PTRACE_SETOPTIONS, tid, 0, uintptr(options))
}

// EventMsg is PTRACE_GETEVENTMSG: the new thread of a clone event, the
// former thread id of an exec.
func EventMsg(tid int) (int, error) {
	msg, err := unix.PtraceGetEventMsg(tid)
	return int(msg), err
}

// The requests that let a stopped tracee go on take ESRCH for a tracee
// killed meanwhile and return nil: the next wait reports its end.

// Detach lets the stopped tracee go untraced, delivering sig (0: none).
func Detach(tid, sig int) error {
	return gone(request(unix.PTRACE_DETACH, tid, 0, uintptr(sig)))
}

// Cont resumes the stopped tracee, delivering sig (0: none).
func Cont(tid, sig int) error {
	return gone(request(unix.PTRACE_CONT, tid, 0, uintptr(sig)))
}

// Syscall resumes the stopped tracee up to its next syscall entry or exit
// stop, delivering sig (0: none).
func Syscall(tid, sig int) error {
	return gone(request(unix.PTRACE_SYSCALL, tid, 0, uintptr(sig)))
}

// Resume lets a tracee go on from the stop ws as it would without a
// tracer: the signal of a signal-delivery stop is delivered; a group stop
// stays stopped until SIGCONT (PTRACE_LISTEN); any other event stop
// (PTRACE_INTERRUPT, exec, clone...) resumes.
func Resume(tid int, ws unix.WaitStatus) error {
	sig := ws.StopSignal()
	switch {
	case Event(ws) == unix.PTRACE_EVENT_STOP && isGroupStop(sig):
		return gone(request(unix.PTRACE_LISTEN, tid, 0, 0))
	case Event(ws) != 0:
		return Cont(tid, 0)
	}
	return Cont(tid, int(sig))
}

// isGroupStop says whether a PTRACE_EVENT_STOP carries a stopping signal
// (a group stop) rather than SIGTRAP (a PTRACE_INTERRUPT stop).
func isGroupStop(sig unix.Signal) bool {
	return sig == unix.SIGSTOP || sig == unix.SIGTSTP || sig == unix.SIGTTIN || sig == unix.SIGTTOU
}

// Event is the PTRACE_EVENT_* of a stop (0 for a signal-delivery stop).
// WaitStatus.TrapCause reports it for SIGTRAP stops only, and a group
// stop under PTRACE_SEIZE carries PTRACE_EVENT_STOP with the stopping
// signal.
func Event(ws unix.WaitStatus) int { return int(ws>>16) & 0xff }

// IsExecStop says whether ws is the stop of PTRACE_O_TRACEEXEC: the
// tracee has replaced its program and runs nothing of the new one yet.
func IsExecStop(ws unix.WaitStatus) bool {
	return ws.StopSignal() == unix.SIGTRAP && Event(ws) == unix.PTRACE_EVENT_EXEC
}

// Poll returns a pending state change of pid (a thread id, or -1 for any
// tracee or child) without waiting; wpid is 0 when none is pending.
func Poll(pid int) (wpid int, ws unix.WaitStatus, err error) {
	return wait4(pid, unix.WALL|unix.WNOHANG)
}

// Wait returns the next state change of pid (a thread id, or -1 for any
// tracee or child), or context.Cause(ctx) once ctx ends first. ECHILD
// says there is nothing left to wait for: pid was reaped or never was a
// tracee.
func Wait(ctx context.Context, pid int) (wpid int, ws unix.WaitStatus, err error) {
	for {
		woken := nextSIGCHLD()
		if wpid, ws, err = Poll(pid); err != nil || wpid != 0 {
			return wpid, ws, err
		}
		select {
		case <-woken:
		case <-ctx.Done():
			return 0, 0, context.Cause(ctx)
		}
	}
}

// WaitBlocking is Wait without a context, for a caller that bounds the
// wait itself: when its deadline passes it kills the tracees (from any
// goroutine), and the wait returns with their ends.
func WaitBlocking(pid int) (wpid int, ws unix.WaitStatus, err error) {
	return wait4(pid, unix.WALL)
}

func wait4(pid, options int) (wpid int, ws unix.WaitStatus, err error) {
	for {
		wpid, err = unix.Wait4(pid, &ws, options, nil)
		if !errors.Is(err, unix.EINTR) {
			return wpid, ws, err
		}
	}
}

// sigchld broadcasts SIGCHLD to every Wait: next is closed at the next
// SIGCHLD and replaced. The notification stays on for the life of the
// process once a Wait has slept (os/signal keeps no state per waiter).
var sigchld struct {
	once sync.Once
	mu   sync.Mutex
	next chan struct{}
}

// nextSIGCHLD returns a channel closed at the first SIGCHLD after the
// call (or at one received but not yet broadcast).
func nextSIGCHLD() <-chan struct{} {
	sigchld.once.Do(func() {
		sigchld.next = make(chan struct{})
		c := make(chan os.Signal, 1)
		signal.Notify(c, unix.SIGCHLD)
		go func() {
			for range c {
				sigchld.mu.Lock()
				close(sigchld.next)
				sigchld.next = make(chan struct{})
				sigchld.mu.Unlock()
			}
		}()
	})
	sigchld.mu.Lock()
	defer sigchld.mu.Unlock()
	return sigchld.next
}

func request(req, tid int, addr, data uintptr) error {
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// gone takes ESRCH for nil (see Detach).
func gone(err error) error {
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}
