package hook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/internal/daemon/wire"
	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
)

type hook struct {
	cfg    *config.Config
	loader pipeline.Loader
	// reader reads the container's filters (the kernel's, but in tests).
	reader  FilterReader
	stage   wire.Stage
	log     *logrus.Logger
	stderr  io.Writer
	started time.Time
	// runtimePID is the process that executed the hook: the runtime.
	runtimePID int
	// initFD is a pidfd of the container's init at poststart, opened
	// before anything is read so that a refusal kills that process and
	// never a reused pid.
	initFD int
	// remote: the run is seccomp-attestd's, for a hook program that
	// stops the container itself when stopRequested (RunRemote).
	remote, stopRequested bool
	// fallback says why the hook program did not hand this run to
	// seccomp-attestd (a daemon that did not acknowledge, or stalled).
	fallback string
}

// maxStateSize bounds what is read from stdin: a state is a few hundred
// bytes plus annotations.
const maxStateSize = 4 << 20

func (h *hook) run(ctx context.Context, stdin io.Reader) int {
	state, err := readState(stdin)
	if err != nil {
		return h.fail(nil, fmt.Errorf("container state on stdin: %w", err))
	}
	c := pipeline.Container{ID: state.ID, Bundle: state.Bundle, PID: state.Pid, Annotations: state.Annotations}
	static := h.stage == wire.StageCreateRuntime || h.stage == wire.StagePrestart
	c.Runtime, c.RuntimeVersion = detectRuntime(h.runtimePID, h.cfg.Store, !static)
	fields := logrus.Fields{"stage": string(h.stage), "id": c.ID, "pid": c.PID, "bundle": c.Bundle, "runtime": c.Runtime}
	if h.fallback != "" {
		fields["fallback"] = h.fallback
	}

	if h.stage == wire.StagePoststart {
		// Opened first, so that any failure from here on can stop the
		// container where the runtime ignores a failing poststart.
		if fd, err := unix.PidfdOpen(c.PID, 0); err == nil {
			h.initFD = fd
			defer unix.Close(fd)
		}
	}
	// The static stages load the signing key too (or generate it): a key
	// that is missing or unusable must refuse the container before it is
	// created, not be found at poststart, after it ran.
	p, err := h.loader.Pipeline(h.cfg)
	if err != nil && h.stage == wire.StagePoststop {
		// A stop record names no policy: a policy that cannot be read
		// (edited into an error, removed) must not leave the end of a
		// container unrecorded. Any other error (the key) stays.
		stopOnly := *h.cfg
		stopOnly.Policy = "builtin:default"
		if sp, serr := h.loader.Pipeline(&stopOnly); serr == nil {
			fields["policyError"] = err.Error()
			p, err = sp, nil
		}
	}
	if err != nil {
		return h.fail(fields, err)
	}
	fields["mode"] = p.Mode()

	switch h.stage {
	case wire.StageCreateRuntime, wire.StagePrestart:
		out, err := p.CheckIntended(ctx, c)
		if err != nil {
			return h.failMode(p, fields, fmt.Errorf("static check of the intended profile: %w", err))
		}
		return h.answer(p, fields, out)

	case wire.StagePoststart:
		loadsFilter, err := p.LoadsFilter(c)
		if err != nil {
			return h.failMode(p, fields, fmt.Errorf("read the bundle: %w", err))
		}
		// Where a start's time goes, for operators and the benchmark.
		mark := time.Now()
		fields["msSetup"] = ms(mark.Sub(h.started))
		pf, err := waitAndRead(ctx, h.reader, c, loadsFilter, time.Duration(h.cfg.FilterWait))
		if err != nil {
			return h.readFailed(ctx, p, c, fields, err)
		}
		fields["msRead"], mark = ms(time.Since(mark)), time.Now()
		out, err := p.AttestEffective(ctx, c, pf)
		if err != nil {
			return h.failMode(p, fields, fmt.Errorf("attest the effective filters: %w", err))
		}
		fields["msAttest"] = ms(time.Since(mark))
		return h.answer(p, fields, out)

	case wire.StagePoststop:
		return h.recordStop(ctx, p, c, fields)
	}
	return exitError
}

