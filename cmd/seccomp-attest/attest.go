package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/internal/procscan"
	"github.com/seccomp-attest/seccomp-attest/internal/version"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
	"github.com/seccomp-attest/seccomp-attest/pkg/source"
)

func init() { subcommands = append(subcommands, newAttestCommand) }

// attestOptions are the flags of attest.
type attestOptions struct {
	keyPath, store, bundle, id, out, runtimeName, runtimeVersion, policyArg, mode, name string
}

func newAttestCommand() *cobra.Command {
	var o attestOptions
	cmd := &cobra.Command{
		Use:   "attest pid:N|container:ID --key KEY [--bundle DIR] [--policy FILE]",
		Short: "Judge a live process's filters and sign an attestation of them",
		Long: `Read the seccomp filters of every thread of process N and write a signed
in-toto attestation into the host store (chained to the previous one), into
the bundle (--bundle DIR) and to --out FILE: the same attestation the OCI hook
writes at poststart, on demand (containers started before the hook was
installed, CI jobs, incident response).

With --bundle, the bundle's config.json is the intended profile (compiled as
--runtime compiles it), a subject of the attestation, and the diff of
intended against effective is recorded. The policy (--policy, default the
embedded default policy) gives the verdict.

container:ID (the id, or a prefix of 4 characters or more, as docker ps and
podman ps print it) finds a running container in the state of runc, crun,
Docker and containerd (podman uses runc's and crun's): its init, its bundle
and the runtime that created it, which --bundle, --id and --runtime then
default to.

Exit status: 0 the verdict passes, 1 it fails, 2 error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var pid int
			if ref, ok := strings.CutPrefix(args[0], "container:"); ok {
				found, err := procscan.Lookup(ref, "", nil)
				if err != nil {
					return err
				}
				pid = found.InitPID
				f := cmd.Flags()
				if !f.Changed("bundle") {
					o.bundle = found.Bundle
				}
				if !f.Changed("id") {
					o.id = found.ID
				}
				if !f.Changed("runtime") {
					o.runtimeName = found.Runtime
				}
			} else {
				var err error
				if pid, err = parsePIDArg(args[0]); err != nil {
					return err
				}
			}
			if o.keyPath == "" {
				return fmt.Errorf("attest: --key is required")
			}
			no := false
			cfg := &config.Config{Policy: o.policyArg, Mode: o.mode, Key: o.keyPath, GenerateKey: &no, Store: o.store}
			p, err := pipeline.New(cfg, pipeline.Options{ToolVersion: version.String()})
			if err != nil {
				return err
			}
			pf, err := procfilters.ReadProcessContext(cmd.Context(), pid)
			if err != nil {
				return err
			}
			if o.id == "" {
				o.id = "pid-" + strconv.Itoa(pid)
			}
			c := pipeline.Container{ID: o.id, Bundle: o.bundle, PID: pid, Runtime: o.runtimeName, RuntimeVersion: o.runtimeVersion, Name: o.name}
			outcome, err := p.AttestEffective(cmd.Context(), c, pf)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, outcome.Attestation.StorePath)
			if outcome.Attestation.BundlePath != "" {
				fmt.Fprintln(w, outcome.Attestation.BundlePath)
			}
			if o.out != "" {
				if err := attest.WriteFileAtomic(o.out, outcome.Attestation.Envelope, 0o644); err != nil {
					return fmt.Errorf("--out (the store has it: %s): %w", outcome.Attestation.StorePath, err)
				}
				fmt.Fprintln(w, o.out)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "verdict: %s\n", outcome.Summary())
			if outcome.Verdict.Result != attest.ResultPass {
				return errNegativeAnswer
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.keyPath, "key", "", "private signing key (PKCS#8 PEM, mode 0600)")
	f.StringVar(&o.store, "store", attest.DefaultStore, "host attestation store")
	f.StringVar(&o.bundle, "bundle", "", "OCI bundle of the container: intended profile, config.json subject, and a copy of the attestation")
	f.StringVar(&o.policyArg, "policy", "", "policy file or preset:NAME (default: the embedded default policy)")
	f.StringVar(&o.mode, "mode", "", "override the policy's mode: enforce or audit")
	f.StringVar(&o.id, "id", "", "container id (default pid-N)")
	f.StringVar(&o.name, "name", "", "container name, for the policy's exceptions (default: the id)")
	f.StringVar(&o.out, "out", "", "also write the attestation to FILE")
	f.StringVar(&o.runtimeName, "runtime", "runc", "OCI runtime that created the container (runc or crun: how the intended profile compiles)")
	f.StringVar(&o.runtimeVersion, "runtime-version", "", "OCI runtime version to record")
	return cmd
}

// parsePIDArg accepts pid:N (and a bare N).
func parsePIDArg(s string) (int, error) {
	text := s
	if !strings.Contains(s, ":") {
		text = "pid:" + s
	}
	src, err := source.Syntax{Kinds: []source.Kind{source.PID}}.Parse(text)
	if err != nil {
		return 0, fmt.Errorf("%q: want pid:N with N a positive number", s)
	}
	return src.PID, nil
}
