package front

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/runcargs"
)

func TestStripWrapperFlags(t *testing.T) {
	got := StripWrapperFlags(strings.Fields("--seccomp-attest-config=/c --seccomp-attest-runtime /r --bogus -seccomp-attest-config=/d state x"))
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
	inv, err := runcargs.Parse([]string{"--" + FlagRuntime + "=" + self, "state", "x"}, FlagConfig, FlagRuntime)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FindRuntime(inv, "wrapper-runc", self); err == nil || !strings.Contains(err.Error(), "is this wrapper") {
		t.Errorf("findRuntime(self) = %v, want a refusal", err)
	}
	inv.Extra[FlagRuntime] = "/nonexistent/runc"
	if _, err := FindRuntime(inv, "wrapper-runc", self); err == nil {
		t.Error("findRuntime of a missing runtime succeeded")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	inv.Extra[FlagRuntime] = sh
	rt, err := FindRuntime(inv, "wrapper-runc", self)
	if err != nil || rt.Name != RuntimeRunc || rt.Argv0 != sh {
		t.Errorf("findRuntime(%s) = %+v, %v", sh, rt, err)
	}
}

// runc is found in the usual directories even with a PATH that lacks them.
func TestFindRuntimeWithShortPath(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/runc"); err != nil {
		t.Skip("runc is not in /usr/sbin here")
	}
	self, _ := os.Executable()
	t.Setenv("PATH", "/nonexistent")
	inv, err := runcargs.Parse([]string{"delete", "x"}, FlagConfig, FlagRuntime)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := FindRuntime(inv, "wrapper-runc", self)
	if err != nil || rt.Path != "/usr/sbin/runc" || rt.Argv0 != "runc" {
		t.Fatalf("findRuntime with PATH=/nonexistent: %+v, %v", rt, err)
	}
}

func TestMentionsChecked(t *testing.T) {
	if MentionsChecked([]string{"--cgroup-manager=cgroupfs", "state", "x"}) {
		t.Error("state taken for a checked command")
	}
	if !MentionsChecked([]string{"--cgroup-manager=cgroupfs", "start", "x"}) {
		t.Error("start not taken for a checked command")
	}
}

// Called through a link named like wrapper-crun, the default runtime is
// crun.
func TestFindRuntimeByLinkName(t *testing.T) {
	crun, err := exec.LookPath("crun")
	if err != nil {
		t.Skip("needs crun")
	}
	rt, err := FindRuntime(&runcargs.Invocation{Extra: map[string]string{}}, "/usr/bin/wrapper-crun", "")
	if err != nil || rt.Name != RuntimeCrun || rt.Argv0 != "crun" || filepath.Base(rt.Path) != filepath.Base(crun) {
		t.Errorf("FindRuntime via wrapper-crun: %+v, %v", rt, err)
	}
}
