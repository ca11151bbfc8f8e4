package execstop

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// installHelperEnv makes the test binary the program RunToInstalls runs:
// it installs installFilter on one locked thread, writes the marker file
// named by the variable, and sleeps if asked.
const installHelperEnv = "EXECSTOP_TEST_INSTALL_MARKER"

// installFilter: ERRNO(7) for getppid, ALLOW for the rest.
var installFilter = []bpf.Instruction{
	{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: bytecode.OffsetNr},
	{Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), Jf: 1, K: unix.SYS_GETPPID},
	{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActErrno | 7)},
	{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActAllow)},
}

func TestInstallHelper(t *testing.T) {
	marker := os.Getenv(installHelperEnv)
	if marker == "" {
		t.Skip("helper process of the RunToInstalls tests")
	}
	if os.Getenv("EXECSTOP_TEST_SLEEP") != "" {
		time.Sleep(time.Hour)
	}
	runtime.LockOSThread()
	raw := bpf.Encode(installFilter)
	prog := unix.SockFprog{Len: uint16(len(installFilter)), Filter: (*unix.SockFilter)(unsafe.Pointer(&raw[0]))}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)), 0, 0); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(raw)
	if err := os.WriteFile(marker, []byte("ran on"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Exit(0)
}

func installHelper(t *testing.T, marker string, extraEnv ...string) ([]string, []string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (ptrace, PTRACE_SECCOMP_GET_FILTER)")
	}
	env := append(os.Environ(), installHelperEnv+"="+marker)
	return []string{os.Args[0], "-test.run=^TestInstallHelper$", "-test.count=1"}, append(env, extraEnv...)
}

func TestRunToInstallsStopsAtTheInstall(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "marker")
	argv, env := installHelper(t, marker)
	in, err := RunToInstalls(context.Background(), argv, InstallOptions{Limit: 1, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if in.Installs != 1 || in.Exited || in.By == 0 || len(in.Processes) != 1 {
		t.Fatalf("%+v", in)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the program ran past its install")
	}
	found := false
	for _, th := range in.Processes[0].Threads {
		if th.TID != in.By {
			continue
		}
		found = true
		if len(th.Filters) != 1 || !bytes.Equal(th.Filters[0].Filter.Bytes(), bpf.Encode(installFilter)) {
			t.Fatalf("thread %d: %+v", th.TID, th)
		}
	}
	if !found {
		t.Fatalf("no thread %d in %+v", in.By, in.Processes[0].Threads)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(in.Processes[0].PID)); err == nil {
		t.Errorf("process %d still there", in.Processes[0].PID)
	}
}

func TestRunToInstallsAtExit(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "marker")
	argv, env := installHelper(t, marker)
	in, err := RunToInstalls(context.Background(), argv, InstallOptions{Limit: 2, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if in.Installs != 1 || !in.Exited {
		t.Fatalf("%+v", in)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatal("the program did not run to its end")
	}
}

func TestRunToInstallsBounds(t *testing.T) {
	argv, env := installHelper(t, filepath.Join(t.TempDir(), "marker"), "EXECSTOP_TEST_SLEEP=1")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := RunToInstalls(ctx, argv, InstallOptions{Limit: 1, Env: env})
	if err == nil || !strings.Contains(err.Error(), "stopped before its filter installs") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %s", d)
	}
	for _, tt := range []struct {
		argv []string
		opts InstallOptions
		want string
	}{
		{nil, InstallOptions{Limit: 1}, "no program to run"},
		{[]string{"/bin/true"}, InstallOptions{}, "limit 0"},
		{[]string{"/nonexistent/prog"}, InstallOptions{Limit: 1}, "no such file"},
	} {
		if _, err := RunToInstalls(context.Background(), tt.argv, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want %q", tt.argv, err, tt.want)
		}
	}
}
