// Package procscan lists the processes of the host with their seccomp
// state and the container each one belongs to, from /proc and the OCI
// runtimes' state directories. It reads filters (ptrace) only when asked.
package procscan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
)

// Process is one process of the host.
type Process struct {
	PID  int    `json:"pid"`
	PPID int    `json:"ppid"`
	Comm string `json:"comm"`
	// Mode is the main thread's seccomp mode: disabled, strict or filter.
	Mode string `json:"mode"`
	// Filters is the main thread's "Seccomp_filters:" count.
	Filters int `json:"filters"`
	// Digest is the lowercase hex SHA-256 of the main thread's filters
	// concatenated oldest first, the digest attestations name for them
	// (attest.StackDigest); empty unless computed.
	Digest string `json:"digest,omitempty"`
	// DigestError says why the digest could not be computed.
	DigestError string     `json:"digestError,omitempty"`
	Container   *Container `json:"container,omitempty"`

	startTime uint64
}

// Container says which container a process belongs to.
type Container struct {
	ID string `json:"id"`
	// Engine is docker, podman, cri-o, containerd or kubernetes when the
	// cgroup or the state directory tells it.
	Engine string `json:"engine,omitempty"`
	// Runtime and Bundle come from the runtime's state directory (runc,
	// crun), when the container is found there.
	Runtime string `json:"runtime,omitempty"`
	Bundle  string `json:"bundle,omitempty"`
	// Init marks the container's first process (pid 1 inside it).
	Init bool `json:"init"`
}

// Options tunes Scan.
type Options struct {
	// Proc is the proc file system's mount point, "/proc" when empty.
	Proc string
	// StateDirs are the runtime roots to read; DefaultStateDirs when nil.
	StateDirs []StateDir
	// Digest reads the filters of processes in filter mode (ptrace, needs
	// CAP_SYS_ADMIN) to compute Process.Digest.
	Digest bool
	// Include selects the processes whose digest is computed and that
	// are returned; all when nil. It runs after the container is known.
	Include func(*Process) bool
}

