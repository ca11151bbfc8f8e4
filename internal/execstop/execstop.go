// Package execstop holds a process at the moment it replaces its program
// (the ptrace exec stop), so that a decision can be made after everything
// the runtime set up is in place (the seccomp filter is loaded) and before
// the first instruction of the new program runs.
//
// A runtime wrapper seizes the container's init after `create`, lets the
// real runtime `start` it, and at the exec stop reads the filters, then
// lets the program run (Release) or kills it (Kill). The process is seized
// with PTRACE_O_EXITKILL: if the wrapper dies, the kernel kills the
// process instead of leaving it stopped or unchecked.
package execstop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/tracer"
	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
)

// Errors of WaitExec.
var (
	// ErrExited: the process ended (or was killed) before it executed a
	// new program; nothing of a program ran.
	ErrExited = errors.New("the process exited before exec")
	// ErrAborted: the caller gave up waiting (the runtime's start failed).
	ErrAborted = errors.New("wait for exec aborted")
	// ErrLost: the process could no longer be followed (another thread
	// than the seized one executed a program, or it was reaped away).
	ErrLost = errors.New("lost track of the process")
	// ErrExecUnchecked: Release found the process at an exec stop that
	// WaitExec never reported; it stays held (Close kills it).
	ErrExecUnchecked = errors.New("the process reached its exec stop unchecked")
)

// Tracer holds one seized process. Its ptrace requests all come from one
// tracing thread (tracer.Thread), as the kernel requires; the methods hand
// their work to that thread. A Tracer is not for concurrent use.
type Tracer struct {
	pid    int
	thread *tracer.Thread
	atExec bool // stopped at the exec stop
	held   bool // stopped by PTRACE_INTERRUPT before its exec
	done   bool // released or dead: the thread has exited
}

// Seize attaches to process pid (its main thread) with PTRACE_SEIZE,
// asking for exec stops and for the process to be killed if the tracing
// thread exits. The process keeps running until it executes a program.
func Seize(pid int) (*Tracer, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("seize process %d: invalid pid", pid)
	}
	// With PTRACE_O_EXITKILL a process still seized when the tracing
	// thread ends (Close, or this process dies) is killed.
	t := &Tracer{pid: pid, thread: tracer.NewThread()}
	var err error
	t.on(func() { err = tracer.Seize(pid, unix.PTRACE_O_TRACEEXEC|unix.PTRACE_O_EXITKILL) })
	if err != nil {
		t.thread.Close()
		return nil, fmt.Errorf("seize process %d: ptrace(PTRACE_SEIZE): %w", pid, err)
	}
	return t, nil
}

// PID is the seized process.
func (t *Tracer) PID() int { return t.pid }

// AtExec reports whether the process is held at its exec stop.
func (t *Tracer) AtExec() bool { return t.atExec }

// on runs f on the tracing thread.
func (t *Tracer) on(f func()) { t.thread.Do(f) }

// finish ends the tracing thread once the process is released or dead.
func (t *Tracer) finish() {
	if !t.done {
		t.done = true
		t.thread.Close()
	}
}

// WaitExec waits until the process reaches its exec stop and reads its
// seccomp filters there. Other stops on the way (signals, group stops) are
// passed on unchanged. It returns early with ErrExited, ErrLost, ErrAborted
// (abort closed) or ctx's error. At the exec stop the process stays held
// even if reading fails (a *procfilters.ReadError): the caller then decides
// between Release and Kill.
func (t *Tracer) WaitExec(ctx context.Context, abort <-chan struct{}) (pf *procfilters.ProcessFilters, err error) {
	if t.done {
		return nil, ErrExited
	}
	// abort ends the wait as ctx does; the cause tells them apart.
	waitCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if abort != nil {
		go func() {
			select {
			case <-abort:
				cancel(ErrAborted)
			case <-waitCtx.Done():
			}
		}()
	}
	var exec, gone bool
	t.on(func() { exec, gone, err = t.waitExecStop(waitCtx) })
	switch {
	case gone:
		t.finish()
		return nil, ErrExited
	case exec:
		t.atExec = true
		t.on(func() { pf, err = procfilters.ReadTracedProcess(t.pid) })
		return pf, err
	case ctx.Err() != nil:
		return nil, fmt.Errorf("wait for the exec of process %d: %w", t.pid, context.Cause(ctx))
	case !errors.Is(context.Cause(waitCtx), ErrAborted):
		return nil, err
	}
	// Aborted: stop it to know where it is, since the exec may have come
	// first.
	t.on(func() { gone, err = t.interrupt() })
	switch {
	case err != nil:
		return nil, err
	case gone:
		t.finish()
		return nil, ErrExited
	case t.atExec:
		t.on(func() { pf, err = procfilters.ReadTracedProcess(t.pid) })
		return pf, err
	}
	return nil, ErrAborted
}

