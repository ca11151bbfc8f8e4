package tracer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// These tests trace a real process (sleep): they need root or a
// ptrace_scope that lets a process trace its children.

// sleeper starts a process that only sleeps and is killed at the end of
// the test.
func sleeper(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd.Process.Pid
}

// status returns the State and TracerPid lines of /proc/PID/status.
func status(t *testing.T, pid int) (state, tracer string) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "State:"); ok {
			state = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "TracerPid:"); ok {
			tracer = strings.TrimSpace(v)
		}
	}
	return state, tracer
}

// Wait returns the stop an interrupt brings, then, with nothing more to
// report, ends with its context instead of waiting for ever.
func TestWaitReportsTheStopAndEndsWithItsContext(t *testing.T) {
	pid := sleeper(t)
	th := NewThread()
	defer th.Close()
	var stop, second error
	var ws unix.WaitStatus
	th.Do(func() {
		if stop = Seize(pid, 0); stop != nil {
			return
		}
		if stop = Interrupt(pid); stop != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var wpid int
		if wpid, ws, stop = Wait(ctx, pid); stop == nil && wpid != pid {
			stop = fmt.Errorf("wait4 reported %d, want %d", wpid, pid)
		}
		short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel2()
		_, _, second = Wait(short, pid)
	})
	if stop != nil {
		t.Fatal(stop)
	}
	if !ws.Stopped() || Event(ws) != unix.PTRACE_EVENT_STOP {
		t.Fatalf("status %#x, want the PTRACE_EVENT_STOP of the interrupt", uint32(ws))
	}
	if !errors.Is(second, context.DeadlineExceeded) {
		t.Fatalf("second Wait with nothing pending: %v, want the context's deadline", second)
	}
	if state, _ := status(t, pid); !strings.HasPrefix(state, "t") {
		t.Fatalf("State %q while held, want t (tracing stop)", state)
	}
	var detach error
	th.Do(func() { detach = Detach(pid, 0) })
	if detach != nil {
		t.Fatal(detach)
	}
	if state, tracer := status(t, pid); strings.HasPrefix(state, "t") || tracer != "0" {
		t.Fatalf("after Detach: State %q, TracerPid %s; want running, untraced", state, tracer)
	}
}

// A Thread that ends without detaching leaves nothing traced: its OS
// thread exits, and the kernel detaches the tracee.
func TestCloseReleasesWhatTheThreadTraces(t *testing.T) {
	pid := sleeper(t)
	th := NewThread()
	var err error
	th.Do(func() {
		if err = Seize(pid, 0); err != nil {
			return
		}
		if err = Interrupt(pid); err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _, err = Wait(ctx, pid)
	})
	if err != nil {
		th.Close()
		t.Fatal(err)
	}
	if _, tracer := status(t, pid); tracer == "0" {
		t.Fatal("not traced after the seize")
	}
	th.Close()
	// The OS thread exits after Close returns; this loop does not measure
	// how soon, it only waits for it.
	for i := 0; ; i++ {
		state, tracer := status(t, pid)
		if tracer == "0" && !strings.HasPrefix(state, "t") {
			return
		}
		if i == 1000 {
			t.Fatalf("State %q, TracerPid %s after the tracing thread ended; want running, untraced", state, tracer)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Wait reports the end of a tracee killed while it waits.
func TestWaitReportsAKill(t *testing.T) {
	pid := sleeper(t)
	var err error
	var ws unix.WaitStatus
	Run(func() {
		if err = Seize(pid, unix.PTRACE_O_EXITKILL); err != nil {
			return
		}
		if err = unix.Kill(pid, unix.SIGKILL); err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for {
			if _, ws, err = Wait(ctx, pid); err != nil || ws.Exited() || ws.Signaled() {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !ws.Signaled() || ws.Signal() != unix.SIGKILL {
		t.Fatalf("status %#x, want killed by SIGKILL", uint32(ws))
	}
}
