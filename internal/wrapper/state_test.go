package wrapper

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/wrapper/front"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// createdState must agree with `runc state` on a real created container,
// and give up (ok false) where it cannot be sure.
func TestCreatedStateAgreesWithRunc(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("needs runc")
	}
	rootfs := "/var/lib/seccomp-attest-test/rootfs"
	if _, err := os.Stat(rootfs); err != nil {
		t.Skip("needs the busybox rootfs (scripts/setup-host.sh)")
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	bundle := filepath.Join(dir, "bundle")
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(runc, "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		t.Fatalf("runc spec: %v %s", err, out)
	}
	cfgPath := filepath.Join(bundle, "config.json")
	var cfg map[string]any
	b, _ := os.ReadFile(cfgPath)
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["root"] = map[string]any{"path": rootfs, "readonly": true}
	cfg["process"].(map[string]any)["args"] = []string{"true"}
	cfg["process"].(map[string]any)["terminal"] = false
	b, _ = json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("wrapper-state-%d", os.Getpid())
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	create := exec.Command(runc, "--root", root, "create", "--bundle", bundle, id)
	create.Stdout, create.Stderr = out, out
	if err := create.Run(); err != nil {
		t.Fatalf("runc create: %v", err)
	}
	t.Cleanup(func() { exec.Command(runc, "--root", root, "delete", "--force", id).Run() })

	rt := &realRuntime{Runtime: &front.Runtime{Path: runc, Argv0: "runc", Name: spec.RuntimeRunc}, host: ProcessHost("wrapper-runc", "")}
	got, ok := rt.createdState(root, id)
	if !ok {
		t.Fatal("createdState: not ok on a created runc container")
	}
	want, err := rt.state([]string{"--root", root}, id)
	if err != nil {
		t.Fatal(err)
	}
	want.Annotations = nil // read from the bundle by the pipeline
	if !reflect.DeepEqual(got, want) {
		t.Errorf("createdState = %+v, runc state = %+v", got, want)
	}

	// Cases where it must defer to `runc state`.
	if _, ok := rt.createdState(root, "../"+id); ok {
		t.Error("an id with a path separator was read")
	}
	if _, ok := (&realRuntime{Runtime: &front.Runtime{Name: spec.RuntimeCrun}, host: ProcessHost("wrapper-runc", "")}).createdState(root, id); ok {
		t.Error("read runc's layout for crun")
	}
	// A state.json whose init started at another time: a reused pid.
	fake := filepath.Join(dir, "fake")
	if err := os.MkdirAll(filepath.Join(fake, id), 0o700); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(root, id, "state.json"))
	data = []byte(strings.Replace(string(data), `"init_process_start":`, `"init_process_start":1`, 1))
	os.WriteFile(filepath.Join(fake, id, "state.json"), data, 0o600)
	os.WriteFile(filepath.Join(fake, id, "exec.fifo"), nil, 0o600)
	if _, ok := rt.createdState(fake, id); ok {
		t.Error("a state.json with another start time was trusted")
	}

	// Started, the container is no longer "created".
	if out, err := exec.Command(runc, "--root", root, "start", id).CombinedOutput(); err != nil {
		t.Fatalf("runc start: %v %s", err, out)
	}
	if _, ok := rt.createdState(root, id); ok {
		t.Error("a started container still reads as created")
	}
}

// With crun behind it, a command line runc's grammar refuses is refused
// when it may hide a create, run or start (crun has global flags runc
// lacks), and would be passed on otherwise.
func TestUnparsableUnderCrun(t *testing.T) {
	crun, err := exec.LookPath("crun")
	if err != nil {
		t.Skip("needs crun")
	}
	argv := []string{"--" + flagRuntime + "=" + crun, "--log=" + filepath.Join(t.TempDir(), "log.json"), "--cgroup-manager=cgroupfs", "start", "x"}
	// run returns here: the refusal does not exec the runtime.
	if code := Run(argv, ProcessHost("wrapper-runc", "")); code != exitRefused {
		t.Errorf("Run(%q) = %d, want %d", argv, code, exitRefused)
	}
}
