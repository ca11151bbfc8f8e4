package procfilters

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// These tests read real processes with real ptrace: they need root (for
// CAP_SYS_ADMIN) and gcc with a static libc to build test/helpers.

var (
	helperOnce sync.Once
	helperPath string
	helperErr  error
)

// stackHelper builds test/helpers/seccomp-stack.c once per test binary.
func stackHelper(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("reading seccomp filters needs root (CAP_SYS_ADMIN)")
	}
	helperOnce.Do(func() {
		dir, err := os.MkdirTemp("", "seccomp-stack-")
		if err != nil {
			helperErr = err
			return
		}
		helperPath = filepath.Join(dir, "seccomp-stack")
		src, err := filepath.Abs("../../test/helpers/seccomp-stack.c")
		if err != nil {
			helperErr = err
			return
		}
		out, err := exec.Command("gcc", "-static", "-pthread", "-O2", "-Wall", "-o", helperPath, src).CombinedOutput()
		if err != nil {
			helperErr = fmt.Errorf("gcc -static %s (run scripts/setup-host.sh to install gcc): %v\n%s", src, err, out)
		}
	})
	if helperErr != nil {
		t.Fatal(helperErr)
	}
	return helperPath
}

// startHelper runs seccomp-stack with args, waits for its "ready" line (all
// filters attached) and kills it when the test ends.
func startHelper(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(stackHelper(t), args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("seccomp-stack %v: want \"ready\", got %q (%v)", args, line, err)
	}
	go io.Copy(io.Discard, stdout)
	return cmd
}

func readHelperFilter(t *testing.T, dir string, i int) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(i)+".bpf"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// checkReleased fails unless every thread of pid runs untraced: the reader
// must never leave a process stopped or attached.
func checkReleased(t *testing.T, pid int) {
	t.Helper()
	tids, err := listTasks(pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, tid := range tids {
		path := fmt.Sprintf("/proc/%d/task/%d/status", pid, tid)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if state, ok := strings.CutPrefix(line, "State:"); ok {
				if s := strings.TrimSpace(state); strings.HasPrefix(s, "t") || strings.HasPrefix(s, "T") {
					t.Errorf("thread %d left stopped: State %s", tid, s)
				}
			}
			if tracer, ok := strings.CutPrefix(line, "TracerPid:"); ok && strings.TrimSpace(tracer) != "0" {
				t.Errorf("thread %d still traced: TracerPid %s", tid, strings.TrimSpace(tracer))
			}
		}
	}
}

func checkFilters(t *testing.T, tf ThreadFilters, dir string, want ...int) {
	t.Helper()
	if tf.Mode != ModeFilter || tf.Count != len(want) || len(tf.Filters) != len(want) {
		t.Fatalf("thread %d: mode %v, count %d, %d filters; want filter, %d, %d", tf.TID, tf.Mode, tf.Count, len(tf.Filters), len(want), len(want))
	}
	for i, w := range want {
		lf := tf.Filters[i]
		if lf.Index != i {
			t.Errorf("thread %d filter %d: Index %d", tf.TID, i, lf.Index)
		}
		if got, exp := lf.Filter.Bytes(), readHelperFilter(t, dir, w); !bytes.Equal(got, exp) {
			t.Errorf("thread %d filter %d: read %x, helper attached %x (file %d.bpf)", tf.TID, i, got, exp, w)
		}
	}
}

