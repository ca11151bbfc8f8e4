package procfilters

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// holdStopped seizes pid on the calling (locked) OS thread and waits for
// its PTRACE_INTERRUPT stop, as a wrapper holds a container's init.
// It runs on the goroutine that owns the OS thread, so it returns errors
// instead of failing the test.
func holdStopped(pid int) error {
	if err := unix.PtraceSeize(pid); err != nil {
		return fmt.Errorf("PTRACE_SEIZE %d: %w", pid, err)
	}
	if err := unix.PtraceInterrupt(pid); err != nil {
		return fmt.Errorf("PTRACE_INTERRUPT %d: %w", pid, err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil || !ws.Stopped() {
		return fmt.Errorf("wait for the stop of %d: %v, status %#x", pid, err, ws)
	}
	return nil
}

func TestReadTracedProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := startHelper(t, "-n", "2", "-l", "-o", dir)
	pid := cmd.Process.Pid

	type result struct {
		pf  *ProcessFilters
		err error
		// refused is what the seizing reader says meanwhile: the thread
		// is already traced, by us.
		refused error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		var r result
		if r.err = holdStopped(pid); r.err != nil {
			done <- r
			return
		}
		r.pf, r.err = ReadTracedProcess(pid)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, r.refused = ReadProcessContext(ctx, pid)
		cancel()
		if err := unix.PtraceDetach(pid); err != nil && r.err == nil {
			r.err = fmt.Errorf("PTRACE_DETACH: %w", err)
		}
		done <- r
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkReleased(t, pid)
	if r.pf.PID != pid || len(r.pf.Threads) != 1 || r.pf.Threads[0].TID != pid {
		t.Fatalf("got %+v, want one thread %d", r.pf, pid)
	}
	checkFilters(t, r.pf.Threads[0], dir, 0, 1)
	for _, lf := range r.pf.Threads[0].Filters {
		if !lf.Log {
			t.Errorf("filter %d: Log not set", lf.Index)
		}
	}
	if !errors.Is(r.refused, ErrAlreadyTraced) {
		t.Errorf("ReadProcessContext on a thread this process traces: %v, want ErrAlreadyTraced", r.refused)
	}
	// The same filters as the reader that seizes by itself.
	pf, err := ReadProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if !pf.Threads[0].SameFilters(r.pf.Threads[0]) {
		t.Error("ReadTracedProcess and ReadProcess disagree")
	}
}

func TestReadTracedThreadNotTraced(t *testing.T) {
	cmd := startHelper(t, "-n", "1")
	pid := cmd.Process.Pid
	if _, err := ReadTracedThread(pid, pid); err == nil {
		t.Fatal("ReadTracedThread on an untraced thread succeeded")
	}
	checkReleased(t, pid)
}

func TestReadTracedProcessOtherThreads(t *testing.T) {
	cmd := startHelper(t, "-n", "1", "-t")
	pid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := holdStopped(pid); err != nil {
			done <- err
			return
		}
		_, err := ReadTracedProcess(pid)
		unix.PtraceDetach(pid)
		if err == nil {
			err = errors.New("ReadTracedProcess with a second live thread succeeded")
		} else {
			err = nil
		}
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkReleased(t, pid)
}
