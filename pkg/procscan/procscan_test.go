package procscan

import (
	"strings"
	"testing"
)

func TestContainerFromCgroup(t *testing.T) {
	id := strings.Repeat("0123456789abcdef", 4)
	for _, tc := range []struct {
		name, cgroup, engine, id string
	}{
		{"docker cgroupfs v1", "12:pids:/docker/" + id + "\n0::/docker/" + id, "docker", id},
		{"docker systemd", "0::/system.slice/docker-" + id + ".scope", "docker", id},
		{"podman cgroupfs", "9:name=systemd:/libpod_parent/libpod-" + id, "podman", id},
		{"podman systemd", "0::/machine.slice/libpod-" + id + ".scope/container", "podman", id},
		{"podman conmon is not a container", "0::/machine.slice/libpod-conmon-" + id + ".scope", "", ""},
		{"cri-o", "0::/kubepods.slice/kubepods-pod1.slice/crio-" + id + ".scope", "cri-o", id},
		{"cri-o conmon", "0::/kubepods.slice/kubepods-pod1.slice/crio-conmon-" + id + ".scope", "", ""},
		{"containerd", "0::/kubepods.slice/x.slice/cri-containerd-" + id + ".scope", "containerd", id},
		{"kubelet cgroupfs", "0::/kubepods/besteffort/pod0f3a-11/" + id, "kubernetes", id},
		{"plain runc names its cgroup freely", "0::/mycontainer", "", ""},
		{"short hex is not an id", "0::/docker/0123456789ab", "", ""},
		{"host process", "0::/init.scope\n1:cpu:/", "", ""},
		{"garbage", "no colons here\n::", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			engine, got := containerFromCgroup(strings.NewReader(tc.cgroup))
			if engine != tc.engine || got != tc.id {
				t.Errorf("got (%q, %q), want (%q, %q)", engine, got, tc.engine, tc.id)
			}
		})
	}
}

func TestParseStatCommWithParentheses(t *testing.T) {
	rest := " S 42 7 7 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10"
	var p Process
	if err := parseStat(&p, "99 (a) b (c)"+rest); err != nil {
		t.Fatal(err)
	}
	if p.Comm != "a) b (c" || p.PPID != 42 || p.startTime != 123456 {
		t.Errorf("got comm %q ppid %d start %d", p.Comm, p.PPID, p.startTime)
	}
	for _, bad := range []string{"", "99 a S 1", "99 (x) S notanumber 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0", "99 (x) S 1"} {
		if err := parseStat(&p, bad); err == nil {
			t.Errorf("parseStat(%q) accepted", bad)
		}
	}
}

func TestParseStatus(t *testing.T) {
	var p Process
	if err := parseStatus(&p, []byte("Name:\tsleep\nSeccomp:\t2\nSeccomp_filters:\t3\n")); err != nil {
		t.Fatal(err)
	}
	if p.Mode != "filter" || p.Filters != 3 {
		t.Errorf("got mode %q filters %d", p.Mode, p.Filters)
	}
	if err := parseStatus(&p, []byte("Name:\tsleep\n")); err == nil {
		t.Error("status without Seccomp accepted")
	}
	if err := parseStatus(&p, []byte("Seccomp:\tx\n")); err == nil {
		t.Error("bad Seccomp value accepted")
	}
}