func TestReadProcessOneFilter(t *testing.T) {
	dir := t.TempDir()
	cmd := startHelper(t, "-n", "1", "-o", dir)
	pf, err := ReadProcess(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	checkReleased(t, cmd.Process.Pid)
	if pf.PID != cmd.Process.Pid || len(pf.Threads) != 1 || pf.Threads[0].TID != pf.PID {
		t.Fatalf("got %+v, want one thread %d", pf, cmd.Process.Pid)
	}
	checkFilters(t, pf.Threads[0], dir, 0)
	if pf.Threads[0].Filters[0].Log {
		t.Error("Log set for a filter attached without SECCOMP_FILTER_FLAG_LOG")
	}
	if s := pf.Threads[0].Stack(); len(s) != 1 || s.Run(&bytecode.Data{Nr: 0x3ff0}) != bytecode.ActErrno|1 {
		t.Errorf("Stack: %d filters, returns %v for nr 0x3ff0; want 1, ERRNO(1)", len(s), s.Run(&bytecode.Data{Nr: 0x3ff0}))
	}
}

func TestReadProcessStackedOldestFirst(t *testing.T) {
	dir := t.TempDir()
	cmd := startHelper(t, "-n", "3", "-o", dir)
	pf, err := ReadProcess(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	checkReleased(t, cmd.Process.Pid)
	checkFilters(t, pf.Threads[0], dir, 0, 1, 2)
}

func TestReadProcessLogFlag(t *testing.T) {
	dir := t.TempDir()
	cmd := startHelper(t, "-n", "2", "-l", "-o", dir)
	pf, err := ReadProcess(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	checkFilters(t, pf.Threads[0], dir, 0, 1)
	for _, lf := range pf.Threads[0].Filters {
		if !lf.Log {
			t.Errorf("filter %d: Log not set for a filter attached with SECCOMP_FILTER_FLAG_LOG", lf.Index)
		}
	}
}

func TestReadProcessThreadWithOwnFilter(t *testing.T) {
	dir := t.TempDir()
	cmd := startHelper(t, "-n", "1", "-t", "-o", dir)
	pid := cmd.Process.Pid
	pf, err := ReadProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	checkReleased(t, pid)
	if len(pf.Threads) != 2 {
		t.Fatalf("%d threads, want 2", len(pf.Threads))
	}
	// The main thread keeps filter 0; the second thread inherited it and
	// attached filter 1 on top.
	checkFilters(t, pf.Threads[0], dir, 0)
	checkFilters(t, pf.Threads[1], dir, 0, 1)
	if groups := pf.Groups(); len(groups) != 2 {
		t.Errorf("Groups: %d, want 2 (the threads' filters differ)", len(groups))
	}
}

// ReadLeaderContext stops and reads the leader only: the other thread,
// with a filter of its own, is neither read nor left traced.
func TestReadLeaderOnly(t *testing.T) {
	dir := t.TempDir()
	cmd := startHelper(t, "-n", "1", "-t", "-o", dir)
	pid := cmd.Process.Pid
	pf, err := ReadLeaderContext(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	checkReleased(t, pid)
	if len(pf.Threads) != 1 || pf.Threads[0].TID != pid {
		t.Fatalf("threads %+v, want the leader %d alone", pf.Threads, pid)
	}
	checkFilters(t, pf.Threads[0], dir, 0)
	if _, err := ReadLeaderContext(context.Background(), 1<<22+1); !errors.Is(err, ErrNoProcess) {
		t.Errorf("missing process: %v", err)
	}
}

func TestReadProcessIdenticalThreadsGroup(t *testing.T) {
	// The helper's threads differ by one filter; two copies of the main
	// thread's data must fall into one group with both TIDs kept.
	dir := t.TempDir()
	cmd := startHelper(t, "-n", "2", "-t", "-o", dir)
	pf, err := ReadProcess(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	main, other := pf.Threads[0], pf.Threads[0]
	other.TID = pf.Threads[1].TID
	pf2 := &ProcessFilters{PID: pf.PID, Threads: []ThreadFilters{main, other}}
	if g := pf2.Groups(); len(g) != 1 || len(g[0].TIDs) != 2 || g[0].TIDs[1] != other.TID {
		t.Errorf("Groups of identical threads: %+v, want one group of two", g)
	}
}

func TestReadProcessNoFilter(t *testing.T) {
	cmd := startHelper(t, "-n", "0")
	pf, err := ReadProcess(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(pf.Threads) != 1 || pf.Threads[0].Mode != ModeDisabled || pf.Threads[0].Count != 0 || len(pf.Threads[0].Filters) != 0 {
		t.Fatalf("got %+v, want one thread in mode disabled without filters", pf.Threads)
	}
	checkReleased(t, cmd.Process.Pid)
}

func TestReadProcessNonexistent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	data, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	max, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	// No process can have a pid above pid_max.
	_, err = ReadProcess(max + 1)
	if !errors.Is(err, ErrNoProcess) {
		t.Fatalf("pid %d: got %v, want ErrNoProcess", max+1, err)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(max+1)) {
		t.Errorf("error %q does not name the pid", err)
	}
}

func TestReadProcessAlreadyTraced(t *testing.T) {
	target := startHelper(t, "-n", "1")
	tracer := startHelper(t, "-T", strconv.Itoa(target.Process.Pid))
	_, err := ReadProcess(target.Process.Pid)
	if !errors.Is(err, ErrAlreadyTraced) {
		t.Fatalf("got %v, want ErrAlreadyTraced", err)
	}
	if !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EBUSY) {
		t.Errorf("error %q does not carry the errno", err)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(tracer.Process.Pid)) {
		t.Errorf("error %q does not name the tracer %d", err, tracer.Process.Pid)
	}
	// Once the tracer is gone the kernel detaches and the read works.
	tracer.Process.Kill()
	tracer.Wait()
	if _, err := ReadProcess(target.Process.Pid); err != nil {
		t.Fatalf("after the tracer exited: %v", err)
	}
	checkReleased(t, target.Process.Pid)
}

func TestReadProcessCanceled(t *testing.T) {
	cmd := startHelper(t, "-n", "1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadProcessContext(ctx, cmd.Process.Pid); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	checkReleased(t, cmd.Process.Pid)
}

func TestReadProcessSelf(t *testing.T) {
	if _, err := ReadProcess(os.Getpid()); err == nil {
		t.Fatal("reading the own process succeeded; ptrace cannot do that")
	}
}

// filteredReaderEnv makes TestReadProcessFilteredHelper attach a filter to
// itself and then try to read the pid in the variable.
const filteredReaderEnv = "BYTECODE_TEST_FILTERED_READER"

// TestReadProcessFilteredHelper is not a test: TestReadProcessCallerFiltered
// runs the test binary again with only this function selected.
func TestReadProcessFilteredHelper(t *testing.T) {
	pid, err := strconv.Atoi(os.Getenv(filteredReaderEnv))
	if err != nil {
		t.Skip("helper process of TestReadProcessCallerFiltered")
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	allow := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}
	prog := unix.SockFprog{Len: 1, Filter: &allow[0]}
	// TSYNC: every thread of the Go runtime, and those it starts later,
	// runs under the filter, as in a container.
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(allow)
	if errno != 0 {
		t.Fatalf("seccomp: %v", errno)
	}
	_, err = ReadProcess(pid)
	fmt.Printf("result: %v\n", err)
	if !errors.Is(err, ErrCallerFiltered) {
		t.Fatalf("got %v, want ErrCallerFiltered", err)
	}
}

func TestReadProcessCallerFiltered(t *testing.T) {
	target := startHelper(t, "-n", "1")
	cmd := exec.Command(os.Args[0], "-test.run=^TestReadProcessFilteredHelper$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), filteredReaderEnv+"="+strconv.Itoa(target.Process.Pid))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("reader under seccomp: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "runs under seccomp") {
		t.Errorf("reader under seccomp: message lacks the reason:\n%s", out)
	}
	checkReleased(t, target.Process.Pid)
}

// BenchmarkReadProcess reads a live process of two threads (filters 0 and
// 0, 1): for each thread the seize, the interrupt, the wait for its stop,
// the reads and the detach, as `seccomp-attest dump pid:` and the hooks do.
//
//	go test -run '^$' -bench ReadProcess -count 10 ./pkg/bytecode
func BenchmarkReadProcess(b *testing.B) {
	cmd := startHelper(b, "-n", "2", "-t")
	for b.Loop() {
		pf, err := ReadProcess(cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		if len(pf.Threads) != 2 {
			b.Fatalf("%d threads read, want 2", len(pf.Threads))
		}
	}
}
