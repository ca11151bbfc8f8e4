package main

import (
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

func init() { subcommands = append(subcommands, newAttestCommand) }

func newAttestCommand() *cobra.Command {
	var (
		keyPath, store, bundle, id, out, runtimeName, runtimeVersion string
	)
	cmd := &cobra.Command{
		Use:   "attest pid:N --key KEY",
		Short: "Sign an attestation of the filters a live process runs under",
		Long: `Read the seccomp filters of every thread of process N, and write a signed
in-toto attestation of them into the host store (chained to the previous
one), into the bundle (--bundle DIR, which also makes config.json a subject)
and to --out FILE.

This records the effective filters only: intended profile, diff, policy and
verdict stay absent until a policy pipeline fills them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pid, err := parsePIDArg(args[0])
			if err != nil {
				return err
			}
			if keyPath == "" {
				return fmt.Errorf("attest: --key is required")
			}
			signer, err := attest.LoadSigner(keyPath)
			if err != nil {
				return err
			}
			req := attest.Request{Signer: signer, Store: attest.Store{Dir: store}}
			if bundle != "" {
				if req.Bundle, err = attest.ReadBundle(bundle); err != nil {
					return err
				}
			}
			pf, err := bytecode.ReadProcess(pid)
			if err != nil {
				return err
			}
			if id == "" {
				id = "pid-" + strconv.Itoa(pid)
			}
			req.Predicate = attest.Predicate{
				Container: attest.Container{ID: id, PID: pid},
				Effective: attest.EffectiveFromProcess(pf),
				Tool:      attest.Tool{Name: "seccomp-attest", Version: toolVersion()},
			}
			if runtimeName != "" {
				req.Predicate.Container.Runtime = &attest.Runtime{Name: runtimeName, Version: runtimeVersion}
			}
			res, err := attest.Attest(cmd.Context(), req)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, res.StorePath)
			if res.BundlePath != "" {
				fmt.Fprintln(w, res.BundlePath)
			}
			if out != "" {
				if err := attest.WriteFileAtomic(out, res.Envelope, 0o644); err != nil {
					return fmt.Errorf("--out (the store has it: %s): %w", res.StorePath, err)
				}
				fmt.Fprintln(w, out)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyPath, "key", "", "private signing key (PKCS#8 PEM, mode 0600)")
	f.StringVar(&store, "store", attest.DefaultStore, "host attestation store")
	f.StringVar(&bundle, "bundle", "", "OCI bundle of the container (config.json becomes a subject; a copy is written there)")
	f.StringVar(&id, "id", "", "container id (default pid-N)")
	f.StringVar(&out, "out", "", "also write the attestation to FILE")
	f.StringVar(&runtimeName, "runtime", "", "OCI runtime name to record")
	f.StringVar(&runtimeVersion, "runtime-version", "", "OCI runtime version to record")
	return cmd
}

// parsePIDArg accepts pid:N (and a bare N).
func parsePIDArg(s string) (int, error) {
	pid, err := strconv.Atoi(strings.TrimPrefix(s, "pid:"))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%q: want pid:N with N a positive number", s)
	}
	return pid, nil
}

// toolVersion is the module version stamped by the go command, "(devel)"
// for builds from a checkout.
func toolVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
