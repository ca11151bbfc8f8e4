// Package nriplugin is seccomp-attest's NRI plugin: it adds the OCI hook
// (cmd/hook) at createRuntime, poststart and poststop to every container a
// CRI runtime (containerd, CRI-O) creates, as hooks.d does for podman. The
// hook does the work (internal/hook, through seccomp-attestd and pkg/pipeline);
// the plugin only tells the runtime to run it.
package nriplugin

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/containerd/nri/pkg/api"
)

// Name is the plugin's NRI name, without its index: what containerd's
// default validator lists under required_plugins.
const Name = "seccomp-attest"

// Stages are the OCI hook stages the plugin adds the hook to, in the
// order the runtime runs them.
var Stages = []string{"createRuntime", "poststart", "poststop"}

// Hook says which hook program to add and how to call it.
type Hook struct {
	// Path is the hook program on the host (runtimes run hooks in the
	// host's mount namespace).
	Path string
	// Config is the hook's --config; "" leaves the hook's default.
	Config string
	// Socket is seccomp-attestd's socket (--socket=); "" leaves the
	// hook's default.
	Socket string
	// TimeoutSeconds bounds each hook run; the runtime kills a hook
	// past it and fails the container.
	TimeoutSeconds int
}

// Validate says what is wrong with h, if anything.
func (h Hook) Validate() error {
	var probs []string
	if !filepath.IsAbs(h.Path) {
		probs = append(probs, fmt.Sprintf("hook path %q is not absolute", h.Path))
	}
	if h.Config != "" && !filepath.IsAbs(h.Config) {
		probs = append(probs, fmt.Sprintf("hook config %q is not absolute", h.Config))
	}
	if h.Socket != "" && !filepath.IsAbs(h.Socket) {
		probs = append(probs, fmt.Sprintf("hook socket %q is not absolute", h.Socket))
	}
	if h.TimeoutSeconds < 1 {
		probs = append(probs, fmt.Sprintf("hook timeout %d s is not positive", h.TimeoutSeconds))
	}
	if len(probs) > 0 {
		return errors.New(strings.Join(probs, "; "))
	}
	return nil
}

// Args are the hook's arguments for stage, argv[0] included, as the
// shipped hooks.d files give them.
func (h Hook) Args(stage string) []string {
	args := []string{"seccomp-attest-hook"}
	if h.Socket != "" {
		args = append(args, "--socket="+h.Socket)
	}
	if h.Config != "" {
		args = append(args, "--config", h.Config)
	}
	return append(args, stage)
}

// Hooks are the OCI hooks the plugin adds to a container.
func (h Hook) Hooks() *api.Hooks {
	one := func(stage string) []*api.Hook {
		return []*api.Hook{{Path: h.Path, Args: h.Args(stage), Timeout: api.Int(h.TimeoutSeconds)}}
	}
	return &api.Hooks{CreateRuntime: one(Stages[0]), Poststart: one(Stages[1]), Poststop: one(Stages[2])}
}

// Plugin implements the NRI Synchronize and CreateContainer requests.
type Plugin struct {
	Hook Hook
	// Logf, when set, is told of every container the hooks were added to.
	Logf func(format string, args ...any)
	// Unhooked is told, when the plugin connects, of every container the
	// runtime has that lacks the hook: created while the plugin was away
	// (containerd 2.4's NRI lets the first container after a plugin's
	// death through without it), so nothing checked or attested it.
	Unhooked func(pod *api.PodSandbox, ctr *api.Container)
}

// Synchronize reports the runtime's containers that lack the hook.
func (p *Plugin) Synchronize(_ context.Context, pods []*api.PodSandbox, ctrs []*api.Container) ([]*api.ContainerUpdate, error) {
	if p.Unhooked == nil {
		return nil, nil
	}
	podByID := make(map[string]*api.PodSandbox, len(pods))
	for _, pod := range pods {
		podByID[pod.GetId()] = pod
	}
	for _, ctr := range ctrs {
		if !p.Hook.In(ctr.GetHooks()) {
			p.Unhooked(podByID[ctr.GetPodSandboxId()], ctr)
		}
	}
	return nil, nil
}

// In says whether hooks run this hook program at createRuntime, where it
// refuses a container before it starts.
func (h Hook) In(hooks *api.Hooks) bool {
	for _, x := range hooks.GetCreateRuntime() {
		if x.GetPath() == h.Path {
			return true
		}
	}
	return false
}

// CreateContainer adds the hooks to ctr. Every container gets them: the
// hook decides, from the policy, what passes.
func (p *Plugin) CreateContainer(_ context.Context, pod *api.PodSandbox, ctr *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	adjust := &api.ContainerAdjustment{}
	adjust.AddHooks(p.Hook.Hooks())
	if p.Logf != nil {
		p.Logf("hooks added to container %s (%s/%s/%s)", ctr.GetId(), pod.GetNamespace(), pod.GetName(), ctr.GetName())
	}
	return adjust, nil, nil
}
