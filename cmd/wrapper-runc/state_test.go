package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/runcargs"
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

	rt := &realRuntime{path: runc, argv0: "runc", name: spec.RuntimeRunc}
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
	if _, ok := (&realRuntime{name: spec.RuntimeCrun}).createdState(root, id); ok {
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

func TestStripWrapperFlags(t *testing.T) {
	rt := &realRuntime{}
	got := rt.stripWrapperFlags(strings.Fields("--seccomp-attest-config=/c --seccomp-attest-runtime /r --bogus -seccomp-attest-config=/d state x"))
	if want := []string{"--bogus", "state", "x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("stripWrapperFlags = %q, want %q", got, want)
	}
}

// The wrapper installed as "runc" must not find itself as the real runtime.
func TestFindRuntimeRefusesItself(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := runcargs.Parse([]string{"--" + flagRuntime + "=" + self, "state", "x"}, flagConfig, flagRuntime)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := findRuntime(inv); err == nil || !strings.Contains(err.Error(), "is this wrapper") {
		t.Errorf("findRuntime(self) = %v, want a refusal", err)
	}
	inv.Extra[flagRuntime] = "/nonexistent/runc"
	if _, err := findRuntime(inv); err == nil {
		t.Error("findRuntime of a missing runtime succeeded")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	inv.Extra[flagRuntime] = sh
	rt, err := findRuntime(inv)
	if err != nil || rt.name != spec.RuntimeRunc || rt.argv0 != sh {
		t.Errorf("findRuntime(%s) = %+v, %v", sh, rt, err)
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
	if code := run(argv); code != exitRefused {
		t.Errorf("run(%q) = %d, want %d", argv, code, exitRefused)
	}
	if mentionsChecked([]string{"--cgroup-manager=cgroupfs", "state", "x"}) {
		t.Error("state taken for a checked command")
	}
}

// runc is found in the usual directories even with a PATH that lacks them.
func TestFindRuntimeWithShortPath(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/runc"); err != nil {
		t.Skip("runc is not in /usr/sbin here")
	}
	t.Setenv("PATH", "/nonexistent")
	inv, err := runcargs.Parse([]string{"delete", "x"}, flagConfig, flagRuntime)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := findRuntime(inv)
	if err != nil || rt.path != "/usr/sbin/runc" || rt.argv0 != "runc" {
		t.Fatalf("findRuntime with PATH=/nonexistent: %+v, %v", rt, err)
	}
}
