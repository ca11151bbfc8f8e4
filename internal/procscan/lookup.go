package procscan

import (
	"fmt"
	"sort"
	"strings"
)

// Found is a running container found by its id in the runtimes' state
// directories: what attesting it needs.
type Found struct {
	ID      string
	Runtime string // runc or crun
	Engine  string // docker, containerd, or empty (runc, crun, podman)
	Bundle  string
	InitPID int
}

// minPrefix is the shortest id prefix Lookup accepts (an exact id may be
// shorter): docker and podman print 12 characters; fewer would too easily
// name several containers.
const minPrefix = 4

// Lookup finds the container whose id is id, or starts with id (the short
// ids docker ps and podman ps print), in dirs (DefaultStateDirs when nil).
// It refuses an ambiguous prefix, and a container whose init is gone or
// whose pid now belongs to another process.
func Lookup(id, proc string, dirs []StateDir) (*Found, error) {
	if id == "" || strings.ContainsAny(id, "/\x00") {
		return nil, fmt.Errorf("container id %q: not an id", id)
	}
	if dirs == nil {
		dirs = DefaultStateDirs
	}
	if proc == "" {
		proc = "/proc"
	}
	var exact, prefixed []runtimeState
	for _, st := range readStateDirs(dirs) {
		switch {
		case st.ID == id:
			exact = append(exact, st)
		case len(id) >= minPrefix && strings.HasPrefix(st.ID, id):
			prefixed = append(prefixed, st)
		}
	}
	matches := exact
	if len(matches) == 0 {
		matches = prefixed
	}
	switch len(matches) {
	case 0:
		if len(id) < minPrefix {
			return nil, fmt.Errorf("container %q: not found in the state of %s (an id prefix needs %d characters at least)", id, stateDirNames(dirs), minPrefix)
		}
		return nil, fmt.Errorf("container %q: not found in the state of %s", id, stateDirNames(dirs))
	case 1:
	default:
		names := make([]string, len(matches))
		for i, m := range matches {
			names[i] = m.Runtime + ":" + m.ID
		}
		sort.Strings(names)
		return nil, fmt.Errorf("container %q: ambiguous, it names %s", id, strings.Join(names, ", "))
	}
	st := matches[0]
	p, err := readProcess(proc, st.InitPID)
	if err != nil {
		return nil, fmt.Errorf("container %s: its init (pid %d) is not running: %w", st.ID, st.InitPID, err)
	}
	if st.StartTime != 0 && st.StartTime != p.startTime {
		return nil, fmt.Errorf("container %s: its init (pid %d) is gone; the pid now belongs to another process", st.ID, st.InitPID)
	}
	return &Found{ID: st.ID, Runtime: st.Runtime, Engine: st.Engine, Bundle: st.Bundle, InitPID: st.InitPID}, nil
}

func stateDirNames(dirs []StateDir) string {
	names := make([]string, len(dirs))
	for i, d := range dirs {
		names[i] = d.Dir
	}
	return strings.Join(names, ", ")
}
