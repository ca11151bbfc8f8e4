package procfilters

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/tracer"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// Mode is a thread's seccomp mode, the "Seccomp:" field of
// /proc/PID/task/TID/status.
type Mode int

// Seccomp modes (SECCOMP_MODE_*).
const (
	ModeDisabled Mode = 0
	ModeStrict   Mode = 1
	ModeFilter   Mode = 2
)

func (m Mode) String() string {
	switch m {
	case ModeDisabled:
		return "disabled"
	case ModeStrict:
		return "strict"
	case ModeFilter:
		return "filter"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// LoadedFilter is one filter attached to a thread.
type LoadedFilter struct {
	// Index is the PTRACE_SECCOMP_GET_FILTER index: 0 is the oldest filter.
	Index int
	// Log reports SECCOMP_FILTER_FLAG_LOG (PTRACE_SECCOMP_GET_METADATA):
	// the filter was attached asking the kernel to log every action but
	// ALLOW.
	Log    bool
	Filter *bytecode.Filter
}

// ThreadFilters is the seccomp state of one thread.
type ThreadFilters struct {
	TID  int
	Mode Mode
	// Count is "Seccomp_filters:" of the thread's status, read while the
	// thread was stopped; it equals len(Filters) unless a filter was shared
	// in from another thread (TSYNC) during the read.
	Count int
	// Filters are oldest first; empty unless Mode is ModeFilter.
	Filters []LoadedFilter
}

// Stack returns the thread's filters as a Stack (oldest first).
func (t ThreadFilters) Stack() bytecode.Stack {
	s := make(bytecode.Stack, len(t.Filters))
	for i, lf := range t.Filters {
		s[i] = lf.Filter
	}
	return s
}

// SameFilters reports whether t and o enforce the same filters: same mode
// and, in order, filters with identical bytes and LOG flags.
func (t ThreadFilters) SameFilters(o ThreadFilters) bool {
	if t.Mode != o.Mode || t.Count != o.Count || len(t.Filters) != len(o.Filters) {
		return false
	}
	for i := range t.Filters {
		a, b := t.Filters[i], o.Filters[i]
		if a.Log != b.Log || !slices.Equal(a.Filter.Instructions(), b.Filter.Instructions()) {
			return false
		}
	}
	return true
}

// ProcessFilters is the seccomp state of every thread of a process.
type ProcessFilters struct {
	PID int
	// Threads are ordered by TID. Threads that exited during the read
	// (and zombie threads, which run nothing) are not listed.
	Threads []ThreadFilters
}

// ThreadGroup is a set of threads with the same filters (SameFilters); the
// embedded ThreadFilters is the first of them.
type ThreadGroup struct {
	TIDs []int
	ThreadFilters
}

// Groups partitions the threads by their filters, in TID order of each
// group's first thread. Most processes give one group; a thread that
// attached a filter of its own (without TSYNC) stands apart.
func (p *ProcessFilters) Groups() []ThreadGroup {
	var groups []ThreadGroup
next:
	for _, t := range p.Threads {
		for i := range groups {
			if groups[i].SameFilters(t) {
				groups[i].TIDs = append(groups[i].TIDs, t.TID)
				continue next
			}
		}
		groups = append(groups, ThreadGroup{TIDs: []int{t.TID}, ThreadFilters: t})
	}
	return groups
}

// Errors of ReadProcess, wrapped in a *ReadError that says which process,
// thread and operation failed. Test them with errors.Is.
var (
	ErrNoProcess           = errors.New("no such process")
	ErrNotPrivileged       = errors.New("not privileged to read seccomp filters")
	ErrCallerFiltered      = errors.New("the reader itself runs under seccomp")
	ErrNoCheckpointRestore = errors.New("the kernel does not export seccomp filters")
	ErrAlreadyTraced       = errors.New("already traced")
	ErrNotClassic          = errors.New("filter is not classic BPF")
)

// ReadError is the error of ReadProcess: Kind is one of the Err* sentinels
// (or nil for other failures), Err the underlying cause (often a
// unix.Errno).
type ReadError struct {
	PID, TID int
	Op       string // the failing operation, "ptrace(PTRACE_SEIZE)"
	Kind     error
	Err      error
	Detail   string // what happened, in words, instead of Kind's text
	Hint     string // what to do about it
}

func (e *ReadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "process %d", e.PID)
	if e.TID != 0 && e.TID != e.PID {
		fmt.Fprintf(&b, " thread %d", e.TID)
	}
	b.WriteString(": ")
	switch {
	case e.Detail != "":
		b.WriteString(e.Detail)
	case e.Kind != nil:
		b.WriteString(e.Kind.Error())
	}
	if e.Op != "" || e.Err != nil {
		if e.Detail != "" || e.Kind != nil {
			b.WriteString(" (")
		}
		b.WriteString(e.Op)
		if e.Err != nil {
			if e.Op != "" {
				b.WriteString(": ")
			}
			b.WriteString(e.Err.Error())
		}
		if e.Detail != "" || e.Kind != nil {
			b.WriteString(")")
		}
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Unwrap makes errors.Is match both the sentinel and the cause.
func (e *ReadError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// DefaultReadTimeout bounds ReadProcess. A thread normally stops within
// microseconds of PTRACE_INTERRUPT; one in uninterruptible sleep (a hung
// NFS read, a frozen cgroup) may never stop, and the reader gives up on it.
const DefaultReadTimeout = 10 * time.Second

// ReadProcess reads the seccomp filters of every thread of process pid, as
// ReadProcessContext with DefaultReadTimeout.
func ReadProcess(pid int) (*ProcessFilters, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultReadTimeout)
	defer cancel()
	return ReadProcessContext(ctx, pid)
}

// ReadProcessContext reads the seccomp filters the kernel enforces on every
// thread of process pid: the mode of each thread from procfs and, for
// threads in filter mode, the filters themselves with
// PTRACE_SECCOMP_GET_FILTER. Each such thread is stopped for the read only
// (PTRACE_SEIZE, PTRACE_INTERRUPT) and always detached, with any signal it
// was stopped for given back. The caller needs CAP_SYS_ADMIN and
// CAP_SYS_PTRACE and must not itself run under seccomp.
//
// When ctx ends while a thread refuses to stop, the read fails and the
// thread is released as the tracing OS thread exits.
func ReadProcessContext(ctx context.Context, pid int) (*ProcessFilters, error) {
	return readLocked(ctx, pid, false)
}

// ReadLeaderContext is ReadProcessContext for the thread group leader
// alone (thread id pid): the one thread that matters when the others are
// known to end before the process runs anything (a runtime's init between
// loading the filter and exec'ing the container's program, whose other
// threads execve ends), without stopping each of them.
func ReadLeaderContext(ctx context.Context, pid int) (*ProcessFilters, error) {
	return readLocked(ctx, pid, true)
}

func readLocked(ctx context.Context, pid int, leaderOnly bool) (*ProcessFilters, error) {
	if pid <= 0 {
		return nil, &ReadError{PID: pid, Kind: ErrNoProcess, Detail: "invalid pid"}
	}
	if pid == os.Getpid() {
		// ptrace refuses a tracer's own thread group.
		return nil, &ReadError{PID: pid, Detail: "cannot read the filters of the reading process itself", Hint: "read /proc/self/status or run another reader"}
	}
	// Seize, wait and detach come from one tracing thread, which ends
	// with the read: the kernel detaches whatever it still traces if an
	// error path could not.
	var pf *ProcessFilters
	var err error
	tracer.Run(func() { pf, err = readProcess(ctx, pid, leaderOnly) })
	return pf, err
}

func readProcess(ctx context.Context, pid int, leaderOnly bool) (*ProcessFilters, error) {
	self, err := readStatus("/proc/thread-self/status")
	if err != nil {
		return nil, &ReadError{PID: pid, Op: "read /proc/thread-self/status", Err: err}
	}
	if self.Mode != ModeDisabled {
		return nil, &ReadError{PID: pid, Kind: ErrCallerFiltered,
			Detail: fmt.Sprintf("the reader itself runs under seccomp (mode %s); the kernel refuses to export filters to it", self.Mode),
			Hint:   "run seccomp-attest outside any container or with seccomp=unconfined"}
	}

	leader, err := readStatus(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, procError(pid, 0, err)
	}
	if leader.TGID != pid {
		return nil, &ReadError{PID: pid, Detail: fmt.Sprintf("%d is a thread of process %d", pid, leader.TGID), Hint: fmt.Sprintf("pass the process id %d", leader.TGID)}
	}

	pf := &ProcessFilters{PID: pid}
	if leaderOnly {
		tf, gone, err := readThread(ctx, pid, pid)
		switch {
		case err != nil:
			return nil, err
		case gone:
			return nil, &ReadError{PID: pid, TID: pid, Kind: ErrNoProcess, Detail: "the process exited while its filters were read"}
		}
		pf.Threads = []ThreadFilters{tf}
		return pf, nil
	}
	seen := map[int]bool{}
	// Threads started during the read are picked up by the next listing;
	// a process that keeps starting threads is read until ctx ends.
	for {
		tids, err := listTasks(pid)
		if err != nil {
			return nil, procError(pid, 0, err)
		}
		fresh := 0
		for _, tid := range tids {
			if seen[tid] {
				continue
			}
			seen[tid] = true
			fresh++
			if ctx.Err() != nil {
				// The cause names the deadline (a hook's, say) when the
				// caller gave one.
				return nil, &ReadError{PID: pid, TID: tid, Detail: "reading stopped", Err: context.Cause(ctx)}
			}
			tf, gone, err := readThread(ctx, pid, tid)
			if err != nil {
				return nil, err
			}
			if gone {
				if !processAlive(pid) {
					return nil, &ReadError{PID: pid, TID: tid, Kind: ErrNoProcess, Detail: "the process exited while its filters were read"}
				}
				continue
			}
			pf.Threads = append(pf.Threads, tf)
		}
		if fresh == 0 {
			break
		}
	}
	if len(pf.Threads) == 0 {
		return nil, &ReadError{PID: pid, Kind: ErrNoProcess, Detail: "the process has no live thread (zombie)"}
	}
	slices.SortFunc(pf.Threads, func(a, b ThreadFilters) int { return a.TID - b.TID })
	return pf, nil
}

// readThread reads one thread; gone reports that it exited (or is a
// zombie) in the meantime.
func readThread(ctx context.Context, pid, tid int) (tf ThreadFilters, gone bool, err error) {
	statusPath := fmt.Sprintf("/proc/%d/task/%d/status", pid, tid)
	st, err := readStatus(statusPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ESRCH) {
			return tf, true, nil
		}
		return tf, false, &ReadError{PID: pid, TID: tid, Op: "read " + statusPath, Err: err}
	}
	if st.Zombie {
		return tf, true, nil
	}
	tf = ThreadFilters{TID: tid, Mode: st.Mode, Count: st.Filters}
	if st.Mode != ModeFilter {
		// Disabled and strict mode have no filters to read.
		return tf, false, nil
	}

	t := &tracee{pid: pid, tid: tid}
	if gone, err := t.attach(ctx); gone || err != nil {
		return tf, gone, err
	}
	defer func() {
		if derr := t.detach(); derr != nil && err == nil && !gone {
			err = derr
		}
	}()

	// Count again now that the thread cannot attach filters itself.
	if st, err := readStatus(statusPath); err == nil {
		tf.Count = st.Filters
	}
	gone, err = t.readFilters(&tf)
	return tf, gone, err
}

// readFilters appends the filters of the stopped thread to tf, oldest
// first.
func (t *tracee) readFilters(tf *ThreadFilters) (gone bool, err error) {
	for index := 0; ; index++ {
		raw, gone, err := t.getFilter(index)
		if gone || err != nil {
			return gone, err
		}
		if raw == nil {
			return false, nil
		}
		f, perr := bytecode.ParseFilter(raw)
		if perr != nil {
			return false, &ReadError{PID: t.pid, TID: t.tid, Op: fmt.Sprintf("decode filter %d (%d bytes)", index, len(raw)), Err: perr,
				Detail: "the kernel returned a filter this reader rejects", Hint: "please report this with the raw filter"}
		}
		log, gone, err := t.getLogFlag(index)
		if gone || err != nil {
			return gone, err
		}
		tf.Filters = append(tf.Filters, LoadedFilter{Index: index, Log: log, Filter: f})
	}
}

// ReadTracedThread reads the seccomp state of thread tid of process pid,
// which the calling OS thread (a tracer.Thread, or one locked with
// runtime.LockOSThread) already traces and holds in a ptrace stop, as a
// runtime wrapper does at the exec stop of a container's init. It neither
// seizes nor resumes the thread: the caller owns the stop and decides
// what happens next.
func ReadTracedThread(pid, tid int) (ThreadFilters, error) {
	statusPath := fmt.Sprintf("/proc/%d/task/%d/status", pid, tid)
	st, err := readStatus(statusPath)
	if err != nil {
		return ThreadFilters{}, procError(pid, tid, err)
	}
	tf := ThreadFilters{TID: tid, Mode: st.Mode, Count: st.Filters}
	if st.Zombie {
		return tf, &ReadError{PID: pid, TID: tid, Kind: ErrNoProcess, Detail: "the thread exited"}
	}
	// TracerPid names the tracing thread, which must be this one: ptrace
	// requests from any other thread fail with ESRCH.
	if st.TracerPID != unix.Gettid() {
		return tf, &ReadError{PID: pid, TID: tid, Detail: fmt.Sprintf("not traced by the calling thread %d (TracerPid %d)", unix.Gettid(), st.TracerPID),
			Hint: "seize the thread and wait for its ptrace stop on this OS thread first"}
	}
	if st.Mode != ModeFilter {
		return tf, nil
	}
	t := &tracee{pid: pid, tid: tid, stopped: true}
	gone, err := t.readFilters(&tf)
	if err == nil && gone {
		err = &ReadError{PID: pid, TID: tid, Kind: ErrNoProcess, Detail: "the thread exited while its filters were read"}
	}
	return tf, err
}

// ReadTracedProcess is ReadTracedThread for a process whose only thread
// is pid itself, such as a process at its exec stop (execve leaves one
// thread): the *ProcessFilters the rest of the tool judges and attests.
// A process with other live threads is an error, since only pid is held.
func ReadTracedProcess(pid int) (*ProcessFilters, error) {
	tids, err := listTasks(pid)
	if err != nil {
		return nil, procError(pid, 0, err)
	}
	for _, tid := range tids {
		if tid == pid {
			continue
		}
		if st, err := readStatus(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid)); err == nil && !st.Zombie {
			return nil, &ReadError{PID: pid, TID: tid, Detail: fmt.Sprintf("process has other threads (%d) than the stopped one", len(tids)),
				Hint: "use ReadTracedThread on each stopped thread, or ReadProcessContext"}
		}
	}
	tf, err := ReadTracedThread(pid, pid)
	if err != nil {
		return nil, err
	}
	return &ProcessFilters{PID: pid, Threads: []ThreadFilters{tf}}, nil
}

// tracee is a thread seized by the calling tracing thread.
type tracee struct {
	pid, tid int
	stopped  bool
	// signal is the signal the thread was stopped for, handed back on
	// detach; 0 for the PTRACE_INTERRUPT or group stop.
	signal int
}

// attach seizes the thread and waits until it is in a ptrace stop.
func (t *tracee) attach(ctx context.Context) (gone bool, err error) {
	if err := tracer.Seize(t.tid, 0); err != nil {
		switch {
		case errors.Is(err, unix.ESRCH):
			return true, nil
		case errors.Is(err, unix.EPERM), errors.Is(err, unix.EBUSY):
			if st, serr := readStatus(fmt.Sprintf("/proc/%d/task/%d/status", t.pid, t.tid)); serr == nil && st.TracerPID != 0 {
				return false, &ReadError{PID: t.pid, TID: t.tid, Op: "ptrace(PTRACE_SEIZE)", Err: err, Kind: ErrAlreadyTraced,
					Detail: fmt.Sprintf("already traced by pid %d (TracerPid)", st.TracerPID),
					Hint:   "detach the tracer (debugger, strace, another seccomp-attest) and retry"}
			}
			return false, &ReadError{PID: t.pid, TID: t.tid, Op: "ptrace(PTRACE_SEIZE)", Err: err, Kind: ErrNotPrivileged,
				Hint: "run as root with CAP_SYS_PTRACE and CAP_SYS_ADMIN; check kernel.yama.ptrace_scope and any LSM ptrace policy"}
		}
		return false, &ReadError{PID: t.pid, TID: t.tid, Op: "ptrace(PTRACE_SEIZE)", Err: err}
	}
	if err := tracer.Interrupt(t.tid); err != nil {
		if errors.Is(err, unix.ESRCH) {
			// Exited after the seize: the kernel has dropped it already.
			return true, nil
		}
		return false, &ReadError{PID: t.pid, TID: t.tid, Op: "ptrace(PTRACE_INTERRUPT)", Err: err}
	}
	for {
		_, ws, err := tracer.Wait(ctx, t.tid)
		switch {
		case err != nil && ctx.Err() != nil:
			return false, &ReadError{PID: t.pid, TID: t.tid, Op: "wait for ptrace stop", Err: err,
				Detail: "the thread did not stop (uninterruptible sleep or frozen cgroup?)"}
		case errors.Is(err, unix.ECHILD):
			// No longer ours to wait for: it exited and was reaped.
			return true, nil
		case err != nil:
			return false, &ReadError{PID: t.pid, TID: t.tid, Op: "wait4(__WALL)", Err: err}
		case ws.Exited() || ws.Signaled():
			return true, nil
		case ws.Stopped():
			t.stopped = true
			if ws.TrapCause() != unix.PTRACE_EVENT_STOP {
				// A signal-delivery stop that won the race with the
				// interrupt: the signal must be delivered after all.
				t.signal = int(ws.StopSignal())
			}
			return false, nil
		}
	}
}

// detach lets the thread run again (or go back to the group stop it was
// in), handing back the signal it was stopped for.
func (t *tracee) detach() error {
	if !t.stopped {
		return nil
	}
	if err := tracer.Detach(t.tid, t.signal); err != nil {
		return &ReadError{PID: t.pid, TID: t.tid, Op: "ptrace(PTRACE_DETACH)", Err: err}
	}
	t.stopped = false
	return nil
}

// getFilter returns the raw bytes of filter index, nil past the last one.
func (t *tracee) getFilter(index int) (raw []byte, gone bool, err error) {
	// The first call sizes the buffer (number of instructions), the second
	// fills it. The thread is stopped, so the filter cannot change between.
	n, errno := ptraceGetFilter(t.tid, index, nil)
	if errno == 0 && n > 0 {
		raw = make([]byte, n*unix.SizeofSockFilter)
		var m int
		m, errno = ptraceGetFilter(t.tid, index, raw)
		if errno == 0 && m != n {
			return nil, false, &ReadError{PID: t.pid, TID: t.tid, Op: fmt.Sprintf("ptrace(PTRACE_SECCOMP_GET_FILTER, %d)", index),
				Detail: fmt.Sprintf("filter length changed from %d to %d instructions during the read", n, m)}
		}
	}
	if errno == 0 {
		if n == 0 {
			return nil, false, &ReadError{PID: t.pid, TID: t.tid, Op: fmt.Sprintf("ptrace(PTRACE_SECCOMP_GET_FILTER, %d)", index), Detail: "the kernel returned an empty filter"}
		}
		return raw, false, nil
	}
	if errno == unix.ENOENT {
		return nil, false, nil
	}
	return nil, errno == unix.ESRCH, t.filterError(fmt.Sprintf("ptrace(PTRACE_SECCOMP_GET_FILTER, %d)", index), errno)
}

type seccompMetadata struct {
	filterOff uint64
	flags     uint64
}

func (t *tracee) getLogFlag(index int) (log, gone bool, err error) {
	md := seccompMetadata{filterOff: uint64(index)}
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SECCOMP_GET_METADATA, uintptr(t.tid),
		unsafe.Sizeof(md), uintptr(unsafe.Pointer(&md)), 0, 0)
	if errno != 0 {
		return false, errno == unix.ESRCH, t.filterError(fmt.Sprintf("ptrace(PTRACE_SECCOMP_GET_METADATA, %d)", index), errno)
	}
	return md.flags&unix.SECCOMP_FILTER_FLAG_LOG != 0, false, nil
}