// Scan lists the processes in PID order. Processes that exit while being
// read are left out; Scan fails only when /proc cannot be listed. ctx
// bounds the filter reads: once it ends, the remaining digests are left
// out with the reason (a process that never stops for ptrace costs a read
// its full timeout).
func Scan(ctx context.Context, opts Options) ([]*Process, error) {
	if opts.Proc == "" {
		opts.Proc = "/proc"
	}
	if opts.StateDirs == nil {
		opts.StateDirs = DefaultStateDirs
	}
	entries, err := os.ReadDir(opts.Proc)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	byPID := map[int]*Process{}
	cgroupIDs := map[int][2]string{}
	var procs []*Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		p, err := readProcess(opts.Proc, pid)
		if err != nil {
			continue // exited meanwhile
		}
		if data, err := os.ReadFile(filepath.Join(opts.Proc, e.Name(), "cgroup")); err == nil {
			engine, id := containerFromCgroup(bytes.NewReader(data))
			if id != "" {
				cgroupIDs[pid] = [2]string{engine, id}
			}
		}
		byPID[pid] = p
		procs = append(procs, p)
	}
	slices.SortFunc(procs, func(a, b *Process) int { return a.PID - b.PID })
	assignContainers(procs, byPID, cgroupIDs, readStateDirs(opts.StateDirs))

	var out []*Process
	for _, p := range procs {
		if opts.Include != nil && !opts.Include(p) {
			continue
		}
		if opts.Digest && p.Mode == procfilters.ModeFilter.String() && p.PID != os.Getpid() {
			p.Digest, err = FilterDigest(ctx, p.PID)
			if err != nil {
				p.DigestError = err.Error()
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// assignContainers fills Process.Container: from the runtimes' state
// (which knows each container's init pid and bundle), from the cgroup
// path (which engines name after the container id), and otherwise from
// the nearest ancestor that is a container's init (plain runc and crun
// containers live in cgroups named freely).
func assignContainers(procs []*Process, byPID map[int]*Process, cgroupIDs map[int][2]string, states []runtimeState) {
	initOf := map[string]int{}
	for _, st := range states {
		p := byPID[st.InitPID]
		if p == nil || (st.StartTime != 0 && st.StartTime != p.startTime) {
			continue // stale state: the container's init is gone, the pid may be reused
		}
		engine := st.Engine
		if cg, ok := cgroupIDs[p.PID]; ok && cg[1] == st.ID {
			engine = cg[0]
		}
		p.Container = &Container{ID: st.ID, Engine: engine, Runtime: st.Runtime, Bundle: st.Bundle, Init: true}
		initOf[st.ID] = p.PID
	}
	for _, p := range procs {
		if p.Container != nil {
			continue
		}
		if cg, ok := cgroupIDs[p.PID]; ok {
			p.Container = &Container{ID: cg[1], Engine: cg[0]}
		}
	}
	for _, p := range procs {
		c := p.Container
		if c == nil || c.Init {
			continue
		}
		if pid, ok := initOf[c.ID]; ok {
			c.Init = pid == p.PID
			continue
		}
		// No runtime state: the first process of the cgroup is the one
		// whose parent is outside it (a shim, conmon or the runtime).
		parent := byPID[p.PPID]
		c.Init = parent == nil || parent.Container == nil || parent.Container.ID != c.ID
	}
	for _, p := range procs {
		if p.Container != nil {
			continue
		}
		for anc, depth := byPID[p.PPID], 0; anc != nil && depth < 64; anc, depth = byPID[anc.PPID], depth+1 {
			if anc.Container != nil && anc.Container.Init {
				c := *anc.Container
				c.Init = false
				p.Container = &c
				break
			}
			if anc.PPID == anc.PID {
				break
			}
		}
	}
}

// readProcess reads the stat and status files of one process.
func readProcess(proc string, pid int) (*Process, error) {
	dir := filepath.Join(proc, strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return nil, err
	}
	p := &Process{PID: pid}
	if err := parseStat(p, string(stat)); err != nil {
		return nil, fmt.Errorf("%s/stat: %w", dir, err)
	}
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return nil, err
	}
	if err := parseStatus(p, status); err != nil {
		return nil, fmt.Errorf("%s/status: %w", dir, err)
	}
	return p, nil
}

// parseStat takes comm, ppid and the start time from /proc/PID/stat. The
// comm field is in parentheses and may itself hold spaces and
// parentheses, so the fields after it start after the last ')'.
func parseStat(p *Process, s string) error {
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return fmt.Errorf("no (comm) field")
	}
	p.Comm = s[open+1 : close]
	fields := strings.Fields(s[close+1:])
	// fields[0] is field 3 (state); ppid is field 4, starttime field 22.
	if len(fields) < 20 {
		return fmt.Errorf("%d fields after comm, want at least 20", len(fields))
	}
	var err error
	if p.PPID, err = strconv.Atoi(fields[1]); err != nil {
		return fmt.Errorf("ppid: %w", err)
	}
	if p.startTime, err = strconv.ParseUint(fields[19], 10, 64); err != nil {
		return fmt.Errorf("starttime: %w", err)
	}
	return nil
}

// parseStatus takes the seccomp mode and filter count from
// /proc/PID/status.
func parseStatus(p *Process, data []byte) error {
	st, err := procfilters.ParseStatus(data)
	if err != nil {
		return err
	}
	p.Mode, p.Filters = st.Mode.String(), st.Filters
	return nil
}

// FilterDigest reads the filters of pid's main thread and returns the
// SHA-256 of their bytes concatenated oldest first: the digest of the
// attestation subject for that stack. The read ends with ctx, and after
// procfilters.DefaultReadTimeout at the latest.
func FilterDigest(ctx context.Context, pid int) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("not read: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, procfilters.DefaultReadTimeout)
	defer cancel()
	pf, err := procfilters.ReadProcessContext(ctx, pid)
	if err != nil {
		return "", err
	}
	for _, th := range pf.Threads {
		if th.TID != pid {
			continue
		}
		h := sha256.New()
		for _, lf := range th.Filters {
			h.Write(lf.Filter.Bytes())
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	return "", fmt.Errorf("pid %d: main thread not found (exited?)", pid)
}
