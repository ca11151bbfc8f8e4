package wrapper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/execstop"
	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
)

// InitHolder holds a container's init at its exec stop, where the filter
// the kernel enforces is read before the program's first instruction:
// execstop.Tracer. A test gives one whose init reaches the stop with
// filters of its choosing, exits, or is let go by a failed start.
type InitHolder interface {
	// WaitExec waits for the exec stop and reads the filters there; it
	// fails with execstop.ErrExited or execstop.ErrAborted (abort closed).
	WaitExec(ctx context.Context, abort <-chan struct{}) (*procfilters.ProcessFilters, error)
	// Release lets the init run; ReleaseUnchecked lets it run without a
	// check (audit mode); Kill ends it before its first instruction.
	Release() error
	ReleaseUnchecked() error
	Kill(ctx context.Context) error
	// Close kills an init still held.
	Close() error
}

// seizeInit holds pid at its exec stop: execstop.Seize.
func seizeInit(pid int) (InitHolder, error) { return execstop.Seize(pid) }

// start holds the container's init at its exec stop while the real
// runtime starts it, and lets the program run only if the filter the
// kernel enforces passes the policy. The attestation is written either way.
func (w *wrapper) start() int {
	st, ok := w.rt.createdState(w.inv.Global.Root, w.opts.ID)
	var err error
	if !ok {
		st, err = w.rt.state(w.inv.GlobalArgs, w.opts.ID)
	}
	if err != nil || st.Status != "created" || st.Pid <= 0 {
		// No such container, or not startable: the runtime's own answer.
		return w.rt.exec(w.inv.Argv())
	}
	return w.checkedStart(st, w.inv.Argv())
}

// checkedStart runs the real runtime's start (startArgv) on a created
// container with the effective check at the init's exec stop. Its result
// is start's exit status, or exitRefused.
func (w *wrapper) checkedStart(st *ociState, startArgv []string) int {
	w.startArgv = startArgv
	began := time.Now()
	c := pipeline.Container{ID: w.opts.ID, Bundle: st.Bundle, PID: st.Pid, Runtime: w.rt.Name, Annotations: st.Annotations}
	fields := w.fields(c)
	cfg, p, err := w.pipeline()
	if err != nil {
		w.report.refuse(fmt.Errorf("seccomp-attest: container %s: cannot check: %v", c.ID, err))
		return exitRefused
	}
	c.RuntimeVersion = pipeline.RuntimeVersion(w.rt.Path, cfg.Store)
	defer w.report.close()
	ctx, cancel := w.host.context(time.Duration(cfg.Deadline))
	defer cancel()

	seize := w.host.Seize
	if seize == nil {
		seize = seizeInit
	}
	tr, err := seize(c.PID)
	if err != nil {
		return w.unchecked(p, c, fmt.Errorf("hold the init at its exec stop: %w", err), nil)
	}
	// Every path below releases or kills; Close kills what is left held.
	defer tr.Close()

	child, err := w.startChild()
	if err != nil {
		tr.Release()
		w.report.error(fmt.Errorf("wrapper-runc: %v", err))
		return exitError
	}

	pf, err := tr.WaitExec(ctx, child.failed)
	atExec := time.Now()
	switch {
	case errors.Is(err, execstop.ErrExited):
		// The init died before exec: nothing ran; the runtime's answer
		// stands.
		return child.wait()
	case errors.Is(err, execstop.ErrAborted):
		// start failed with the init held before its exec. Still created
		// (waiting for start), it goes back to waiting, as after a failed
		// runc start; let go by the failed start, it would run unchecked:
		// killed (fail closed).
		if w.stillCreated(st) {
			if rerr := tr.Release(); rerr != nil {
				w.report.error(fmt.Errorf("wrapper-runc: %v", rerr))
			}
		} else {
			tr.Kill(ctx)
			w.report.error(fmt.Errorf("seccomp-attest: container %s: start failed after letting the init go; killed before its exec", c.ID))
		}
		return child.wait()
	case err != nil:
		return w.unchecked(p, c, err, func() int { return child.wait() }, tr)
	}

	out, err := p.AttestEffective(ctx, c, pf)
	if err != nil {
		return w.unchecked(p, c, fmt.Errorf("effective check: %w", err), func() int { return child.wait() }, tr)
	}
	// Where a start's time goes, for operators and the benchmark.
	fields["msToExecStop"] = atExec.Sub(began).Milliseconds()
	fields["msCheck"] = time.Since(atExec).Milliseconds()
	fields["verdict"] = out.Verdict.Result
	if out.Attestation != nil {
		fields["attestation"] = out.Attestation.StorePath
	}
	if len(out.Warnings) > 0 {
		fields["warnings"] = out.Warnings
	}
	if out.Refuse {
		if kerr := tr.Kill(ctx); kerr != nil {
			w.report.error(fmt.Errorf("wrapper-runc: %v", kerr))
		}
		child.wait()
		w.report.refuse(fmt.Errorf("seccomp-attest: container %s refused before its first instruction by policy %s: %s", c.ID, p.PolicySource(), out.Summary()))
		return exitRefused
	}
	if err := tr.Release(); err != nil {
		w.report.error(fmt.Errorf("wrapper-runc: %v", err))
		return exitError
	}
	w.report.decision(fields, "effective check: "+out.Summary())
	return child.wait()
}

