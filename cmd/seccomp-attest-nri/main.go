// Command seccomp-attest-nri is seccomp-attest's NRI plugin (pkg/nriplugin):
// connected to a CRI runtime's NRI socket (containerd 2.x, CRI-O), it adds
// the seccomp-attest OCI hook at createRuntime, poststart and poststop to
// every container, so that a Kubernetes node needs no runtime class:
//
//	seccomp-attest-nri [--nri-socket PATH] [--idx NN] [--hook PATH]
//	                   [--hook-config FILE] [--hook-socket PATH] [--hook-timeout SECONDS]
//
// It exits when the runtime closes the connection (a restart of
// containerd): its supervisor (systemd, the DaemonSet) starts it again.
// Containers created while it is away get no hook; list the plugin in
// containerd's NRI default_validator required_plugins so that they are
// refused instead (packaging/kubernetes). When it connects it logs, as
// errors, the containers the runtime has without the hook.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
	"github.com/sirupsen/logrus"

	"github.com/seccomp-attest/seccomp-attest/pkg/nriplugin"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(argv []string) int {
	fs := flag.NewFlagSet("seccomp-attest-nri", flag.ContinueOnError)
	nriSocket := fs.String("nri-socket", "/var/run/nri/nri.sock", "the runtime's NRI socket")
	idx := fs.String("idx", "10", "the plugin's NRI index (two digits: its place among the plugins)")
	hookPath := fs.String("hook", "/usr/libexec/seccomp-attest/seccomp-attest-hook", "the hook program, a path on the host")
	hookConfig := fs.String("hook-config", "", "the hook's --config (default: the hook's, /etc/seccomp-attest/config.yaml)")
	hookSocket := fs.String("hook-socket", "", "seccomp-attestd's socket, the hook's --socket (default: the hook's)")
	hookTimeout := fs.Int("hook-timeout", 10, "seconds the runtime gives each hook run")
	verbose := fs.Bool("verbose", false, "log every container the hooks are added to")
	if err := fs.Parse(argv); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "seccomp-attest-nri: unexpected arguments %q\n", fs.Args())
		return 2
	}
	hook := nriplugin.Hook{Path: *hookPath, Config: *hookConfig, Socket: *hookSocket, TimeoutSeconds: *hookTimeout}
	if err := hook.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "seccomp-attest-nri: %v\n", err)
		return 2
	}
	if st, err := os.Stat(hook.Path); err != nil || !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
		fmt.Fprintf(os.Stderr, "seccomp-attest-nri: hook %s is not an executable file\n", hook.Path)
		return 2
	}

	log := logrus.New()
	log.SetFormatter(&logrus.JSONFormatter{})
	plugin := &nriplugin.Plugin{Hook: hook, Unhooked: func(pod *api.PodSandbox, ctr *api.Container) {
		log.WithFields(logrus.Fields{"id": ctr.GetId(), "namespace": pod.GetNamespace(), "pod": pod.GetName(), "container": ctr.GetName(), "state": ctr.GetState().String()}).
			Error("container without the seccomp-attest hook: created while the plugin was away, never checked")
	}}
	if *verbose {
		plugin.Logf = log.Infof
	}
	s, err := stub.New(plugin,
		stub.WithPluginName(nriplugin.Name), stub.WithPluginIdx(*idx), stub.WithSocketPath(*nriSocket),
		// A plugin that cannot answer fails the container's creation
		// instead of letting it start without the hook (runtimes without
		// failure policies ignore this; required_plugins covers them).
		stub.WithFailurePolicy(&api.FailurePolicy{FailRequest: true}),
		stub.WithOnClose(func() { log.Warnf("the runtime closed the NRI connection at %s", *nriSocket) }))
	if err != nil {
		fmt.Fprintf(os.Stderr, "seccomp-attest-nri: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := s.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintf(os.Stderr, "seccomp-attest-nri: NRI connection at %s: %v\n", *nriSocket, err)
		return 1
	}
	return 0
}
