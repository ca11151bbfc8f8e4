package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
	"github.com/seccomp-attest/seccomp-attest/pkg/policy"
	"github.com/seccomp-attest/seccomp-attest/pkg/source"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

func init() { subcommands = append(subcommands, newCheckCommand) }

// checkOptions are the flags of check.
type checkOptions struct {
	format, intended, policyFile, name string
	sources                            sourceFlags
}

func newCheckCommand() *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check SOURCE",
		Short: "Judge a filter (or a process's filters) against a policy",
		Long: `Evaluate the effective filter of SOURCE against a policy (docs/policy.md):
by default the embedded one, which fails a process without seccomp, a filter
weaker than both Docker's and podman's default profiles at the same input,
and a filter weaker than the intended profile when that is known.

SOURCE is any source diff accepts (pid:N, bpf:FILE[,FILE...], profile:FILE,
bundle:DIR, builtin:NAME, a path, or - for a raw filter on standard input;
bpf:- and profile:- read it too, for one source). A process without a filter is
unconfined. A profile: or bundle: SOURCE is compiled as --runtime would and
is both the effective and the intended filter; --intended names another
intended source. --policy takes a policy file (YAML or JSON) or
preset:default / preset:strict. Files must be regular files within the caps
of docs/limits.md: a filter at most 4096 instructions, a profile or
config.json 4 MiB, a policy 1 MiB. Builtin baselines are resolved for
--capabilities, else for the bounding set of the bundle (SOURCE or
--intended), else for each engine's default set.
Exit status: 0 pass, 1 fail, 2 error.`,
		Example: `  seccomp-attest check pid:1234
  seccomp-attest check pid:1234 --intended bundle:/run/containers/ID --name web
  seccomp-attest check --policy preset:strict --format json pid:1234`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.format != "text" && o.format != "json" {
				return fmt.Errorf("unknown --format %q (want text or json)", o.format)
			}
			pol, _, err := policy.Open(o.policyFile)
			if err != nil {
				return err
			}
			r, err := o.sources.resolver()
			if err != nil {
				return err
			}
			src, err := resolveSource(r, args[0])
			if err != nil {
				return err
			}
			in := policy.Input{
				Effective:     src.Stack,
				Unconfined:    len(src.Stack) == 0,
				ContainerName: o.name,
				Runtime:       r.Runtime,
			}
			var bundle *spec.Profile
			if src.Kind == source.Bundle || src.Kind == source.Profile {
				// The compiled profile is what the runtime loads, so it is
				// also the container's intended filter.
				in.Intended = src.Stack
				if src.Kind == source.Bundle {
					bundle = src.Profile
				}
			}
			if o.intended != "" {
				isrc, err := resolveSource(r, o.intended)
				if err != nil {
					return fmt.Errorf("--intended: %w", err)
				}
				in.Intended = isrc.Stack
				if bundle == nil && isrc.Kind == source.Bundle {
					bundle = isrc.Profile
				}
			}
			// Builtin baselines are resolved for the container's
			// capabilities: --capabilities, else its bundle's bounding set.
			in.Capabilities = r.Capabilities
			if bundle != nil {
				in.Annotations = bundle.Annotations
				if in.Capabilities == nil {
					in.Capabilities = bundle.Capabilities
				}
			}
			v, err := pol.Evaluate(in)
			if err != nil {
				return err
			}
			if o.format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(checkJSON(v, pol, args[0])); err != nil {
					return err
				}
			} else {
				writeCheckText(cmd.OutOrStdout(), v)
			}
			if v.Result != policy.Pass {
				return errNegativeAnswer
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&o.intended, "intended", "", "intended profile source (profile:, bundle:, builtin:, bpf:)")
	cmd.Flags().StringVar(&o.policyFile, "policy", "", "policy file (YAML or JSON) or preset:NAME; default: the embedded default policy")
	cmd.Flags().StringVar(&o.name, "name", "", "container name, for the policy's exceptions")
	o.sources.register(cmd, "profiles (SOURCE, --intended, baselines, denySyscalls)")
	return cmd
}

func writeCheckText(w io.Writer, v *policy.Verdict) {
	switch {
	case v.Result == policy.Fail:
		fmt.Fprintf(w, "FAIL (%s)\n", v.Mode)
	case v.Exception != "":
		fmt.Fprintf(w, "PASS (exception: %s)\n", v.Exception)
	case len(v.Reasons) > 0:
		fmt.Fprintf(w, "PASS (%s; would fail in enforce mode)\n", v.Mode)
	default:
		fmt.Fprintln(w, "PASS")
	}
	for _, r := range v.Reasons {
		fmt.Fprintf(w, "  %s\n", r)
	}
	for _, n := range v.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

type jsonVerdict struct {
	Result    string                  `json:"result"`
	Mode      string                  `json:"mode"`
	Policy    string                  `json:"policy"`
	Source    string                  `json:"source"`
	Exception string                  `json:"exception,omitempty"`
	Reasons   []string                `json:"reasons"`
	Notes     []string                `json:"notes"`
	Findings  []compare.FindingReport `json:"findings"`
}

func checkJSON(v *policy.Verdict, p *policy.Policy, src string) jsonVerdict {
	out := jsonVerdict{Result: v.Result, Mode: v.Mode, Policy: p.Source(), Source: src, Exception: v.Exception,
		Reasons: v.Reasons, Notes: v.Notes,
		Findings: (&compare.Result{Findings: v.Findings}).Report().Findings}
	if out.Reasons == nil {
		out.Reasons = []string{}
	}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	return out
}
