package main

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/daemon/wire"
)

// buildPair builds this program and seccomp-attestd side by side, as they
// are installed.
func buildPair(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds two programs")
	}
	// go test puts its own toolchain's bin first on PATH.
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for pkg, name := range map[string]string{".": "seccomp-attest-hook", "../seccomp-attestd": wire.DaemonName} {
		out, err := exec.Command(gocmd, "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, out)
		}
	}
	return filepath.Join(dir, "seccomp-attest-hook")
}

func runHook(t *testing.T, hook string, stdin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(hook, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stderr.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

// Without a daemon the hook program runs the hook itself, and a daemon
// that drops the request after the state was read does not lose it: the
// hook runs in a child with that state. Either way the answer is the
// hook's own (here: the state's error, then the unknown stage).
func TestFallbacks(t *testing.T) {
	hook := buildPair(t)
	none := filepath.Join(t.TempDir(), "none.sock")
	code, stderr := runHook(t, hook, "not json", "--socket="+none, "--log=-", "poststart")
	if code == 0 || !strings.Contains(stderr, "container state on stdin: not an OCI state") {
		t.Errorf("no daemon: %d %q", code, stderr)
	}

	// Read the request, then go away without an answer.
	sock := fakeDaemon(t, func(c net.Conn) { c.Read(make([]byte, 1<<16)) })
	code, stderr = runHook(t, hook, "not json", "--socket="+sock, "--log=-", "poststart")
	if code == 0 || !strings.Contains(stderr, `"fallback":"seccomp-attestd: receive: EOF"`) || !strings.Contains(stderr, "not an OCI state") {
		t.Errorf("dropped request: %d %q", code, stderr)
	}
	code, stderr = runHook(t, hook, "{}", "--socket="+sock, "prestop")
	if code != exitError || !strings.Contains(stderr, `unknown stage "prestop"`) {
		t.Errorf("dropped request, bad stage: %d %q", code, stderr)
	}

	// Without seccomp-attestd next to it or installed, it fails closed.
	lone := filepath.Join(t.TempDir(), "seccomp-attest-hook")
	data, err := os.ReadFile(hook)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lone, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/usr/libexec/seccomp-attest/" + wire.DaemonName); err == nil {
		t.Skip("seccomp-attestd is installed on this machine")
	}
	code, stderr = runHook(t, lone, "{}", "--socket="+none, "poststart")
	if code != exitError || !strings.Contains(stderr, "failing closed") {
		t.Errorf("no seccomp-attestd: %d %q", code, stderr)
	}
}

// A daemon that takes the connection but never acknowledges (stopped, or
// swamped) and one that acknowledges and then falls silent (stopped
// mid-request): the hook checks in its own process, saying why in the
// log, and does not wait for the backstop.
func TestStoppedAndStalledDaemons(t *testing.T) {
	hook := buildPair(t)
	for _, tc := range []struct {
		name string
		// serve plays the daemon on one connection.
		serve func(c net.Conn)
		want  string
	}{
		{"no acknowledgement", func(c net.Conn) {
			bufio.NewReader(c).ReadString('\n')
			time.Sleep(wire.Backstop)
		}, `"fallback":"seccomp-attestd did not acknowledge (no acknowledgement within 250ms)"`},
		{"silent after the acknowledgement", func(c net.Conn) {
			r := bufio.NewReader(c)
			r.ReadString('\n')
			c.Write([]byte{wire.Ack})
			r.ReadByte()
			c.Write([]byte{wire.Heartbeat})
			time.Sleep(wire.Backstop)
		}, `"fallback":"seccomp-attestd: stalled mid-request: silent for 2s"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock := fakeDaemon(t, tc.serve)
			code, stderr := runHook(t, hook, "not json", "--socket="+sock, "--log=-", "poststart")
			if code == 0 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "not an OCI state") {
				t.Errorf("%d %q, want the hook's own answer with %s", code, stderr, tc.want)
			}
		})
	}
}

// fakeDaemon listens on a socket of its own and plays seccomp-attestd on
// each connection with serve (the connection is closed after it).
func fakeDaemon(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "d.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return sock
}
