package wrapper

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
	"github.com/seccomp-attest/seccomp-attest/pkg/record"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// pipeline loads the configuration and the shared pipeline, with the
// signing key also for create's static check, which writes no
// attestation: a key that is missing or unusable refuses the container
// before it exists, not at start.
func (w *wrapper) pipeline() (*config.Config, *pipeline.Pipeline, error) {
	path := w.inv.Extra[flagConfig]
	if path != "" {
		var err error
		if path, err = w.host.abs(path); err != nil {
			return nil, nil, err
		}
	}
	loader := w.host.loader()
	cfg, err := loader.Config(path)
	if err != nil {
		return nil, nil, err
	}
	w.report.openOperatorLog(loader, cfg)
	p, err := loader.Pipeline(cfg)
	if err != nil {
		return cfg, nil, err
	}
	return cfg, p, nil
}

// fields names the container in the operators' log.
func (w *wrapper) fields(c pipeline.Container) logrus.Fields {
	return logrus.Fields{"command": w.inv.Command, "id": c.ID, "bundle": c.Bundle, "pid": c.PID, "runtime": w.rt.Path}
}

// bundleDir is --bundle made absolute, or the current directory as runc
// takes it.
func (w *wrapper) bundleDir() (string, error) {
	dir := w.opts.Bundle
	if dir == "" {
		dir = "."
	}
	abs, err := w.host.abs(dir)
	if err != nil {
		return "", fmt.Errorf("seccomp-attest: bundle %q: %w", dir, err)
	}
	return abs, nil
}

// container is the container of create or run, before it exists.
func (w *wrapper) container(bundle string) pipeline.Container {
	return pipeline.Container{ID: w.opts.ID, Bundle: bundle, Runtime: w.rt.Name}
}

// staticCheck judges the bundle's intended profile (create and run); nil
// means the command may go on.
func (w *wrapper) staticCheck() (refused error) {
	bundle, err := w.bundleDir()
	if err != nil {
		return err
	}
	c := w.container(bundle)
	cfg, p, err := w.pipeline()
	if err != nil {
		// Without a policy nothing can be judged: fail closed.
		return fmt.Errorf("seccomp-attest: container %s: cannot check: %v", c.ID, err)
	}
	ctx, cancel := w.host.context(time.Duration(cfg.Deadline))
	defer cancel()
	out, err := p.CheckIntended(ctx, c)
	fields := w.fields(c)
	switch {
	case err != nil && p.Enforcing():
		return fmt.Errorf("seccomp-attest: container %s: static check failed (enforce mode refuses): %v", c.ID, err)
	case err != nil:
		w.report.decision(fields, "static check failed (audit mode lets it run): "+err.Error())
		return nil
	case out.Refuse:
		return fmt.Errorf("seccomp-attest: container %s refused by policy %s: %s", c.ID, p.PolicySource(), out.Summary())
	}
	fields["verdict"] = out.Verdict.Result
	w.report.decision(fields, "static check: "+out.Summary())
	return nil
}

// create checks the bundle, then becomes the real runtime's create.
func (w *wrapper) create() int {
	if err := w.restoreListenerPath(); err != nil {
		w.report.refuse(err)
		return exitRefused
	}
	if err := w.staticCheck(); err != nil {
		w.report.refuse(err)
		return exitRefused
	}
	w.report.close()
	return w.rt.exec(w.inv.Argv())
}

// restoreListenerPath points a recording profile (record profile) that
// dockerd passed on without its listenerPath at the recorder's socket
// (docs/record.md); any other bundle is left as it is.
func (w *wrapper) restoreListenerPath() error {
	bundle, err := w.bundleDir()
	if err != nil {
		return err
	}
	if _, err := record.RestoreListenerPath(bundle, record.DefaultSocket); err != nil {
		return fmt.Errorf("seccomp-attest: container %s: %w", w.opts.ID, err)
	}
	return nil
}

// ociState is what `runtime state ID` prints (runc and crun).
type ociState struct {
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Annotations map[string]string `json:"annotations"`
}

// createdState reads a runc container's state the way `runc state` does,
// from ROOT/ID/state.json, without the cost of running runc: the init's
// pid (checked against its start time, so a reused pid is not taken for
// it) and the bundle; created while ROOT/ID/exec.fifo exists. ok is false
// whenever anything differs from that (another runtime, another layout):
// the caller asks the runtime then.
func (rt *realRuntime) createdState(root, id string) (st *ociState, ok bool) {
	if rt.Name != spec.RuntimeRunc || id == "" || strings.ContainsAny(id, "/\x00") || id == "." || id == ".." {
		return nil, false
	}
	if root == "" {
		root = "/run/runc"
	}
	root, err := rt.host.abs(root)
	if err != nil {
		return nil, false
	}
	dir := filepath.Join(root, id)
	if _, err := os.Stat(filepath.Join(dir, "exec.fifo")); err != nil {
		return nil, false
	}
	data, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return nil, false
	}
	var rs struct {
		ID        string `json:"id"`
		InitPid   int    `json:"init_process_pid"`
		InitStart uint64 `json:"init_process_start"`
		Config    struct {
			Labels []string `json:"labels"`
		} `json:"config"`
	}
	if json.Unmarshal(data, &rs) != nil || rs.ID != id || rs.InitPid <= 0 {
		return nil, false
	}
	if start, err := processStartTime(rs.InitPid); err != nil || start != rs.InitStart {
		return nil, false
	}
	st = &ociState{ID: id, Pid: rs.InitPid, Status: "created"}
	for _, l := range rs.Config.Labels {
		if b, found := strings.CutPrefix(l, "bundle="); found {
			st.Bundle = b
		}
	}
	return st, st.Bundle != ""
}

// processStartTime is field 22 of /proc/PID/stat (starttime, in clock
// ticks since boot), which runc records as init_process_start.
func processStartTime(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: count
	// fields after its closing parenthesis.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	return strconv.ParseUint(fields[19], 10, 64) // field 22 = 3rd + 19
}

// state asks the real runtime, with the same global flags (--root), for
// the container's state.
func (rt *realRuntime) state(globalArgs []string, id string) (*ociState, error) {
	argv := append(append([]string{}, globalArgs...), "state", id)
	cmd := rt.host.command(rt.Runtime, argv...)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s state %s: %w", rt.Path, id, err)
	}
	var st ociState
	if err := json.Unmarshal(out, &st); err != nil {
		return nil, fmt.Errorf("%s state %s: %w", rt.Path, id, err)
	}
	return &st, nil
}

// exitCode is the status to exit with for a finished child: its code, or
// 128+signal as a shell reports a signal death.
func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return exitError
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
