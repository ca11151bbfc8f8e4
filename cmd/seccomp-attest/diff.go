package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
)

func init() { subcommands = append(subcommands, newDiffCommand) }

// diffOptions are the flags of diff.
type diffOptions struct {
	format  string
	sources sourceFlags
}

func newDiffCommand() *cobra.Command {
	var o diffOptions
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Compare what two filters (or stacks) decide, syscall by syscall",
		Long: `Compare the decisions of B with those of A (the reference) on every
architecture, syscall number and argument value, and list where they differ:
weaker (B lets through what A denies), stricter, changed (another errno, kill
instead of errno, log instead of allow) and undecided (parts the analysis could
not model exactly). Every finding comes with a concrete input on which both
filters were run with the kernel's semantics.

A and B are pid:N or bpf:FILE[,FILE...] (a stack, oldest first) or a path to a
raw filter. A process without a filter compares as "allow everything".
Intended profiles are compiled as --runtime would (needs a build with
-tags libseccomp): profile:FILE (OCI linux.seccomp, Docker or podman profile,
config.json or Security Profiles Operator SeccompProfile YAML), bundle:DIR
(an OCI bundle) or builtin:NAME (docker-default, docker-20.10,
podman-default, podman-4.3); Docker and podman profiles and builtins are
resolved for --capabilities. A directory with a config.json or a
*.json/*.yaml path is recognised without the prefix. "-" is a raw filter on
standard input; bpf:- and profile:- read it too (for one of A and B). Files
must be regular files within the caps of docs/limits.md: a filter at most
4096 instructions, a profile or config.json 4 MiB.
Exit status: 0 equivalent, 1 different, 2 error, 3 undecided: no
difference was proved but parts could not be modelled exactly, or the
analysis went past its budget (about a second of work: "too complex");
policies count undecided as weaker.`,
		Example: `  seccomp-attest diff expected.bpf pid:1234
  seccomp-attest diff bpf:docker.bpf bpf:docker.bpf,extra.bpf --format json
  seccomp-attest diff builtin:docker-default pid:1234
  seccomp-attest diff --capabilities docker-default,SYS_ADMIN builtin:docker-20.10 bundle:DIR
  seccomp-attest diff --runtime crun bundle:/run/containers/ID pid:1234`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.format != "text" && o.format != "json" {
				return fmt.Errorf("unknown --format %q (want text or json)", o.format)
			}
			r, err := o.sources.resolver()
			if err != nil {
				return err
			}
			var stacks [2]bytecode.Stack
			for i, arg := range args {
				src, err := resolveSource(r, arg)
				if err != nil {
					return err
				}
				stacks[i] = src.Stack
			}
			res, err := compare.Stacks(stacks[0], stacks[1])
			if err != nil {
				return err
			}
			if o.format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(res.Report()); err != nil {
					return err
				}
			} else {
				writeDiffText(cmd.OutOrStdout(), args[0], args[1], res)
			}
			switch {
			case res.Equivalent():
				return nil
			case res.Count(compare.Undecided) == len(res.Findings):
				return errUndecidedAnswer
			}
			return errNegativeAnswer
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
	o.sources.register(cmd, "profile:, bundle: and builtin: sources")
	return cmd
}

// maxConditionalLines bounds the conditional findings listed one per line
// for each kind: a hostile pair of filters can differ in hundreds of
// thousands of places, which no one reads as text.
const maxConditionalLines = 200

func writeDiffText(w io.Writer, a, b string, res *compare.Result) {
	if res.Equivalent() {
		fmt.Fprintf(w, "%s and %s decide alike on every input\n", a, b)
		return
	}
	if n := res.Count(compare.Undecided); n == len(res.Findings) {
		fmt.Fprintf(w, "%s -> %s: undecided: no difference proved, %d parts not modelled exactly\n", a, b, n)
	} else {
		fmt.Fprintf(w, "%s -> %s: %d weaker, %d stricter, %d changed, %d undecided\n", a, b,
			res.Count(compare.Weaker), res.Count(compare.Stricter), res.Count(compare.Changed), res.Count(compare.Undecided))
	}
	titles := map[compare.Kind]string{
		compare.Weaker:    "weaker (B lets through what A denies)",
		compare.Stricter:  "stricter (B denies what A lets through)",
		compare.Changed:   "changed",
		compare.Undecided: "undecided (not modelled exactly; counts as weaker for policies)",
	}
	for _, k := range []compare.Kind{compare.Weaker, compare.Undecided, compare.Stricter, compare.Changed} {
		if res.Count(k) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", titles[k])
		// Unconditional findings with the same actions are listed
		// together, one example each group; conditional ones one by one.
		type groupKey struct {
			arch string
			a, b bytecode.Action
		}
		groups := map[groupKey][]*compare.Finding{}
		var order []groupKey
		conditional, unlisted := 0, 0
		for i := range res.Findings {
			f := &res.Findings[i]
			if f.Kind != k {
				continue
			}
			if len(f.When) > 0 {
				if conditional++; conditional > maxConditionalLines {
					unlisted++
					continue
				}
				fmt.Fprintf(w, "  %-7s %s: %s -> %s when %s\n          e.g. %s\n", f.Arch, f.Label(), f.A, f.B, f.When, f.Call())
				continue
			}
			key := groupKey{f.Arch, f.A, f.B}
			if _, ok := groups[key]; !ok {
				order = append(order, key)
			}
			groups[key] = append(groups[key], f)
		}
		for _, key := range order {
			fs := groups[key]
			names := make([]string, 0, 12)
			for i, f := range fs {
				if i == 12 {
					names = append(names, fmt.Sprintf("and %d more", len(fs)-12))
					break
				}
				names = append(names, f.Label())
			}
			fmt.Fprintf(w, "  %-7s %s -> %s: %s\n          e.g. %s\n", key.arch, key.a, key.b, strings.Join(names, ", "), fs[0].Call())
		}
		if unlisted > 0 {
			fmt.Fprintf(w, "  and %d more conditional findings (--format json lists every one)\n", unlisted)
		}
	}
}