// filterError names what an errno of the seccomp ptrace requests means.
func (t *tracee) filterError(op string, errno unix.Errno) error {
	e := &ReadError{PID: t.pid, TID: t.tid, Op: op, Err: errno}
	switch errno {
	case unix.ESRCH:
		return nil // the thread exited: the caller skips it
	case unix.EACCES, unix.EPERM:
		if self, err := readStatus("/proc/thread-self/status"); err == nil && self.Mode != ModeDisabled {
			e.Kind = ErrCallerFiltered
			e.Hint = "run seccomp-attest outside any container or with seccomp=unconfined"
		} else {
			e.Kind = ErrNotPrivileged
			e.Detail = "reading seccomp filters needs CAP_SYS_ADMIN"
			e.Hint = "run as root in the initial user namespace"
		}
	case unix.EINVAL:
		e.Kind = ErrNoCheckpointRestore
		e.Detail = "the kernel refused to export the filter (built without CONFIG_CHECKPOINT_RESTORE?)"
		e.Hint = "use a kernel with CONFIG_CHECKPOINT_RESTORE=y"
	case unix.EMEDIUMTYPE:
		e.Kind = ErrNotClassic
		e.Detail = "the filter is not classic BPF and cannot be exported"
	}
	return e
}

func ptraceGetFilter(tid, index int, buf []byte) (int, unix.Errno) {
	var p uintptr
	if len(buf) > 0 {
		p = uintptr(unsafe.Pointer(&buf[0]))
	}
	r, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SECCOMP_GET_FILTER, uintptr(tid), uintptr(index), p, 0, 0)
	runtime.KeepAlive(buf)
	return int(r), errno
}

