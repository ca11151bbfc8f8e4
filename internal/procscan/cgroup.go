package procscan

import (
	"bufio"
	"io"
	"regexp"
	"strings"
)

// cgroupPattern recognises the cgroup directory an engine creates for a
// container, with the engine's name. Ids are 64 lowercase hex digits in
// every engine that names cgroups after them; podman's conmon and CRI-O's
// conmon live in sibling cgroups ("libpod-conmon-ID", "crio-conmon-ID")
// that the patterns leave out on purpose: conmon is not the container.
type cgroupPattern struct {
	engine string
	re     *regexp.Regexp
}

var cgroupPatterns = []cgroupPattern{
	// systemd cgroup driver: docker-ID.scope, libpod-ID.scope, crio-ID.scope,
	// cri-containerd-ID.scope.
	{"docker", regexp.MustCompile(`(?:^|/)docker-([0-9a-f]{64})\.scope(?:/|$)`)},
	{"podman", regexp.MustCompile(`(?:^|/)libpod-([0-9a-f]{64})(?:\.scope)?(?:/|$)`)},
	{"cri-o", regexp.MustCompile(`(?:^|/)crio-([0-9a-f]{64})(?:\.scope)?(?:/|$)`)},
	{"containerd", regexp.MustCompile(`(?:^|/)cri-containerd-([0-9a-f]{64})\.scope(?:/|$)`)},
	// cgroupfs driver: /docker/ID, /libpod_parent/libpod-ID (above),
	// /kubepods/.../podUID/ID.
	{"docker", regexp.MustCompile(`(?:^|/)docker/([0-9a-f]{64})(?:/|$)`)},
	{"kubernetes", regexp.MustCompile(`(?:^|/)kubepods[^ ]*/pod[0-9a-f_-]+/([0-9a-f]{64})(?:/|$)`)},
}

// containerFromCgroup finds a container id in the contents of
// /proc/PID/cgroup (one "hierarchy:controllers:path" line per hierarchy,
// cgroup v1, v2 or both). It returns the engine and the id, or empty
// strings when no line names a container.
func containerFromCgroup(r io.Reader) (engine, id string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, p := range cgroupPatterns {
			if m := p.re.FindStringSubmatch(parts[2]); m != nil {
				return p.engine, m[1]
			}
		}
	}
	return "", ""
}
