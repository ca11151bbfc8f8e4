package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/daemon/wire"
	"github.com/seccomp-attest/seccomp-attest/internal/runcargs"
	"github.com/seccomp-attest/seccomp-attest/internal/wrapper/front"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
)

// serveOn starts Serve on a socket in a temporary directory and returns
// its path; the daemon stops when the test ends.
func serveOn(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "run", "hook.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := logrus.New()
	log.SetOutput(&strings.Builder{})
	go func() { done <- Serve(ctx, l, log) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after its context ended")
		}
	})
	return sock
}

func ask(t *testing.T, sock string, req wire.Request) wire.Response {
	t.Helper()
	conn, err := wire.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := wire.Exchange(conn, req, nil, time.Now().Add(wire.Backstop))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func hookRequest(h wire.HookRequest) wire.Request { return wire.Request{Kind: wire.KindHook, Hook: &h} }

// askRaw sends body as the request line, as a program other than ours
// might, and returns the answer.
func askRaw(t *testing.T, sock, body string) wire.Response {
	t.Helper()
	conn, err := wire.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte(body + "\n"))
	ack := make([]byte, 1)
	if _, err := io.ReadFull(conn, ack); err != nil || ack[0] != wire.Ack {
		t.Fatalf("no acknowledgement: %q %v", ack, err)
	}
	conn.Write([]byte{wire.Go})
	rc, _ := conn.SyscallConn()
	rc.Control(func(fd uintptr) { shutdownWrite(int(fd)) })
	answer, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	var resp wire.Response
	if err := json.Unmarshal(bytes.TrimLeft(answer, string(wire.Heartbeat)), &resp); err != nil {
		t.Fatalf("%v: %q", err, answer)
	}
	return resp
}

// The daemon answers what the hook would: a bad state or stage is the
// same clear error, in the response, as from a hook process.
func TestServeAnswersLikeTheHook(t *testing.T) {
	sock := serveOn(t)
	if st, err := os.Stat(filepath.Dir(sock)); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("socket directory: %v %v", st.Mode(), err)
	}
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("log: \"-\"\nmode: enforce\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp := ask(t, sock, hookRequest(wire.HookRequest{Stage: wire.StagePoststart, Config: cfg, State: []byte("not json")}))
	if resp.Exit == 0 || !strings.Contains(resp.Stderr, "container state on stdin: not an OCI state") {
		t.Errorf("bad state: %+v", resp)
	}
	resp = ask(t, sock, hookRequest(wire.HookRequest{Stage: "prestop", Config: cfg}))
	if resp.Exit != exitError || !strings.Contains(resp.Stderr, `unknown stage "prestop"`) {
		t.Errorf("bad stage: %+v", resp)
	}
}

// A request that is not one is refused, and the daemon goes on serving.
func TestServeRefusesGarbage(t *testing.T) {
	sock := serveOn(t)
	resp := askRaw(t, sock, "{not a request")
	if resp.Exit != exitError || !strings.Contains(resp.Stderr, "not one") {
		t.Errorf("garbage: %+v", resp)
	}
	if resp := ask(t, sock, hookRequest(wire.HookRequest{Stage: "prestop"})); resp.Exit != exitError {
		t.Errorf("after garbage: %+v", resp)
	}
}

// A second daemon on a live socket is refused; a stale socket file (its
// daemon gone) is replaced.
func TestListenOnePerSocket(t *testing.T) {
	sock := serveOn(t)
	if _, err := Listen(sock); err == nil || !strings.Contains(err.Error(), "another daemon is listening") {
		t.Errorf("second daemon: %v", err)
	}
	stale := filepath.Join(t.TempDir(), "stale.sock")
	l, err := Listen(stale)
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Stat(stale); err != nil {
		t.Fatalf("the stale socket file should remain: %v", err)
	}
	l, err = Listen(stale)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	l.Close()
}

func TestTakeSocketFlag(t *testing.T) {
	rest, sock := wire.TakeSocketFlag([]string{"--config", "c", "--socket=/x.sock", "poststart"})
	if sock != "/x.sock" || strings.Join(rest, " ") != "--config c poststart" {
		t.Errorf("%q %q", rest, sock)
	}
	if _, sock := wire.TakeSocketFlag([]string{"poststart"}); sock != wire.DefaultSocket {
		t.Errorf("default: %q", sock)
	}
}

func shutdownWrite(fd int) { unix.Shutdown(fd, unix.SHUT_WR) }

