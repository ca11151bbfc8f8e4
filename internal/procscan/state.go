package procscan

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// StateDir is a directory where an OCI runtime keeps one subdirectory per
// container it created (the runtime's --root).
type StateDir struct {
	// Runtime is "runc" (state.json, also Docker's and podman's runc) or
	// "crun" (status).
	Runtime string
	Dir     string
	// Engine names who asked the runtime, when the directory tells it
	// (Docker's moby root); empty otherwise.
	Engine string
}

// DefaultStateDirs are the runtime roots of runc, crun, podman (which
// uses the runtimes' defaults as root), Docker 20.10+ and containerd's
// Kubernetes namespace.
var DefaultStateDirs = []StateDir{
	{Runtime: "runc", Dir: "/run/runc"},
	{Runtime: "crun", Dir: "/run/crun"},
	{Runtime: "runc", Dir: "/run/docker/runtime-runc/moby", Engine: "docker"},
	{Runtime: "runc", Dir: "/run/containerd/runc/k8s.io", Engine: "containerd"},
}

// runtimeState is what a runtime's state file says about one container.
type runtimeState struct {
	ID, Runtime, Engine, Bundle string
	InitPID                     int
	// StartTime is the init's start time in clock ticks since boot (field
	// 22 of /proc/PID/stat), 0 when the runtime does not record it. A
	// different value means the pid was reused.
	StartTime uint64
}

// maxStateFile bounds what is read from a state file: runc's holds the
// whole config, a few hundred KiB at most.
const maxStateFile = 8 << 20

// readStateDirs lists the containers of every directory. Missing
// directories are normal (the runtime never ran); an unreadable or
// malformed state file is skipped, since a container being created or
// deleted right now has one half-written, and a scan must not fail for it.
func readStateDirs(dirs []StateDir) []runtimeState {
	var out []runtimeState
	for _, d := range dirs {
		entries, err := os.ReadDir(d.Dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			st, err := readState(d, e.Name())
			if err != nil || st.InitPID <= 0 {
				continue
			}
			out = append(out, st)
		}
	}
	return out
}

func readState(d StateDir, id string) (runtimeState, error) {
	st := runtimeState{ID: id, Runtime: d.Runtime, Engine: d.Engine}
	switch d.Runtime {
	case "runc":
		var s struct {
			InitPID   int    `json:"init_process_pid"`
			InitStart uint64 `json:"init_process_start"`
			Config    struct {
				Labels []string `json:"labels"`
			} `json:"config"`
		}
		if err := readJSON(filepath.Join(d.Dir, id, "state.json"), &s); err != nil {
			return st, err
		}
		st.InitPID, st.StartTime = s.InitPID, s.InitStart
		for _, l := range s.Config.Labels {
			if b, ok := strings.CutPrefix(l, "bundle="); ok {
				st.Bundle = b
			}
		}
	case "crun":
		var s struct {
			PID       int    `json:"pid"`
			StartTime uint64 `json:"process-start-time"`
			Bundle    string `json:"bundle"`
		}
		if err := readJSON(filepath.Join(d.Dir, id, "status"), &s); err != nil {
			return st, err
		}
		st.InitPID, st.StartTime, st.Bundle = s.PID, s.StartTime, s.Bundle
	default:
		return st, fmt.Errorf("state dir %s: unknown runtime %q", d.Dir, d.Runtime)
	}
	return st, nil
}

func readJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxStateFile))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
