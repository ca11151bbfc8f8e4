// Command wrapper-runc stands in for runc (or crun) and refuses to start
// containers whose effective seccomp filter is weaker than the policy.
//
// Register it as a Docker runtime (packaging/docker/README.md). It parses
// runc's command line exactly (pkg/runcargs) and, for every command but
// create, run and start, executes the real runtime in its place with the
// same argv minus its own flags, so stdout, exit codes, fds and signals are
// the runtime's own:
//
//	create, run  the bundle's intended profile is judged by the policy
//	             before anything of the container exists
//	start        the container's init is held at its exec stop: the filter
//	             the kernel enforces is read, judged and attested, then the
//	             program is let go or killed before its first instruction
//
// Its own flags come first (Docker's daemon.json "runtimeArgs"):
//
//	--seccomp-attest-config=FILE    configuration (default /etc/seccomp-attest/config.yaml)
//	--seccomp-attest-runtime=PATH   the real runtime (default runc on PATH; crun
//	                                when called through a link named wrapper-crun)
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/pkg/runcargs"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// The wrapper's own flags, removed before the real runtime sees argv.
const (
	flagConfig  = "seccomp-attest-config"
	flagRuntime = "seccomp-attest-runtime"
)

// Exit codes of the wrapper's own answers; the real runtime's codes pass
// through unchanged.
const (
	exitRefused = 1
	exitError   = 2
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(argv []string) int {
	inv, err := runcargs.Parse(argv, flagConfig, flagRuntime)
	if err != nil && (inv == nil || !errors.Is(err, runcargs.ErrSyntax)) {
		// A malformed wrapper flag: the setup is wrong, nothing to pass on.
		fmt.Fprintf(os.Stderr, "wrapper-runc: %v\n", err)
		return exitError
	}
	rt, rerr := findRuntime(inv)
	if rerr != nil {
		newReporter(inv).error(rerr)
		return exitError
	}
	if err != nil {
		if rt.sameGrammar() || !mentionsChecked(argv) {
			// runc refuses these global flags too (or nothing would be
			// checked anyway): the runtime's own answer.
			return rt.exec(rt.stripWrapperFlags(argv))
		}
		// crun has global flags runc lacks: a create, run or start behind
		// them cannot be found for sure, so it does not run unchecked.
		newReporter(inv).refuse(fmt.Errorf("seccomp-attest: cannot parse %q as runc does: %v", argv, err))
		return exitRefused
	}
	if !inv.Checked() {
		return rt.exec(inv.Argv())
	}
	opts, err := inv.CommandOptions()
	if err != nil {
		if rt.sameGrammar() {
			// The real runtime refuses the same argv: its error, its way.
			return rt.exec(inv.Argv())
		}
		// Another grammar (crun) might accept what runc's refuses: do not
		// let a command run unchecked.
		newReporter(inv).refuse(fmt.Errorf("seccomp-attest: cannot parse %q %q as runc does: %v", inv.Command, inv.Args, err))
		return exitRefused
	}
	if opts.Help {
		return rt.exec(inv.Argv())
	}
	w := &wrapper{inv: inv, opts: opts, rt: rt, report: newReporter(inv)}
	switch inv.Command {
	case "create":
		return w.create()
	case "start":
		return w.start()
	case "run":
		return w.run()
	}
	return rt.exec(inv.Argv())
}

// wrapper is one checked invocation.
type wrapper struct {
	inv    *runcargs.Invocation
	opts   *runcargs.Options
	rt     *realRuntime
	report *reporter
	// startArgv is the real runtime's start command line (start, or the
	// start half of an emulated run).
	startArgv []string
}

// realRuntime is the runtime the wrapper stands in for.
type realRuntime struct {
	path string
	// argv0 is the runtime as named (runc, or the configured path): runc
	// prints it in its messages, which must read as if runc ran alone.
	argv0 string
	// name is runc or crun: whose compilation of profiles is the intended
	// filter, and whose command-line grammar applies.
	name string
}

// findRuntime resolves --seccomp-attest-runtime, or runc on PATH; never
// the wrapper itself (installed as "runc", it would call itself forever).
func findRuntime(inv *runcargs.Invocation) (*realRuntime, error) {
	// Called through a link named like wrapper-crun, the default is crun:
	// a runtime path is all that podman keeps for its cleanup process,
	// which gets no runtime flags.
	want := "runc"
	if strings.Contains(filepath.Base(os.Args[0]), "crun") {
		want = "crun"
	}
	if inv.Extra[flagRuntime] != "" {
		want = inv.Extra[flagRuntime]
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
		return nil, fmt.Errorf("seccomp-attest: real runtime %q: %w (set --%s=PATH in runtimeArgs)", want, err, flagRuntime)
	}
	if path, err = filepath.Abs(path); err != nil {
		return nil, fmt.Errorf("seccomp-attest: real runtime %q: %w", want, err)
	}
	if self, err := os.Executable(); err == nil && sameFile(self, path) {
		return nil, fmt.Errorf("seccomp-attest: real runtime %s is this wrapper; set --%s=PATH to the real one", path, flagRuntime)
	}
	rt := &realRuntime{path: path, argv0: want, name: spec.RuntimeRunc}
	if filepath.Base(path) == "crun" {
		rt.name = spec.RuntimeCrun
	}
	return rt, nil
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// sameGrammar reports whether the real runtime parses its command line as
// runc does (and so refuses what runcargs refuses).
func (rt *realRuntime) sameGrammar() bool { return rt.name == spec.RuntimeRunc }

// exec replaces the wrapper with the real runtime: same pid, fds, signal
// dispositions and environment, so nothing of its behaviour changes.
func (rt *realRuntime) exec(argv []string) int {
	err := unix.Exec(rt.path, append([]string{rt.argv0}, argv...), os.Environ())
	fmt.Fprintf(os.Stderr, "wrapper-runc: exec %s: %v\n", rt.path, err)
	return exitError
}

// stripWrapperFlags removes the wrapper's own flags from an argv the
// parser refused, so the real runtime reports its own error on the rest.
func (rt *realRuntime) stripWrapperFlags(argv []string) []string {
	var out []string
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		stripped := false
		for _, f := range []string{flagConfig, flagRuntime} {
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

// mentionsChecked reports whether any argument could be create, run or
// start.
func mentionsChecked(argv []string) bool {
	for _, a := range argv {
		if a == "create" || a == "run" || a == "start" {
			return true
		}
	}
	return false
}
