// Package wrapper is wrapper-runc's check of create, start and run: it
// stands in for runc (or crun) and refuses containers whose effective
// seccomp filter is weaker than the policy.
//
// It parses runc's command line exactly (internal/runcargs) and, for every
// command but create, run and start, executes the real runtime in its
// place with the same argv minus its own flags, so stdout, exit codes, fds
// and signals are the runtime's own:
//
//	create, run  the bundle's intended profile is judged by the policy
//	             before anything of the container exists
//	start        the container's init is held at its exec stop: the filter
//	             the kernel enforces is read, judged and attested, then the
//	             program is let go or killed before its first instruction
//
// Run does this for the wrapper program's process (seccomp-attestd
// wrapper-runc, which the program becomes), and Check does it for create
// and start as a wrapper program that asked seccomp-attestd over its
// socket parsed them: the Host says whose stdio, environment and
// directory the commands use, and how the program becomes the real
// runtime.
package wrapper

import (
	"errors"
	"fmt"

	"github.com/seccomp-attest/seccomp-attest/internal/daemon/wire"
	"github.com/seccomp-attest/seccomp-attest/internal/runcargs"
	"github.com/seccomp-attest/seccomp-attest/internal/wrapper/front"
)

// The wrapper's own flags, removed before the real runtime sees argv.
const (
	flagConfig  = front.FlagConfig
	flagRuntime = front.FlagRuntime
)

// Exit codes of the wrapper's own answers; the real runtime's codes pass
// through unchanged.
const (
	exitRefused = 1
	exitError   = 2
)

// Run is wrapper-runc with argv (its arguments, without the program name)
// for the caller h describes; it returns the exit status, after h.Exec
// when the real runtime is to take over.
func Run(argv []string, h *Host) int {
	inv, err := runcargs.Parse(argv, front.Flags...)
	if err != nil && (inv == nil || !errors.Is(err, runcargs.ErrSyntax)) {
		// A malformed wrapper flag: the setup is wrong, nothing to pass on.
		fmt.Fprintf(h.Stderr, "wrapper-runc: %v\n", err)
		return exitError
	}
	frt, rerr := front.FindRuntime(inv, h.Argv0, h.Self)
	if rerr != nil {
		newReporter(inv, h).error(rerr)
		return exitError
	}
	rt := &realRuntime{Runtime: frt, host: h}
	if err != nil {
		if rt.SameGrammar() || !front.MentionsChecked(argv) {
			// runc refuses these global flags too (or nothing would be
			// checked anyway): the runtime's own answer.
			return rt.exec(front.StripWrapperFlags(argv))
		}
		// crun has global flags runc lacks: a create, run or start behind
		// them cannot be found for sure, so it does not run unchecked.
		newReporter(inv, h).refuse(fmt.Errorf("seccomp-attest: cannot parse %q as runc does: %v", argv, err))
		return exitRefused
	}
	if !inv.Checked() {
		return rt.exec(inv.Argv())
	}
	opts, err := inv.CommandOptions()
	if err != nil {
		if rt.SameGrammar() {
			// The real runtime refuses the same argv: its error, its way.
			return rt.exec(inv.Argv())
		}
		// Another grammar (crun) might accept what runc's refuses: do not
		// let a command run unchecked.
		newReporter(inv, h).refuse(fmt.Errorf("seccomp-attest: cannot parse %q %q as runc does: %v", inv.Command, inv.Args, err))
		return exitRefused
	}
	if opts.Help {
		return rt.exec(inv.Argv())
	}
	w := &wrapper{inv: inv, opts: opts, rt: rt, host: h, report: newReporter(inv, h)}
	switch inv.Command {
	case "create":
		return w.create()
	case "start":
		return w.start()
	case "run":
		if h.Remote {
			// run's init must be the caller's child, waited for by the
			// caller as a subreaper: never in a daemon's process.
			newReporter(inv, h).error(errors.New("wrapper-runc: run is checked in the wrapper's own process, not by seccomp-attestd"))
			return exitError
		}
		return w.run()
	}
	return rt.exec(inv.Argv())
}

// Check is create or start as the wrapper program parsed its command line
// (seccomp-attestd's request): the check Run makes of them, with nothing
// left to parse. run is never checked this way: its init must be the
// caller's child, waited for by the caller as a subreaper.
func Check(req *wire.WrapperRequest, h *Host) int {
	inv := req.Invocation()
	report := newReporter(inv, h)
	rt := req.Runtime
	w := &wrapper{inv: inv, opts: &req.Options, rt: &realRuntime{Runtime: &rt, host: h}, host: h, report: report}
	switch {
	case req.Command == "run":
		report.error(errors.New("wrapper-runc: run is checked in the wrapper's own process, not by seccomp-attestd"))
		return exitError
	case req.Command != "create" && req.Command != "start":
		report.error(fmt.Errorf("wrapper-runc: seccomp-attestd checks create and start, not %q", req.Command))
		return exitError
	case req.Options.Help:
		return w.rt.exec(inv.Argv())
	case req.Command == "create":
		return w.create()
	}
	return w.start()
}

// wrapper is one checked invocation.
type wrapper struct {
	inv    *runcargs.Invocation
	opts   *runcargs.Options
	rt     *realRuntime
	host   *Host
	report *reporter
	// startArgv is the real runtime's start command line (start, or the
	// start half of an emulated run).
	startArgv []string
}

// realRuntime is the runtime the wrapper stands in for, run for h.
type realRuntime struct {
	*front.Runtime
	host *Host
}

// exec has the real runtime take over argv for the caller.
func (rt *realRuntime) exec(argv []string) int {
	return rt.host.exec(rt.Runtime, argv)
}