// stillCreated reports whether the container still waits for start.
func (w *wrapper) stillCreated(st *ociState) bool {
	if _, ok := w.rt.createdState(w.inv.Global.Root, st.ID); ok {
		return true
	}
	now, err := w.rt.state(w.inv.GlobalArgs, st.ID)
	return err == nil && now.Status == "created"
}

// unchecked handles a container whose filters could not be read or
// judged: recorded as an error attestation; refused in enforce mode (fail
// closed, the held init is killed), let go in audit mode.
func (w *wrapper) unchecked(p *pipeline.Pipeline, c pipeline.Container, cause error, waitChild func() int, held ...InitHolder) int {
	// Decide the held init first, so that it is not kept stopped while
	// the failure is recorded.
	for _, tr := range held {
		if p.Enforcing() {
			kctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			tr.Kill(kctx)
			cancel()
		} else if err := tr.ReleaseUnchecked(); err != nil {
			w.report.error(fmt.Errorf("wrapper-runc: %v", err))
		}
	}
	// The check's own deadline may be what failed: recording gets its own.
	rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, rerr := p.RecordFailure(rctx, c, cause); rerr != nil {
		cause = fmt.Errorf("%w (and the failure could not be attested: %v)", cause, rerr)
	}
	if p.Enforcing() {
		if waitChild != nil {
			waitChild()
		}
		w.report.refuse(fmt.Errorf("seccomp-attest: container %s: cannot check its effective filter (enforce mode refuses): %v", c.ID, cause))
		return exitRefused
	}
	w.report.decision(w.fields(c), "effective check failed (audit mode lets it run): "+cause.Error())
	if waitChild != nil {
		return waitChild()
	}
	child, err := w.startChild()
	if err != nil {
		w.report.error(fmt.Errorf("wrapper-runc: %v", err))
		return exitError
	}
	return child.wait()
}

// runtimeChild is the real runtime running a command for the wrapper,
// with the wrapper's stdio and the signals it receives.
type runtimeChild struct {
	cmd    *exec.Cmd
	done   chan struct{}
	failed chan struct{} // closed when it exits unsuccessfully
}

// startChild runs the real runtime's start (w.startArgv), forwarding the
// signals this process gets when it is the caller's.
func (w *wrapper) startChild() (*runtimeChild, error) {
	cmd := w.host.command(w.rt.Runtime, w.startArgv...)
	cmd.Args[0] = w.rt.Argv0
	cmd.Stdin, cmd.Stdout, cmd.Stderr = w.host.Stdin, w.host.Stdout, w.host.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", w.rt.Path, err)
	}
	ch := &runtimeChild{cmd: cmd, done: make(chan struct{}), failed: make(chan struct{})}
	go func() {
		cmd.Wait()
		if !cmd.ProcessState.Success() {
			close(ch.failed)
		}
		close(ch.done)
	}()
	if w.host.Remote {
		// The caller's signals stay with the caller, and this process's
		// own are not the container's business.
		return ch, nil
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	go func() {
		for {
			select {
			case s := <-sigs:
				cmd.Process.Signal(s)
			case <-ch.done:
				signal.Stop(sigs)
				return
			}
		}
	}()
	return ch, nil
}

// wait returns the child's exit status.
func (ch *runtimeChild) wait() int {
	<-ch.done
	return exitCode(ch.cmd.ProcessState)
}
