package execstop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
)

// These tests hold real containers (runc, the busybox rootfs of
// scripts/setup-host.sh) at the exec stop of their init.

const rootfs = "/var/lib/seccomp-attest-test/rootfs"

// container is a runc container created from a bundle whose program
// writes a marker file into a host directory: the marker proves that the
// program ran.
type container struct {
	id, bundle, markerDir string
	pid                   int
}

func (c *container) marker() string { return filepath.Join(c.markerDir, "ran") }

func (c *container) ran() bool {
	_, err := os.Stat(c.marker())
	return err == nil
}

func requireRunc(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		t.Skip("needs runc")
	}
	if _, err := os.Stat(filepath.Join(rootfs, "bin", "busybox")); err != nil {
		t.Skip("needs the busybox rootfs: bash scripts/setup-host.sh")
	}
}

// createContainer runs `runc create` for a bundle under a one-rule seccomp
// profile (uname denied) and returns the container in its created state.
func createContainer(t *testing.T) *container {
	t.Helper()
	requireRunc(t)
	dir := t.TempDir()
	c := &container{
		id:        fmt.Sprintf("execstop-%d-%s", os.Getpid(), strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))),
		bundle:    filepath.Join(dir, "bundle"),
		markerDir: filepath.Join(dir, "marker"),
	}
	for _, d := range []string{c.bundle, c.markerDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("runc", "spec", "--bundle", c.bundle).CombinedOutput(); err != nil {
		t.Fatalf("runc spec: %v\n%s", err, out)
	}
	var cfg map[string]any
	raw, err := os.ReadFile(filepath.Join(c.bundle, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["root"] = map[string]any{"path": rootfs, "readonly": true}
	proc := cfg["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = []string{"/bin/sh", "-c", "echo ran > /marker/ran"}
	cfg["mounts"] = append(cfg["mounts"].([]any), map[string]any{
		"destination": "/marker", "type": "bind", "source": c.markerDir, "options": []string{"rbind", "rw"},
	})
	linux := cfg["linux"].(map[string]any)
	linux["seccomp"] = map[string]any{
		"defaultAction": "SCMP_ACT_ALLOW",
		"architectures": []string{"SCMP_ARCH_X86_64"},
		"syscalls":      []any{map[string]any{"names": []string{"uname"}, "action": "SCMP_ACT_ERRNO"}},
	}
	raw, err = json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.bundle, "config.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "init.pid")
	// The init inherits runc's stdio: a file, not a pipe that would keep
	// create's output open until the container ends.
	out, err := os.Create(filepath.Join(dir, "create.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	create := exec.Command("runc", "create", "--bundle", c.bundle, "--pid-file", pidFile, c.id)
	create.Stdout, create.Stderr = out, out
	if err := create.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("runc create: %v\n%s", err, b)
	}
	t.Cleanup(func() { exec.Command("runc", "delete", "--force", c.id).Run() })
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if c.pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
		t.Fatal(err)
	}
	return c
}

// createSeized is createContainer with its init seized.
func createSeized(t *testing.T) (*container, *Tracer) {
	t.Helper()
	c := createContainer(t)
	tr, err := Seize(c.pid)
	if err != nil {
		t.Fatal(err)
	}
	return c, tr
}

// start runs `runc start` in the background; the returned channel gets
// its result.
func (c *container) start() <-chan error {
	done := make(chan error, 1)
	go func() {
		// Bounded: a test that fails must not hang the package.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "runc", "start", c.id).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("runc start: %v: %s", err, out)
		}
		done <- err
	}()
	return done
}

func (c *container) status(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("runc", "state", c.id).Output()
	if err != nil {
		t.Fatalf("runc state: %v", err)
	}
	var st struct{ Status string }
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatal(err)
	}
	return st.Status
}

// waitStopped waits for the container to stop; it does not measure time.
func (c *container) waitStopped(t *testing.T) {
	t.Helper()
	for range 200 {
		if c.status(t) == "stopped" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("container %s did not stop", c.id)
}

// processState is the State: line of /proc/PID/status ("" when gone).
func processState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "State:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func waitExec(t *testing.T, tr *Tracer) *procfilters.ProcessFilters {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pf, err := tr.WaitExec(ctx, nil)
	if err != nil {
		t.Fatalf("WaitExec: %v", err)
	}
	return pf
}

func TestReleaseAtExecRunsTheProgram(t *testing.T) {
	c, tr := createSeized(t)
	defer tr.Close()
	started := c.start()
	pf := waitExec(t, tr)
	// Held at the exec stop: the filter is loaded, the program has not run.
	if !tr.AtExec() || !strings.HasPrefix(processState(c.pid), "t") {
		t.Fatalf("not held at the exec stop: AtExec %v, State %q", tr.AtExec(), processState(c.pid))
	}
	if c.ran() {
		t.Fatal("the program ran before the exec stop was released")
	}
	if len(pf.Threads) != 1 || pf.Threads[0].Mode != procfilters.ModeFilter || len(pf.Threads[0].Filters) != 1 {
		t.Fatalf("filters at the exec stop: %+v, want one thread with one filter", pf)
	}
	if got := pf.Threads[0].Stack().Run(&bytecode.Data{Nr: unix.SYS_UNAME, Arch: 0xc000003e}); got.Kind() != bytecode.ActErrno {
		t.Errorf("the filter read at the exec stop returns %v for uname, want ERRNO", got)
	}
	if err := tr.Release(); err != nil {
		t.Fatal(err)
	}
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	c.waitStopped(t)
	if !c.ran() {
		t.Error("released at the exec stop, the program did not run")
	}
}

func TestKillAtExecNothingRuns(t *testing.T) {
	c, tr := createSeized(t)
	defer tr.Close()
	started := c.start()
	waitExec(t, tr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	<-started
	c.waitStopped(t)
	if c.ran() {
		t.Error("killed at the exec stop, the program ran anyway")
	}
	if s := processState(c.pid); s != "" && !strings.HasPrefix(s, "Z") {
		t.Errorf("process %d still there after Kill: State %q", c.pid, s)
	}
}

func TestAbortBeforeExecLeavesTheContainerCreated(t *testing.T) {
	c, tr := createSeized(t)
	abort := make(chan struct{})
	close(abort)
	if _, err := tr.WaitExec(context.Background(), abort); !errors.Is(err, ErrAborted) {
		t.Fatalf("WaitExec with abort closed: %v, want ErrAborted", err)
	}
	if err := tr.Release(); err != nil {
		t.Fatal(err)
	}
	// Released untouched: still created, untraced, and it starts normally.
	if st := c.status(t); st != "created" {
		t.Fatalf("status %q after release, want created", st)
	}
	if s := processState(c.pid); strings.HasPrefix(s, "t") || strings.HasPrefix(s, "T") {
		t.Fatalf("left stopped: State %q", s)
	}
	if err := <-c.start(); err != nil {
		t.Fatal(err)
	}
	c.waitStopped(t)
	if !c.ran() {
		t.Error("the program did not run after a release before exec")
	}
}

func TestDeadlineThenCloseKills(t *testing.T) {
	c, tr := createSeized(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := tr.WaitExec(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitExec without start: %v, want a deadline error", err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	c.waitStopped(t)
	if c.ran() {
		t.Error("the program ran")
	}
}

func TestExitBeforeExec(t *testing.T) {
	c, tr := createSeized(t)
	defer tr.Close()
	if out, err := exec.Command("runc", "kill", c.id, "KILL").CombinedOutput(); err != nil {
		t.Fatalf("runc kill: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := tr.WaitExec(ctx, nil); !errors.Is(err, ErrExited) {
		t.Fatalf("WaitExec after SIGKILL: %v, want ErrExited", err)
	}
}

// Signals sent to the process while it is traced reach it as without a
// tracer: a shell's trap runs.
func TestSignalsPassThrough(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := t.TempDir()
	sh := exec.Command("/bin/sh", "-c", `trap 'echo usr1 > "$0"/usr1' USR1; : > "$0"/ready; while [ ! -e "$0"/go ]; do sleep 0.05; done; exec /bin/true`, dir)
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	// Not waited for until released: the wait of a parent would take the
	// tracee's stops (a container's init is never the wrapper's child).
	defer sh.Wait()
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
			break
		}
		if i == 400 {
			t.Fatal("the shell did not get ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	tr, err := Seize(sh.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := unix.Kill(sh.Process.Pid, unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() {
		for {
			if _, err := os.Stat(filepath.Join(dir, "usr1")); err == nil {
				os.WriteFile(filepath.Join(dir, "go"), nil, 0o644)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	pf, err := tr.WaitExec(ctx, nil)
	if err != nil {
		t.Fatalf("WaitExec: %v (the trap did not run?)", err)
	}
	if pf.Threads[0].Mode != procfilters.ModeDisabled {
		t.Errorf("mode %v, want disabled", pf.Threads[0].Mode)
	}
	if err := tr.Release(); err != nil {
		t.Fatal(err)
	}
	if err := sh.Wait(); err != nil {
		t.Errorf("the shell's exec of true: %v", err)
	}
}

// runToExecStop plays the tracer until the init sits at its exec stop and
// leaves that stop unreported (peeked with WNOWAIT) for the code under
// test. Other stops on the way are resumed as WaitExec would: runc's init
// is a Go program, whose runtime signals its threads (SIGURG), and an
// unserved signal stop would hold it before its exec forever.
func runToExecStop(t *testing.T, tr *Tracer) {
	t.Helper()
	for range 4000 {
		var atExec bool
		var err error
		tr.on(func() { atExec, err = tr.stepToExecStop() })
		if err != nil {
			t.Fatal(err)
		}
		if atExec {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("process %d never reached its exec stop: State %q", tr.pid, processState(tr.pid))
}

// si_code values of a stopped child (include/uapi/asm-generic/siginfo.h).
const (
	cldStopped = 5
	cldTrapped = 4
)

// stepToExecStop serves at most one pending stop of the tracee; it
// reports whether the pending stop is the exec stop, which it leaves
// waitable. It runs on the tracing thread.
func (t *Tracer) stepToExecStop() (bool, error) {
	// siginfo_t of waitid: si_code at 8, si_pid at 16, si_status at 24.
	var info [128]byte
	opts := unix.WEXITED | unix.WSTOPPED | unix.WNOHANG | unix.WNOWAIT | unix.WALL
	if _, _, errno := unix.Syscall6(unix.SYS_WAITID, unix.P_PID, uintptr(t.pid), uintptr(unsafe.Pointer(&info[0])), uintptr(opts), 0, 0); errno != 0 {
		return false, fmt.Errorf("waitid: %w", errno)
	}
	code := *(*int32)(unsafe.Pointer(&info[8]))
	pid := *(*int32)(unsafe.Pointer(&info[16]))
	status := *(*int32)(unsafe.Pointer(&info[24]))
	switch {
	case pid == 0:
		return false, nil
	case code != cldTrapped && code != cldStopped:
		return false, fmt.Errorf("process %d ended before its exec (si_code %d)", t.pid, code)
	case status == unix.PTRACE_EVENT_EXEC<<8|int32(unix.SIGTRAP):
		return true, nil
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(t.pid, &ws, unix.WALL|unix.WNOHANG, nil); err != nil {
		return false, fmt.Errorf("wait4: %w", err)
	}
	return false, t.resume(ws)
}

// An exec stop WaitExec did not report is never let go by Release: the
// program would run unchecked. Close then kills it.
func TestReleaseRefusesAnUncheckedExec(t *testing.T) {
	c, tr := createSeized(t)
	started := c.start()
	runToExecStop(t, tr)
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if err := tr.Release(); !errors.Is(err, ErrExecUnchecked) {
		t.Fatalf("Release at an unreported exec stop: %v, want ErrExecUnchecked", err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	c.waitStopped(t)
	if c.ran() {
		t.Error("the program ran")
	}
}

// Aborting once the exec stop is there still reports the exec stop: a
// start that failed after letting the init go does not skip the check.
func TestAbortAfterExecReportsTheExecStop(t *testing.T) {
	c, tr := createSeized(t)
	defer tr.Close()
	started := c.start()
	runToExecStop(t, tr)
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	abort := make(chan struct{})
	close(abort)
	pf, err := tr.WaitExec(context.Background(), abort)
	if err != nil || !tr.AtExec() {
		t.Fatalf("WaitExec with abort closed at the exec stop: %v (AtExec %v), want the exec stop", err, tr.AtExec())
	}
	if len(pf.Threads) != 1 || len(pf.Threads[0].Filters) != 1 {
		t.Fatalf("filters: %+v", pf)
	}
	if c.ran() {
		t.Fatal("the program ran before release")
	}
	if err := tr.Release(); err != nil {
		t.Fatal(err)
	}
	c.waitStopped(t)
	if !c.ran() {
		t.Error("released, the program did not run")
	}
}