// Status is what /proc/PID/status (or .../task/TID/status) says about a
// thread's seccomp state and its tracer.
type Status struct {
	TGID      int
	TracerPID int
	Mode      Mode
	// Filters is "Seccomp_filters:", the number of attached filters.
	Filters int
	// Zombie says the thread runs nothing any more (State Z or X).
	Zombie bool
}

// ReadStatus reads /proc/PID/status.
func ReadStatus(pid int) (Status, error) {
	return readStatus(fmt.Sprintf("/proc/%d/status", pid))
}

func readStatus(path string) (Status, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Status{}, err
	}
	st, err := ParseStatus(data)
	if err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// ParseStatus takes the fields of Status from the text of a status file.
func ParseStatus(data []byte) (Status, error) {
	var st Status
	sawMode := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		var perr error
		switch key {
		case "State":
			// "Z (zombie)", "X (dead)": the thread runs nothing any more.
			st.Zombie = strings.HasPrefix(val, "Z") || strings.HasPrefix(val, "X")
		case "Tgid":
			st.TGID, perr = strconv.Atoi(val)
		case "TracerPid":
			st.TracerPID, perr = strconv.Atoi(val)
		case "Seccomp":
			var m int
			m, perr = strconv.Atoi(val)
			st.Mode, sawMode = Mode(m), true
		case "Seccomp_filters":
			st.Filters, perr = strconv.Atoi(val)
		}
		if perr != nil {
			return st, fmt.Errorf("field %s: %w", key, perr)
		}
	}
	if !sawMode {
		return st, fmt.Errorf("no Seccomp field (kernel without CONFIG_SECCOMP?)")
	}
	return st, nil
}

func listTasks(pid int) ([]int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, err
	}
	tids := make([]int, 0, len(entries))
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	slices.Sort(tids)
	return tids, nil
}

// processAlive reports whether pid still has a thread that is not a zombie.
func processAlive(pid int) bool {
	tids, err := listTasks(pid)
	if err != nil {
		return false
	}
	for _, tid := range tids {
		if st, err := readStatus(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid)); err == nil && !st.Zombie {
			return true
		}
	}
	return false
}

func procError(pid, tid int, err error) error {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ESRCH) {
		return &ReadError{PID: pid, TID: tid, Kind: ErrNoProcess, Detail: "no such process", Hint: "check the pid (a container's pid is in `runc state`, `docker inspect -f {{.State.Pid}}`)"}
	}
	return &ReadError{PID: pid, TID: tid, Op: "read /proc", Err: err}
}
