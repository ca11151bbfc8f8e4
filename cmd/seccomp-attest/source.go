package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/pkg/source"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// sourceFlags are --runtime and --capabilities of a command that reads
// SOURCE arguments (package source): the runtime whose compilation the
// intended sources (profile:, bundle:, builtin:) reproduce, and the
// bounding set Docker and podman profiles and builtins are resolved for
// (parsed by spec.ParseCapabilities; "" for each engine's default).
type sourceFlags struct {
	runtime      string
	capabilities string
}

// register adds the flags to cmd, which reads the sources what says.
func (f *sourceFlags) register(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&f.runtime, "runtime", spec.RuntimeRunc,
		"runtime whose compilation of "+what+" to reproduce: runc (ENOSYS stub) or crun")
	cmd.Flags().StringVar(&f.capabilities, "capabilities", "",
		"bounding set for Docker/podman profiles and builtins: CAP_X,CAP_Y, docker-default, podman-default "+
			"(combinable: docker-default,SYS_ADMIN) or none; default: each engine's default set. "+
			"A bundle's config.json is already resolved and keeps its own")
}

// resolver resolves the SOURCE arguments of one run of a command as the
// flags say. Its sources share standard input: "-" may be given once.
func (f *sourceFlags) resolver() (*source.Resolver, error) {
	caps, err := spec.ParseCapabilities(f.capabilities)
	if err != nil {
		return nil, fmt.Errorf("--capabilities: %w", err)
	}
	return &source.Resolver{Runtime: f.runtime, Capabilities: caps, Stdin: source.NewStdin(os.Stdin)}, nil
}

// resolveSource resolves a SOURCE argument and prints what a reviewer must
// know about an intended profile (a raw filter replacing the profile under
// crun, no seccomp at all) on stderr.
func resolveSource(r *source.Resolver, text string) (*source.Resolved, error) {
	s, err := source.CommandLine.Parse(text)
	if err != nil {
		return nil, err
	}
	return resolveParsed(r, s)
}

// resolveParsed is resolveSource of a parsed SOURCE.
func resolveParsed(r *source.Resolver, s *source.Source) (*source.Resolved, error) {
	res, err := r.Resolve(s)
	if err != nil {
		return nil, err
	}
	for _, n := range res.Notes() {
		fmt.Fprintf(os.Stderr, "seccomp-attest: %s: %s\n", s.Text, n)
	}
	return res, nil
}
