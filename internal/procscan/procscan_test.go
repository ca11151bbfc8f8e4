package procscan

import (
	"context"
	"os"
	"path/filepath"
	"slices"
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

// A process tree: host init 1, a runc container (state: init 10, child
// 11), a Docker container known only by cgroup (init 20 under a shim 19,
// child 21, exec'd process 22 also under the shim but with the runtime
// state naming 20), and a stale runc state whose pid was reused (30).
func TestAssignContainers(t *testing.T) {
	id := strings.Repeat("ab", 32)
	procs := []*Process{
		{PID: 1, PPID: 0}, {PID: 10, PPID: 1, startTime: 100}, {PID: 11, PPID: 10},
		{PID: 19, PPID: 1}, {PID: 20, PPID: 19, startTime: 200}, {PID: 21, PPID: 20}, {PID: 22, PPID: 19},
		{PID: 30, PPID: 1, startTime: 999}, {PID: 31, PPID: 30},
	}
	byPID := map[int]*Process{}
	for _, p := range procs {
		byPID[p.PID] = p
	}
	cgroups := map[int][2]string{20: {"docker", id}, 21: {"docker", id}, 22: {"docker", id}}
	states := []runtimeState{
		{ID: "web", Runtime: "runc", Bundle: "/b", InitPID: 10, StartTime: 100},
		{ID: id, Runtime: "runc", Engine: "docker", InitPID: 20, StartTime: 200},
		{ID: "gone", Runtime: "crun", InitPID: 30, StartTime: 300},
	}
	assignContainers(procs, byPID, cgroups, states)
	want := map[int]string{1: "", 10: "web init", 11: "web", 19: "", 20: id + " init", 21: id, 22: id, 30: "", 31: ""}
	for pid, w := range want {
		got := ""
		if c := byPID[pid].Container; c != nil {
			got = c.ID
			if c.Init {
				got += " init"
			}
		}
		if got != w {
			t.Errorf("pid %d: container %q, want %q", pid, got, w)
		}
	}
	if c := byPID[10].Container; c.Bundle != "/b" || c.Runtime != "runc" {
		t.Errorf("runc init: %+v", c)
	}
	if c := byPID[20].Container; c.Engine != "docker" {
		t.Errorf("docker init: %+v", c)
	}
}

// State directories as runc and crun write them; half-written or foreign
// entries are skipped, not fatal.
func TestReadStateDirs(t *testing.T) {
	runcDir, crunDir := t.TempDir(), t.TempDir()
	write := func(path, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(runcDir, "web", "state.json"),
		`{"id":"web","init_process_pid":42,"init_process_start":777,"config":{"labels":["bundle=/b/web"]}}`)
	write(filepath.Join(runcDir, "half", "state.json"), `{"init_process_pid":`)
	write(filepath.Join(runcDir, "nopid", "state.json"), `{"config":{}}`)
	write(filepath.Join(runcDir, "stray-file"), `x`)
	write(filepath.Join(crunDir, "db", "status"), `{"pid":43,"process-start-time":888,"bundle":"/b/db"}`)
	states := readStateDirs([]StateDir{
		{Runtime: "runc", Dir: runcDir, Engine: "docker"},
		{Runtime: "crun", Dir: crunDir},
		{Runtime: "runc", Dir: filepath.Join(runcDir, "missing")},
	})
	want := []runtimeState{
		{ID: "web", Runtime: "runc", Engine: "docker", Bundle: "/b/web", InitPID: 42, StartTime: 777},
		{ID: "db", Runtime: "crun", Bundle: "/b/db", InitPID: 43, StartTime: 888},
	}
	if !slices.Equal(states, want) {
		t.Errorf("got %+v\nwant %+v", states, want)
	}
}

// Scan on the real /proc finds the test process itself with its parent,
// name and seccomp mode, and never reads its own filters.
func TestScanFindsItself(t *testing.T) {
	self := os.Getpid()
	procs, err := Scan(context.Background(), Options{Digest: true, Include: func(p *Process) bool { return p.PID == self }})
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != 1 {
		t.Fatalf("found %d processes for pid %d", len(procs), self)
	}
	p := procs[0]
	if p.PPID != os.Getppid() || p.Comm == "" || p.Mode == "" || p.Digest != "" || p.DigestError != "" {
		t.Errorf("self: %+v", p)
	}
}
