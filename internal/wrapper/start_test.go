package wrapper

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/daemon/wire"
	"github.com/seccomp-attest/seccomp-attest/internal/execstop"
	"github.com/seccomp-attest/seccomp-attest/internal/runcargs"
	"github.com/seccomp-attest/seccomp-attest/internal/wrapper/front"
	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
)

// fakeInit is an init held at its exec stop that the test scripts: what
// WaitExec finds, and what the wrapper then did to it.
type fakeInit struct {
	filters  *procfilters.ProcessFilters
	waitErr  error
	released bool
	killed   bool
}

func (f *fakeInit) WaitExec(context.Context, <-chan struct{}) (*procfilters.ProcessFilters, error) {
	return f.filters, f.waitErr
}
func (f *fakeInit) Release() error             { f.released = true; return nil }
func (f *fakeInit) ReleaseUnchecked() error    { f.released = true; return nil }
func (f *fakeInit) Kill(context.Context) error { f.killed = true; return nil }
func (f *fakeInit) Close() error               { return nil }

// checkedStartWith runs the start check on a created container whose
// init is held by init, with the policy given and runtime standing in
// for the real runtime's start; it returns the exit status and stderr.
func checkedStartWith(t *testing.T, init *fakeInit, policy, runtime string) (int, string) {
	t.Helper()
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle")
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	// No linux.seccomp: the intended profile is unconfined too.
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(`{"ociVersion":"1.0.2","process":{"args":["true"]},"linux":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("policy: policy.yaml\nkey: keys/signing.key\nstore: store\nlog: \"-\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	h := &Host{Stdin: devnull, Stdout: devnull, Stderr: stderr, Dir: dir, Remote: true,
		Seize: func(int) (InitHolder, error) { return init, nil }}
	req := &wire.WrapperRequest{Command: "start", Options: runcargs.Options{ID: "c1"}, Args: []string{"c1"}, Config: cfg,
		Runtime: front.Runtime{Path: runtime, Argv0: filepath.Base(runtime), Name: front.RuntimeRunc}}
	inv := req.Invocation()
	w := &wrapper{inv: inv, opts: &req.Options, rt: &realRuntime{Runtime: &req.Runtime, host: h}, host: h, report: newReporter(inv, h)}
	code := w.checkedStart(&ociState{ID: "c1", Pid: 4242, Status: "created", Bundle: bundle}, inv.Argv())
	out, _ := os.ReadFile(stderr.Name())
	return code, string(out)
}

func unconfined() *procfilters.ProcessFilters {
	return &procfilters.ProcessFilters{PID: 4242, Threads: []procfilters.ThreadFilters{{TID: 4242, Mode: procfilters.ModeDisabled}}}
}

// An init whose filter the policy refuses is killed at its exec stop,
// before its first instruction, and start says why.
func TestCheckedStartRefusesAtTheExecStop(t *testing.T) {
	init := &fakeInit{filters: unconfined()}
	code, stderr := checkedStartWith(t, init, "mode: enforce\nbaselines: []\n", "/bin/true")
	if code != exitRefused || !init.killed || init.released || !strings.Contains(stderr, "refused before its first instruction") {
		t.Fatalf("exit %d, killed %v, released %v, stderr %q", code, init.killed, init.released, stderr)
	}
}

// One the policy passes is let go, and start's own status is the answer.
func TestCheckedStartReleasesWhatPasses(t *testing.T) {
	init := &fakeInit{filters: unconfined()}
	code, stderr := checkedStartWith(t, init, "mode: enforce\nbaselines: []\nallowUnconfined: true\n", "/bin/true")
	if code != 0 || init.killed || !init.released {
		t.Fatalf("exit %d, killed %v, released %v, stderr %q", code, init.killed, init.released, stderr)
	}
	init = &fakeInit{filters: unconfined()}
	if code, _ := checkedStartWith(t, init, "mode: enforce\nbaselines: []\nallowUnconfined: true\n", "/bin/false"); code != 1 || !init.released {
		t.Fatalf("start failing after the check: exit %d, released %v", code, init.released)
	}
}

// An init that died before its exec ran nothing: the runtime's answer
// stands, nothing is killed or let go.
func TestCheckedStartInitExited(t *testing.T) {
	init := &fakeInit{waitErr: execstop.ErrExited}
	code, _ := checkedStartWith(t, init, "mode: enforce\nbaselines: []\n", "/bin/false")
	if code != 1 || init.killed || init.released {
		t.Fatalf("exit %d, killed %v, released %v", code, init.killed, init.released)
	}
}