// A wrapper-runc request comes with its stdio; a command it does not check
// is handed back as the real runtime to execute, with the wrapper's flags
// taken out.
func TestServeWrapperRequests(t *testing.T) {
	sock := serveOn(t)
	resp := ask(t, sock, wire.Request{Kind: wire.KindWrapper, Wrapper: &wire.WrapperRequest{Command: "create"}})
	if resp.Exit != exitError || !strings.Contains(resp.Stderr, "not 0 descriptors") {
		t.Errorf("without stdio: %+v", resp)
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("needs runc")
	}
	conn, err := wire.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	rt := front.Runtime{Path: runc, Argv0: runc, Name: front.RuntimeRunc}
	req := wire.Request{Kind: wire.KindWrapper, Wrapper: &wire.WrapperRequest{Command: "create", GlobalArgs: []string{"--debug"},
		Global: runcargs.Global{Debug: true}, Options: runcargs.Options{Help: true}, Args: []string{"--help"}, Runtime: rt, Dir: t.TempDir()}}
	resp, err = wire.Exchange(conn, req, []*os.File{devnull, devnull, devnull}, time.Now().Add(wire.Backstop))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Exec == nil || resp.Exec.Path != runc || strings.Join(resp.Exec.Argv, " ") != runc+" --debug create --help" {
		t.Errorf("create --help: %+v %+v", resp, resp.Exec)
	}
	// run is never the daemon's: its init must be the caller's child.
	conn, err = wire.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var stderr bytes.Buffer
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	req = wire.Request{Kind: wire.KindWrapper, Wrapper: &wire.WrapperRequest{Command: "run", Options: runcargs.Options{ID: "x"}, Args: []string{"x"}, Runtime: rt, Dir: t.TempDir()}}
	resp, err = wire.Exchange(conn, req, []*os.File{devnull, devnull, w}, time.Now().Add(wire.Backstop))
	w.Close()
	stderr.ReadFrom(r)
	if err != nil || resp.Exit != exitError || resp.Exec != nil || !strings.Contains(stderr.String(), "run is checked in the wrapper's own process") {
		t.Errorf("run: %+v, %v, stderr %q", resp, err, stderr.String())
	}
	if resp := askRaw(t, sock, `{"kind":"other"}`); resp.Exit != exitError || !strings.Contains(resp.Stderr, "unknown request kind") {
		t.Errorf("unknown kind: %+v", resp)
	}
}

// A program that connects and sends nothing, or half a request, is cut
// off after the request window; the daemon serves on.
func TestServeSurvivesSilentAndPartialPeers(t *testing.T) {
	sock := serveOn(t)
	for _, send := range []string{"", `{"args":["poststart"]`} {
		conn, err := wire.Dial(sock)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(send))
		conn.SetReadDeadline(time.Now().Add(2 * requestWindow))
		body, _ := io.ReadAll(conn)
		conn.Close()
		if send != "" && !strings.Contains(string(body), "read the request") {
			t.Errorf("partial request %q: answered %q", send, body)
		}
	}
	if resp := ask(t, sock, hookRequest(wire.HookRequest{Stage: "prestop"})); resp.Exit != exitError || !strings.Contains(resp.Stderr, "unknown stage") {
		t.Errorf("after silent peers: %+v", resp)
	}
}

// One daemon, two requests, the policy file changed in between: the
// second decision follows the new policy. The key replaced in between:
// the new key signs. Nothing the daemon keeps loaded outlives its file.
func TestServeFollowsChangedPolicyAndKey(t *testing.T) {
	sock := serveOn(t)
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle")
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	// No linux.seccomp: unconfined, which only allowUnconfined lets pass.
	writeTestFile(t, filepath.Join(bundle, "config.json"), `{"ociVersion":"1.0.2","process":{"args":["true"]},"linux":{}}`)
	policy := filepath.Join(dir, "policy.yaml")
	writeTestFile(t, policy, "mode: enforce\nbaselines: []\n")
	cfg := filepath.Join(dir, "config.yaml")
	writeTestFile(t, cfg, "policy: policy.yaml\nkey: keys/signing.key\nstore: store\nlog: \"-\"\n")
	state := func(id string) []byte {
		return []byte(`{"ociVersion":"1.0.2","id":"` + id + `","status":"creating","pid":1,"bundle":"` + bundle + `"}`)
	}
	create := func(id string) wire.Response {
		return ask(t, sock, hookRequest(wire.HookRequest{Stage: wire.StageCreateRuntime, Config: cfg, State: state(id)}))
	}
	if resp := create("c1"); resp.Exit != 1 || !strings.Contains(resp.Stderr, "refused by policy") {
		t.Fatalf("unconfined under a policy that refuses it: %+v", resp)
	}
	writeTestFile(t, policy, "mode: enforce\nbaselines: []\nallowUnconfined: true\n")
	if resp := create("c2"); resp.Exit != 0 {
		t.Fatalf("unconfined after the policy allowed it: %+v", resp)
	}

	stop := func(id string) string {
		resp := ask(t, sock, hookRequest(wire.HookRequest{Stage: wire.StagePoststop, Config: cfg, State: state(id)}))
		if resp.Exit != 0 {
			t.Fatalf("poststop %s: %+v", id, resp)
		}
		// Answered once spooled: in the store once handed on.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		pipeline.FinishHandOffs(ctx)
		return signedBy(t, filepath.Join(dir, "store"), id)
	}
	keyFile := filepath.Join(dir, "keys", attest.PrivateKeyFile)
	first := stop("c3")
	if want := keyIDOf(t, keyFile); first != want {
		t.Fatalf("signed by %s, want the configured key %s", first, want)
	}
	other := t.TempDir()
	if _, _, err := attest.GenerateKey(attest.KeyECDSAP256, other); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(other, attest.PrivateKeyFile), keyFile); err != nil {
		t.Fatal(err)
	}
	second := stop("c4")
	if want := keyIDOf(t, keyFile); second != want || second == first {
		t.Fatalf("after the key was replaced: signed by %s, want the new key %s (old %s)", second, want, first)
	}
}

func writeTestFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// signedBy is the key id of the store's attestation for container id.
func signedBy(t *testing.T, store, id string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(store, "*-"+id+".intoto.jsonl"))
	if len(files) != 1 {
		t.Fatalf("attestations of %s in the store: %v", id, files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Signatures []struct {
			KeyID string `json:"keyid"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(data, &env); err != nil || len(env.Signatures) != 1 {
		t.Fatalf("envelope of %s: %v", id, err)
	}
	return env.Signatures[0].KeyID
}

func keyIDOf(t *testing.T, keyFile string) string {
	t.Helper()
	s, err := attest.LoadSigner(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := s.KeyID()
	return id
}
