package hook

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
)

// FilterReader reads what the kernel enforces on a process. The hook
// reads through pkg/procfilters (kernelReader); a test gives it a process
// whose filter comes late, whose tracer lets go, or that exits.
type FilterReader interface {
	// Status is the process's /proc status: its seccomp mode and tracer.
	Status(pid int) (procfilters.Status, error)
	// Comm is the process's name (/proc/PID/comm, without the newline).
	Comm(pid int) (string, error)
	// ReadProcess reads the filters of every thread; ReadLeader those of
	// the thread-group leader only.
	ReadProcess(ctx context.Context, pid int) (*procfilters.ProcessFilters, error)
	ReadLeader(ctx context.Context, pid int) (*procfilters.ProcessFilters, error)
}

// kernelReader is FilterReader on the running system.
type kernelReader struct{}

func (kernelReader) Status(pid int) (procfilters.Status, error) { return procfilters.ReadStatus(pid) }

func (kernelReader) Comm(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b)), err
}

func (kernelReader) ReadProcess(ctx context.Context, pid int) (*procfilters.ProcessFilters, error) {
	return procfilters.ReadProcessContext(ctx, pid)
}

func (kernelReader) ReadLeader(ctx context.Context, pid int) (*procfilters.ProcessFilters, error) {
	return procfilters.ReadLeaderContext(ctx, pid)
}

// waitAndRead reads the filters of the container's init. When the runtime
// loads a filter (loadsFilter) that is not there yet (crun with
// noNewPrivileges loads it just before exec, possibly after poststart
// began), it first waits up to wait for the kernel to report filter mode;
// a filter that never comes is read as what it is: none.
func waitAndRead(ctx context.Context, r FilterReader, c pipeline.Container, loadsFilter bool, wait time.Duration) (*procfilters.ProcessFilters, error) {
	if c.PID <= 0 {
		return nil, &procfilters.ReadError{PID: c.PID, Kind: procfilters.ErrNoProcess, Detail: "the state has no pid: the container is not running"}
	}
	if loadsFilter {
		waitCtx, cancel := context.WithTimeout(ctx, wait)
		err := waitForFilterMode(waitCtx, r, c.PID)
		cancel()
		if err != nil {
			return nil, err
		}
	}
	// runc runs poststart before its init execs the container's program:
	// the init's leader, which loaded the filter and will exec, is the
	// one thread to read (its Go runtime threads never get the filter
	// and end at execve). Once the program runs, every thread counts.
	runcInit := isRuncInit(r, c.PID)
	pf, err := readRetryingWrapper(ctx, r, c.PID, wait, runcInit)
	if err != nil || !runcInit || isRuncInit(r, c.PID) {
		return pf, err
	}
	// The init exec'd around the read: the program may have started
	// threads already. If it has ended instead, the leader's read stands:
	// its filters are the ones the program ran under.
	all, err := readRetryingWrapper(ctx, r, c.PID, wait, false)
	if errors.Is(err, procfilters.ErrNoProcess) {
		return pf, nil
	}
	return all, err
}

// readRetryingWrapper reads the filters, waiting (up to wait) while
// seccomp-attest's own Docker wrapper holds the process at its exec stop:
// with crun, poststart runs during start, while wrapper-runc checks the
// same process; it lets go within milliseconds, and both then attest.
func readRetryingWrapper(ctx context.Context, r FilterReader, pid int, wait time.Duration, leaderOnly bool) (*procfilters.ProcessFilters, error) {
	read := r.ReadProcess
	if leaderOnly {
		read = r.ReadLeader
	}
	give := time.Now().Add(wait)
	for {
		pf, err := read(ctx, pid)
		if err == nil || !errors.Is(err, procfilters.ErrAlreadyTraced) || !wrapperOrNoTracer(r, pid) || time.Now().After(give) {
			return pf, err
		}
		select {
		case <-ctx.Done():
			return pf, err
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// wrapperComms are the names wrapper-runc's check runs under: the
// wrapper program (older builds), seccomp-attestd checking for it in the
// wrapper's process, or the daemon checking for it.
var wrapperComms = []string{"wrapper-runc", "seccomp-attestd"}

// wrapperOrNoTracer tells, after a read failed because pid was traced,
// whether to try again: the tracer is seccomp-attest's wrapper, or it let
// go between the read and this look (the wrapper detaching: under load
// that race was lost often enough to kill a container in enforce mode).
func wrapperOrNoTracer(r FilterReader, pid int) bool {
	st, err := r.Status(pid)
	if err != nil {
		return false
	}
	if st.TracerPID == 0 {
		return true
	}
	comm, err := r.Comm(st.TracerPID)
	return err == nil && slices.Contains(wrapperComms, comm)
}

// isRuncInit tells whether pid is still runc's init, which runc runs
// poststart hooks before: the container's program is not exec'd yet.
func isRuncInit(r FilterReader, pid int) bool {
	comm, err := r.Comm(pid)
	return err == nil && comm == "runc:[2:INIT]"
}

// waitForFilterMode polls /proc/PID/status until the process is in filter
// mode. It returns nil when the filter is there or the wait is over (the
// read then reports what the process really has), and an error only when
// the process is gone.
func waitForFilterMode(ctx context.Context, r FilterReader, pid int) error {
	delay := 200 * time.Microsecond
	for {
		st, err := r.Status(pid)
		if err != nil {
			return &procfilters.ReadError{PID: pid, Kind: procfilters.ErrNoProcess, Err: err,
				Detail: "the process exited before its filters were read"}
		}
		if st.Mode == procfilters.ModeFilter {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Millisecond)
	}
}