// recordStop records the container's end. Where stop records are handed
// off (seccomp-attestd), the runtime, which removes the container after
// poststop, waits only for the record to be durably in the store's spool;
// in the hook's own process it is appended to the store, with any record
// a daemon left in the spool.
func (h *hook) recordStop(ctx context.Context, p *pipeline.Pipeline, c pipeline.Container, fields logrus.Fields) int {
	failed := func(err error) int {
		// The container is gone: nothing to refuse, but the gap in the
		// record must be visible.
		h.log.WithFields(fields).WithError(err).Error("record the container's end")
		fmt.Fprintf(h.stderr, "seccomp-attest-hook: poststop %s: %v\n", c.ID, err)
		return exitError
	}
	var handOffErr error
	if pipeline.HandingOffRecords() {
		spooled, err := p.HandOffStop(ctx, c)
		if err != nil && ctx.Err() != nil {
			// Abandoned (the hook records it in its own process) or
			// out of time: the store would refuse it as well.
			return failed(err)
		}
		if err == nil {
			fields["spooled"] = spooled
			h.log.WithFields(fields).WithField("elapsed", time.Since(h.started).String()).Info("container end recorded (handed off to the store)")
			return exitOK
		}
		// Not handed off (a spool refused, no room for it): the record
		// goes to the store now, as in the hook's own process.
		handOffErr = err
		fields["handOffError"] = err.Error()
	}
	out, err := p.RecordStop(ctx, c)
	if err != nil {
		return failed(errors.Join(handOffErr, err))
	}
	fields["attestation"] = out.Attestation.StorePath
	// What a daemon left, for at most spoolShare: the runtime waits.
	if err := p.AppendSpooledFor(ctx, spoolShare); err != nil {
		out.Warnings = append(out.Warnings, err.Error())
	}
	if len(out.Warnings) > 0 {
		fields["warnings"] = out.Warnings
	}
	h.log.WithFields(fields).WithField("elapsed", time.Since(h.started).String()).Info("container end recorded")
	return exitOK
}

// spoolShare bounds how long a poststop in the hook's own process spends
// appending the records a daemon left in the spool (300 took 0.4 s here;
// each costs a signature and several syncs, far more on a slow disk).
const spoolShare = 500 * time.Millisecond

// ms is d in milliseconds with a resolution of 10 µs.
func ms(d time.Duration) float64 { return float64(d/(10*time.Microsecond)) / 100 }

// readFailed records why the filters could not be read. A process that
// exited before the read has nothing left to refuse (its filters ended
// with it), so that is recorded but does not fail the hook; anything else
// fails closed in enforce mode.
func (h *hook) readFailed(ctx context.Context, p *pipeline.Pipeline, c pipeline.Container, fields logrus.Fields, cause error) int {
	gone := errors.Is(cause, procfilters.ErrNoProcess)
	handedOff := false
	if gone && pipeline.HandingOffRecords() {
		// The answer does not wait for the record: it is the same
		// whatever the record becomes.
		if spooled, err := p.HandOffFailure(ctx, c, cause); err == nil {
			fields["spooled"], handedOff = spooled, true
		} else {
			// Not handed off: written now, as in the hook's own process.
			fields["handOffError"] = err.Error()
		}
	}
	recorded := handedOff
	switch {
	case handedOff:
	case fields["handOffError"] != nil && ctx.Err() != nil:
		// Abandoned (the hook records it in its own process) or out of
		// time: the store would refuse it as well.
		fields["recordError"] = fields["handOffError"]
	default:
		if out, err := p.RecordFailure(ctx, c, cause); err == nil {
			fields["attestation"], recorded = out.Attestation.StorePath, true
		} else {
			fields["recordError"] = err.Error()
		}
	}
	if gone {
		fields["elapsed"] = time.Since(h.started).String()
		h.log.WithFields(fields).WithError(cause).Warn("the container's process exited before its filters were read")
		if recorded {
			fmt.Fprintf(h.stderr, "seccomp-attest-hook: %s: %v (recorded)\n", c.ID, cause)
		} else {
			fmt.Fprintf(h.stderr, "seccomp-attest-hook: %s: %v (NOT recorded: %s)\n", c.ID, cause, fields["recordError"])
		}
		return exitOK
	}
	return h.failMode(p, fields, fmt.Errorf("read the effective filters: %w", cause))
}

