package nriplugin

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/containerd/nri/pkg/api"
)

// The plugin with the hooks.d defaults adds exactly the hooks the shipped
// hooks.d files give podman and CRI-O: same program, arguments, timeout
// and stages.
func TestHooksMatchShippedHooksD(t *testing.T) {
	h := Hook{Path: "/usr/libexec/seccomp-attest/seccomp-attest-hook", TimeoutSeconds: 10}
	adj, updates, err := (&Plugin{Hook: h}).CreateContainer(context.Background(), &api.PodSandbox{}, &api.Container{Id: "c1"})
	if err != nil || updates != nil {
		t.Fatalf("CreateContainer: %v, %v", updates, err)
	}
	byStage := map[string][]*api.Hook{
		"createRuntime": adj.GetHooks().GetCreateRuntime(),
		"poststart":     adj.GetHooks().GetPoststart(),
		"poststop":      adj.GetHooks().GetPoststop(),
	}
	if n := len(adj.GetHooks().GetPrestart()) + len(adj.GetHooks().GetCreateContainer()) + len(adj.GetHooks().GetStartContainer()); n != 0 {
		t.Errorf("%d hooks at other stages", n)
	}
	files, _ := filepath.Glob("../../hooks.d/*.json")
	if len(files) != len(Stages) {
		t.Fatalf("hooks.d has %d files, want %d", len(files), len(Stages))
	}
	for _, f := range files {
		var d struct {
			Hook struct {
				Path    string   `json:"path"`
				Args    []string `json:"args"`
				Timeout int      `json:"timeout"`
			} `json:"hook"`
			Stages []string `json:"stages"`
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &d); err != nil || len(d.Stages) != 1 {
			t.Fatalf("%s: %v (stages %v)", f, err, d.Stages)
		}
		got := byStage[d.Stages[0]]
		if len(got) != 1 {
			t.Fatalf("stage %s: %d hooks, want 1", d.Stages[0], len(got))
		}
		if got[0].Path != d.Hook.Path || !slices.Equal(got[0].Args, d.Hook.Args) || got[0].GetTimeout().GetValue() != int64(d.Hook.Timeout) {
			t.Errorf("stage %s: plugin adds %s %q timeout %v; %s says %s %q timeout %d",
				d.Stages[0], got[0].Path, got[0].Args, got[0].GetTimeout().GetValue(), f, d.Hook.Path, d.Hook.Args, d.Hook.Timeout)
		}
	}
}

func TestHookArgsCarryConfigAndSocket(t *testing.T) {
	h := Hook{Path: "/h", Config: "/etc/c.yaml", Socket: "/run/s.sock", TimeoutSeconds: 5}
	want := []string{"seccomp-attest-hook", "--socket=/run/s.sock", "--config", "/etc/c.yaml", "poststart"}
	if got := h.Args("poststart"); !slices.Equal(got, want) {
		t.Errorf("Args = %q, want %q", got, want)
	}
}

func TestValidateRefusesRelativePathsAndNoTimeout(t *testing.T) {
	for _, h := range []Hook{
		{Path: "hook", TimeoutSeconds: 10},
		{Path: "/h", Config: "c.yaml", TimeoutSeconds: 10},
		{Path: "/h", Socket: "s.sock", TimeoutSeconds: 10},
		{Path: "/h", TimeoutSeconds: 0},
	} {
		if h.Validate() == nil {
			t.Errorf("%+v: no error", h)
		}
	}
	if err := (Hook{Path: "/h", TimeoutSeconds: 1}).Validate(); err != nil {
		t.Errorf("a good hook: %v", err)
	}
}

// On connecting, the plugin names the containers without its hook, and
// only those.
func TestSynchronizeReportsContainersWithoutTheHook(t *testing.T) {
	h := Hook{Path: "/h", TimeoutSeconds: 10}
	var unhooked []string
	p := &Plugin{Hook: h, Unhooked: func(pod *api.PodSandbox, ctr *api.Container) {
		unhooked = append(unhooked, pod.GetName()+"/"+ctr.GetId())
	}}
	hooked := &api.Container{Id: "hooked", PodSandboxId: "p1", Hooks: h.Hooks()}
	other := &api.Container{Id: "other-hook", PodSandboxId: "p1", Hooks: Hook{Path: "/elsewhere", TimeoutSeconds: 1}.Hooks()}
	bare := &api.Container{Id: "bare", PodSandboxId: "p2"}
	updates, err := p.Synchronize(context.Background(),
		[]*api.PodSandbox{{Id: "p1", Name: "one"}, {Id: "p2", Name: "two"}}, []*api.Container{hooked, other, bare})
	if err != nil || updates != nil {
		t.Fatalf("Synchronize: %v, %v", updates, err)
	}
	if want := []string{"one/other-hook", "two/bare"}; !slices.Equal(unhooked, want) {
		t.Errorf("unhooked %q, want %q", unhooked, want)
	}
}
