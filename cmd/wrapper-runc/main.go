// Command wrapper-runc stands in for runc (or crun) and refuses to start
// containers whose effective seccomp filter is weaker than the policy
// (internal/wrapper; register it as a Docker runtime, packaging/docker).
//
// This program is small on purpose: Docker runs the runtime several times
// per container (create, start, delete, delete), and the commands it does
// not check it only hands to the real runtime, with the same argv minus
// its own flags. For create and start it asks seccomp-attestd over its
// socket (a process that is already running checks, on this program's
// stdio), and when none answers, or for run, it becomes `seccomp-attestd
// wrapper-runc`, which checks in this process.
//
// Its own flags come first (Docker's daemon.json "runtimeArgs"):
//
//	--seccomp-attest-config=FILE    configuration (default /etc/seccomp-attest/config.yaml)
//	--seccomp-attest-runtime=PATH   the real runtime (default runc on PATH; crun
//	                                when called through a link named wrapper-crun)
//	--seccomp-attest-socket=PATH    seccomp-attestd's socket (default /run/seccomp-attest/hook.sock)
package main

import (
	"fmt"
	"os"

	"github.com/seccomp-attest/seccomp-attest/internal/daemon/wire"
	"github.com/seccomp-attest/seccomp-attest/internal/runcargs"
	"github.com/seccomp-attest/seccomp-attest/internal/wrapper/front"
)

const exitError = 2

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(argv []string) int {
	self, _ := os.Executable()
	inv, err := runcargs.Parse(argv, front.Flags...)
	if err == nil && !inv.Checked() {
		// Not create, run or start: the real runtime's business alone.
		if rt, ferr := front.FindRuntime(inv, os.Args[0], self); ferr == nil {
			err := rt.Exec(inv.Argv())
			fmt.Fprintf(os.Stderr, "wrapper-runc: %v\n", err)
			return exitError
		}
	}
	// Everything else (a check, or an error to report as the wrapper
	// does) is seccomp-attestd's.
	return checked(argv, inv, self)
}

// execChecker becomes `seccomp-attestd wrapper-runc`: the check in this
// process (same pid, stdio, environment and signals).
func execChecker(argv []string, inv *runcargs.Invocation, self string) int {
	err := wire.ExecDaemon(self, append([]string{"wrapper-runc", "--argv0=" + os.Args[0], "--self=" + self, "--"}, argv...)...)
	return refuse(inv, fmt.Sprintf("seccomp-attest: wrapper-runc cannot check: %v (refused)", err))
}
