package hook

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
)

// fakeProcess is a FilterReader for one process whose story the test
// tells: the status reads it goes through, the names of processes, and
// the answers of the filter reads in turn.
type fakeProcess struct {
	statuses []procfilters.Status // one per Status call; the last repeats
	statusN  int
	gone     bool // Status fails: the process exited
	comms    map[int]string
	reads    []error // one per read; nil reads the process's filters
	readsN   int
	leader   []bool // whether each read was of the leader only
}

func (f *fakeProcess) Status(pid int) (procfilters.Status, error) {
	if f.gone {
		return procfilters.Status{}, errors.New("open /proc/status: no such file")
	}
	st := f.statuses[min(f.statusN, len(f.statuses)-1)]
	f.statusN++
	return st, nil
}

func (f *fakeProcess) Comm(pid int) (string, error) {
	if c, ok := f.comms[pid]; ok {
		return c, nil
	}
	return "", errors.New("no such process")
}

func (f *fakeProcess) read(pid int, leader bool) (*procfilters.ProcessFilters, error) {
	f.leader = append(f.leader, leader)
	err := f.reads[min(f.readsN, len(f.reads)-1)]
	f.readsN++
	if err != nil {
		return nil, err
	}
	return &procfilters.ProcessFilters{PID: pid, Threads: []procfilters.ThreadFilters{{TID: pid, Mode: procfilters.ModeFilter}}}, nil
}

func (f *fakeProcess) ReadProcess(_ context.Context, pid int) (*procfilters.ProcessFilters, error) {
	return f.read(pid, false)
}

func (f *fakeProcess) ReadLeader(_ context.Context, pid int) (*procfilters.ProcessFilters, error) {
	return f.read(pid, true)
}

const testPID = 4242

// A filter the runtime loads after poststart began (crun with
// noNewPrivileges) is waited for: the read comes once the kernel reports
// filter mode.
func TestWaitAndReadWaitsForTheFilter(t *testing.T) {
	f := &fakeProcess{
		statuses: []procfilters.Status{{Mode: procfilters.ModeDisabled}, {Mode: procfilters.ModeDisabled}, {Mode: procfilters.ModeFilter}},
		comms:    map[int]string{testPID: "sh"},
		reads:    []error{nil},
	}
	pf, err := waitAndRead(context.Background(), f, pipeline.Container{PID: testPID}, true, time.Second)
	if err != nil || pf == nil {
		t.Fatalf("%v %v", pf, err)
	}
	if f.statusN != 3 || f.readsN != 1 {
		t.Errorf("%d status reads, %d filter reads: want the read after the third status", f.statusN, f.readsN)
	}
}

// A process that exits while the hook waits for its filter is reported
// as gone (recorded, not refused), not read as unconfined.
func TestWaitAndReadProcessGone(t *testing.T) {
	f := &fakeProcess{gone: true, reads: []error{nil}}
	_, err := waitAndRead(context.Background(), f, pipeline.Container{PID: testPID}, true, time.Second)
	if !errors.Is(err, procfilters.ErrNoProcess) || f.readsN != 0 {
		t.Fatalf("err %v after %d reads: want ErrNoProcess before any read", err, f.readsN)
	}
}

// runc's init, before it execs the container's program, is read by its
// leader only; once it has exec'd, every thread is read again.
func TestWaitAndReadRuncInit(t *testing.T) {
	f := &fakeProcess{statuses: []procfilters.Status{{Mode: procfilters.ModeFilter}}, comms: map[int]string{testPID: "runc:[2:INIT]"}, reads: []error{nil}}
	if _, err := waitAndRead(context.Background(), f, pipeline.Container{PID: testPID}, false, time.Second); err != nil {
		t.Fatal(err)
	}
	if len(f.leader) != 1 || !f.leader[0] {
		t.Fatalf("runc's init not yet exec'd: reads (leader only?) %v, want one of the leader", f.leader)
	}
	// The init exec'd during the read: the program's threads count.
	f = &fakeProcess{statuses: []procfilters.Status{{Mode: procfilters.ModeFilter}}, comms: map[int]string{testPID: "runc:[2:INIT]"}, reads: []error{nil}}
	exec := &execDuringRead{fakeProcess: f}
	if _, err := waitAndRead(context.Background(), exec, pipeline.Container{PID: testPID}, false, time.Second); err != nil {
		t.Fatal(err)
	}
	if len(f.leader) != 2 || !f.leader[0] || f.leader[1] {
		t.Fatalf("runc's init exec'd during the read: reads (leader only?) %v, want the leader, then every thread", f.leader)
	}
}

// execDuringRead renames the process at its first read, as runc's init
// becomes the container's program.
type execDuringRead struct{ *fakeProcess }

func (e *execDuringRead) ReadLeader(ctx context.Context, pid int) (*procfilters.ProcessFilters, error) {
	pf, err := e.fakeProcess.ReadLeader(ctx, pid)
	e.comms[pid] = "sleep"
	return pf, err
}

// A process held by seccomp-attest's own wrapper is read again once the
// wrapper lets go; one traced by anything else is an error at once.
func TestReadRetryingWrapper(t *testing.T) {
	traced := &procfilters.ReadError{PID: testPID, Kind: procfilters.ErrAlreadyTraced}
	const tracer = 77
	f := &fakeProcess{
		statuses: []procfilters.Status{{Mode: procfilters.ModeFilter, TracerPID: tracer}},
		comms:    map[int]string{testPID: "sleep", tracer: "seccomp-attestd"},
		reads:    []error{traced, traced, nil},
	}
	if _, err := readRetryingWrapper(context.Background(), f, testPID, time.Second, false); err != nil || f.readsN != 3 {
		t.Fatalf("held by the wrapper: %v after %d reads, want success at the third", err, f.readsN)
	}
	f = &fakeProcess{
		statuses: []procfilters.Status{{Mode: procfilters.ModeFilter, TracerPID: tracer}},
		comms:    map[int]string{testPID: "sleep", tracer: "gdb"},
		reads:    []error{traced, nil},
	}
	if _, err := readRetryingWrapper(context.Background(), f, testPID, time.Second, false); !errors.Is(err, procfilters.ErrAlreadyTraced) || f.readsN != 1 {
		t.Fatalf("traced by gdb: %v after %d reads, want ErrAlreadyTraced at once", err, f.readsN)
	}
}