// answer logs the outcome and turns it into the exit status.
func (h *hook) answer(p *pipeline.Pipeline, fields logrus.Fields, out *pipeline.Outcome) int {
	fields["verdict"] = out.Verdict.Result
	fields["elapsed"] = time.Since(h.started).String()
	if out.Attestation != nil {
		fields["attestation"] = out.Attestation.StorePath
	}
	if len(out.Verdict.Reasons) > 0 {
		fields["reasons"] = out.Verdict.Reasons
	}
	if len(out.Warnings) > 0 {
		fields["warnings"] = out.Warnings
	}
	if out.Refuse {
		h.stopContainer(fields)
	}
	entry := h.log.WithFields(fields)
	switch {
	case out.Refuse:
		entry.Error("refused: " + out.Summary())
		fmt.Fprintf(h.stderr, "seccomp-attest: %s: refused by policy %s: %s\n", h.stage, p.PolicySource(), out.Summary())
		return exitRefused
	case out.Verdict.Result != "pass":
		entry.Warn("policy failed (audit mode, not refused): " + out.Summary())
	default:
		entry.Info("pass")
	}
	return exitOK
}

// failMode reports an error; in enforce mode it fails the hook (closed),
// in audit mode the container goes on and the log keeps the error.
func (h *hook) failMode(p *pipeline.Pipeline, fields logrus.Fields, err error) int {
	if p.Enforcing() {
		h.stopContainer(fields)
	}
	h.log.WithFields(fields).WithError(err).Error("check failed")
	if p.Enforcing() {
		fmt.Fprintf(h.stderr, "seccomp-attest: %s: %v (enforce mode: failing closed)\n", h.stage, err)
		return exitError
	}
	fmt.Fprintf(h.stderr, "seccomp-attest: %s: %v (audit mode: not refused)\n", h.stage, err)
	return exitOK
}

// fail reports an error that happened before the policy's mode is known:
// unknown means enforce (fail closed).
func (h *hook) fail(fields logrus.Fields, err error) int {
	if fields == nil {
		fields = logrus.Fields{}
	}
	if h.fallback != "" {
		fields["fallback"] = h.fallback
	}
	if h.cfg.Mode != "audit" {
		h.stopContainer(fields)
	}
	h.log.WithFields(fields).WithError(err).Error("hook failed")
	if h.cfg.Mode == "audit" {
		fmt.Fprintf(h.stderr, "seccomp-attest: %s: %v (audit mode: not refused)\n", h.stage, err)
		return exitOK
	}
	fmt.Fprintf(h.stderr, "seccomp-attest: %s: %v (failing closed)\n", h.stage, err)
	return exitError
}

// stopContainer kills the container's init when a poststart check refuses
// it. Runtime spec 1.3 has the runtime stop a container whose poststart
// hook fails, and runc does; crun 1.8 only ignores the failure, so the
// hook does not rely on the runtime. SIGKILL of the init (pid 1 of the
// container's pid namespace) ends every process in it.
func (h *hook) stopContainer(fields logrus.Fields) {
	if h.stage != wire.StagePoststart {
		return
	}
	// In seccomp-attestd the hook program stops it (RunRemote): a daemon
	// whose hook hung up can then never touch the container.
	if h.remote {
		h.stopRequested = true
		fields["stopRequested"] = true
		return
	}
	if h.initFD < 0 {
		return
	}
	if err := unix.PidfdSendSignal(h.initFD, unix.SIGKILL, nil, 0); err != nil && err != unix.ESRCH {
		fields["killError"] = err.Error()
		return
	}
	fields["killed"] = true
}

// readState decodes the OCI state leniently: runtimes add fields (crun
// adds "root"), and only id, pid, bundle and annotations are used.
func readState(r io.Reader) (*specs.State, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxStateSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxStateSize {
		return nil, fmt.Errorf("larger than %d bytes", maxStateSize)
	}
	var st specs.State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("not an OCI state: %w", err)
	}
	switch {
	case st.ID == "":
		return nil, errors.New("no container id")
	case st.Bundle == "":
		return nil, fmt.Errorf("container %s: no bundle", st.ID)
	}
	return &st, nil
}