// waitExecStop waits, bounded by ctx, until the tracee is at its exec
// stop (exec) or has ended (gone); the stops on the way are resumed as
// without a tracer. It runs on the tracing thread.
func (t *Tracer) waitExecStop(ctx context.Context) (exec, gone bool, err error) {
	for {
		_, ws, err := tracer.Wait(ctx, t.pid)
		switch {
		case err != nil && ctx.Err() != nil:
			return false, false, err
		case errors.Is(err, unix.ECHILD):
			return false, false, fmt.Errorf("process %d: %w", t.pid, ErrLost)
		case err != nil:
			return false, false, fmt.Errorf("process %d: wait4: %w", t.pid, err)
		case ws.Exited() || ws.Signaled():
			return false, true, nil
		case !ws.Stopped():
			continue
		case tracer.IsExecStop(ws):
			return true, false, nil
		}
		if err := t.resume(ws); err != nil {
			return false, false, err
		}
	}
}

// resume lets the tracee go on from a stop other than the exec stop, as
// it would without a tracer (tracer.Resume): a signal is delivered, a
// group stop stays stopped until SIGCONT.
func (t *Tracer) resume(ws unix.WaitStatus) error {
	if err := tracer.Resume(t.pid, ws); err != nil {
		return fmt.Errorf("process %d: resume after a stop: %w", t.pid, err)
	}
	return nil
}

// Release lets the process go on untraced: from the exec stop, its new
// program starts; before it (after ErrAborted or a deadline), it goes on
// with whatever it was doing. A process found at an exec stop WaitExec did
// not report is not released (ErrExecUnchecked).
func (t *Tracer) Release() error { return t.release(false) }

// ReleaseUnchecked is Release for audit mode: the process goes on even
// from an exec stop that was never checked.
func (t *Tracer) ReleaseUnchecked() error { return t.release(true) }

func (t *Tracer) release(unchecked bool) error {
	if t.done {
		return nil
	}
	var err error
	gone := false
	t.on(func() {
		if !t.atExec && !t.held {
			// PTRACE_DETACH needs a stopped tracee.
			if gone, err = t.interrupt(); err != nil || gone {
				return
			}
			if t.atExec && !unchecked {
				err = ErrExecUnchecked
				return
			}
		}
		err = tracer.Detach(t.pid, 0)
	})
	if err != nil {
		return fmt.Errorf("release process %d: %w", t.pid, err)
	}
	t.atExec, t.held = false, false
	t.finish()
	return nil
}

// interrupt brings a running tracee to a ptrace stop (held), delivering
// the signals that come first; an exec stop on the way sets atExec. gone
// reports that the process ended. It gives up after a few seconds (a
// process in uninterruptible sleep).
func (t *Tracer) interrupt() (gone bool, err error) {
	if err := tracer.Interrupt(t.pid); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return true, nil
		}
		return false, fmt.Errorf("ptrace(PTRACE_INTERRUPT): %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), interruptTimeout)
	defer cancel()
	for {
		_, ws, err := tracer.Wait(ctx, t.pid)
		switch {
		case err != nil && ctx.Err() != nil:
			return false, fmt.Errorf("process did not stop within %s", interruptTimeout)
		case err != nil:
			return true, nil // reaped: nothing to detach
		case ws.Exited() || ws.Signaled():
			return true, nil
		case ws.Stopped() && tracer.Event(ws) == unix.PTRACE_EVENT_STOP:
			t.held = true
			return false, nil
		case ws.Stopped() && tracer.Event(ws) == unix.PTRACE_EVENT_EXEC:
			// The interrupt stop is still due; the next resume meets it.
			t.atExec = true
			return false, nil
		case ws.Stopped():
			// A signal stop: deliver the signal; the interrupt stop follows.
			if err := tracer.Cont(t.pid, int(ws.StopSignal())); err != nil {
				return false, err
			}
		}
	}
}

// interruptTimeout bounds the wait for a stop before detaching.
const interruptTimeout = 5 * time.Second

// Kill kills the process with SIGKILL and waits (bounded by ctx) until it
// is dead. Killed at the exec stop, its new program never runs.
func (t *Tracer) Kill(ctx context.Context) error {
	if t.done {
		return nil
	}
	if err := unix.Kill(t.pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill process %d: %w", t.pid, err)
	}
	var err error
	t.on(func() { err = t.waitEnd(ctx) })
	switch {
	case err == nil:
		t.atExec = false
		t.finish()
		return nil
	case ctx.Err() != nil:
		// SIGKILL is pending; the thread exit below makes sure (EXITKILL).
		t.finish()
		return fmt.Errorf("kill process %d: not dead yet: %w", t.pid, err)
	}
	return fmt.Errorf("kill process %d: %w", t.pid, err)
}

// waitEnd waits, bounded by ctx, for the end of the killed tracee. Its
// stops need no resume: SIGKILL ends a stopped tracee too. It runs on the
// tracing thread.
func (t *Tracer) waitEnd(ctx context.Context) error {
	for {
		_, ws, err := tracer.Wait(ctx, t.pid)
		switch {
		case errors.Is(err, unix.ECHILD):
			return nil // reaped: gone
		case err != nil:
			return err
		case ws.Exited() || ws.Signaled():
			return nil
		}
	}
}

// Close kills the process unless it was released: the safe end for every
// path that did not decide.
func (t *Tracer) Close() error {
	if t.done {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return t.Kill(ctx)
}
