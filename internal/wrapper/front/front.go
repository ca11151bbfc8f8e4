// Package front is what wrapper-runc decides before it loads anything:
// its own flags, which real runtime stands behind it, and replacing itself
// with that runtime. The wrapper program (cmd/wrapper-runc) is small so
// that the commands it only passes on (state, delete, kill...) cost a
// container little; this package keeps it that way (standard library,
// x/sys/unix and internal/runcargs).
package front

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/runcargs"
)

// The wrapper's own flags, removed before the real runtime sees argv.
const (
	FlagConfig  = "seccomp-attest-config"
	FlagRuntime = "seccomp-attest-runtime"
	// FlagSocket names seccomp-attestd's socket (default
	// /run/seccomp-attest/hook.sock): create and start are checked there
	// when it answers, in a process of the wrapper's own otherwise.
	FlagSocket = "seccomp-attest-socket"
)

// Flags lists the wrapper's flags for runcargs.Parse.
var Flags = []string{FlagConfig, FlagRuntime, FlagSocket}

// Runtime names: the values of pkg/spec's RuntimeRunc and RuntimeCrun,
// whose compilation of profiles is the intended filter and whose
// command-line grammar applies.
const (
	RuntimeRunc = "runc"
	RuntimeCrun = "crun"
)

// Runtime is the runtime the wrapper stands in for.
type Runtime struct {
	Path string
	// Argv0 is the runtime as named (runc, or the configured path): runc
	// prints it in its messages, which must read as if runc ran alone.
	Argv0 string
	// Name is runc or crun.
	Name string
}

// FindRuntime resolves --seccomp-attest-runtime, or runc on PATH (crun
// when the wrapper was called through a link whose name holds "crun");
// never the wrapper itself, self (installed as "runc", it would call
// itself forever).
func FindRuntime(inv *runcargs.Invocation, argv0, self string) (*Runtime, error) {
	// Called through a link named like wrapper-crun, the default is crun:
	// a runtime path is all that podman keeps for its cleanup process,
	// which gets no runtime flags.
	want := RuntimeRunc
	if strings.Contains(filepath.Base(argv0), RuntimeCrun) {
		want = RuntimeCrun
	}
	if inv != nil && inv.Extra[FlagRuntime] != "" {
		want = inv.Extra[FlagRuntime]
	}
	path, err := exec.LookPath(want)
	if err != nil && !strings.Contains(want, "/") {
		// Callers with a short PATH (podman's cleanup process) still
		// find runc where distributions put it (Debian: /usr/sbin).
		for _, dir := range []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
			if p, lerr := exec.LookPath(filepath.Join(dir, want)); lerr == nil {
				path, err = p, nil
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("seccomp-attest: real runtime %q: %w (set --%s=PATH in runtimeArgs)", want, err, FlagRuntime)
	}
	if path, err = filepath.Abs(path); err != nil {
		return nil, fmt.Errorf("seccomp-attest: real runtime %q: %w", want, err)
	}
	if self != "" && sameFile(self, path) {
		return nil, fmt.Errorf("seccomp-attest: real runtime %s is this wrapper; set --%s=PATH to the real one", path, FlagRuntime)
	}
	rt := &Runtime{Path: path, Argv0: want, Name: RuntimeRunc}
	if filepath.Base(path) == RuntimeCrun {
		rt.Name = RuntimeCrun
	}
	return rt, nil
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// SameGrammar reports whether the real runtime parses its command line as
// runc does (and so refuses what runcargs refuses).
func (rt *Runtime) SameGrammar() bool { return rt.Name == RuntimeRunc }

// Exec replaces the calling process with the real runtime running argv:
// same pid, fds, signal dispositions and environment, so nothing of its
// behaviour changes. It returns only on failure.
func (rt *Runtime) Exec(argv []string) error {
	err := unix.Exec(rt.Path, append([]string{rt.Argv0}, argv...), os.Environ())
	return fmt.Errorf("exec %s: %w", rt.Path, err)
}

// StripWrapperFlags removes the wrapper's own flags from an argv the
// parser refused, so the real runtime reports its own error on the rest.
func StripWrapperFlags(argv []string) []string {
	var out []string
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		stripped := false
		for _, f := range Flags {
			switch {
			case a == "--"+f || a == "-"+f:
				i++
				stripped = true
			case strings.HasPrefix(a, "--"+f+"=") || strings.HasPrefix(a, "-"+f+"="):
				stripped = true
			}
		}
		if !stripped {
			out = append(out, a)
		}
	}
	return out
}

// MentionsChecked reports whether any argument could be create, run or
// start.
func MentionsChecked(argv []string) bool {
	for _, a := range argv {
		if a == "create" || a == "run" || a == "start" {
			return true
		}
	}
	return false
}

// LogError writes msg as an error line into the runtime's --log file
// (path), in its --log-format (json or text), the way runc writes its own
// errors: containerd and Docker read the last error of that file into the
// message the user sees ("OCI runtime create failed: ..."), and do not
// read stderr. Without --log (path "") it does nothing: stderr is the
// runtime's log then.
func LogError(path string, jsonFormat bool, msg string) error {
	if path == "" {
		return nil
	}
	now := time.Now().Format(time.RFC3339Nano)
	var line []byte
	if jsonFormat {
		line, _ = json.Marshal(struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Time  string `json:"time"`
		}{"error", msg, now})
	} else {
		line = fmt.Appendf(nil, "time=%q level=error msg=%q", now, msg)
	}
	// runc opens its log the same way (append, create, 0644).
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("--log %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("--log %s: %w", path, err)
	}
	return nil
}
