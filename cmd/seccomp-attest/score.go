package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/moby/sys/capability"
	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/pkg/knowledge"
	"github.com/seccomp-attest/seccomp-attest/pkg/score"
	"github.com/seccomp-attest/seccomp-attest/pkg/source"
)

func init() { subcommands = append(subcommands, newScoreCommand) }

// scoreOptions are the flags of score.
type scoreOptions struct {
	format, baseline, rulesFile string
	minScore                    float64
	dumpRules, gradeOnly        bool
	sources                     sourceFlags
}

func newScoreCommand() *cobra.Command {
	var o scoreOptions
	cmd := &cobra.Command{
		Use:   "score SOURCE",
		Short: "Rate a filter (or a process's filters) 0-100 and report bypasses",
		Long: `Score the effective filter of SOURCE from 0 (unconfined) to 100 with a grade
(docs/score.md): every syscall the process can call on any of its ABIs costs
its tier's weight times the share of its argument cases the filter permits;
dangerous uses (clone with namespace flags, socket(AF_VSOCK), ioctl(TIOCSTI)...)
are probed with concrete arguments. A permitted tier-1 syscall (bpf, ptrace,
kexec_*, *_module, process_vm_*) forces the failing grade and caps the score.
Findings name the bypasses: 64-bit compares on 32-bit arguments, io_uring,
socketcall/ipc, x32 and i386 left open, alternative syscalls, missing arch
check, permissive default, syscalls newer than the profile; each with an input
confirmed by running the filter.

--baseline scores a builtin (or any SOURCE) resolved for the same capabilities
(--capabilities, else the bundle's or the process's bounding set) and prints
the delta (positive = stricter); "none" skips it. --rules FILE extends or
overrides the embedded rules entry by entry; --dump-rules prints the
effective rules and exits. --grade prints the letter alone, for shell use
(grade=$(seccomp-attest score --grade pid:1234)). SOURCE "-" reads a raw
filter from standard input.
Files must be regular files within the caps of docs/limits.md: a filter at
most 4096 instructions, a profile or config.json 4 MiB, a rules file 1 MiB.
Exit status: 0 at or above --min-score, 1 below, 2 error.`,
		Example: `  seccomp-attest score pid:1234
  seccomp-attest score --min-score 70 --format json profile:seccomp.json
  seccomp-attest score --dump-rules > rules.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.dumpRules {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.format != "text" && o.format != "json" {
				return fmt.Errorf("unknown --format %q (want text or json)", o.format)
			}
			if o.gradeOnly && cmd.Flags().Changed("format") {
				return fmt.Errorf("--grade prints the letter alone: it takes no --format")
			}
			rules := score.DefaultRules()
			if o.rulesFile != "" {
				var err error
				if rules, err = score.LoadRules(o.rulesFile); err != nil {
					return err
				}
			}
			if o.dumpRules {
				out, err := rules.Effective(knowledge.Default()).Dump()
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(out)
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
			opts := score.Options{Rules: rules}
			rep, err := score.ComputeStack(src.Stack, opts)
			if err != nil {
				return fmt.Errorf("%s: %w", src.Description, err)
			}
			// The letter does not depend on the baseline: --grade skips it.
			if o.baseline != "" && o.baseline != "none" && !o.gradeOnly {
				base, err := scoreBaseline(r, o.baseline, src, opts)
				if err != nil {
					return err
				}
				rep.SetBaseline(o.baseline, base)
			}
			switch {
			case o.gradeOnly:
				fmt.Fprintln(cmd.OutOrStdout(), rep.Grade)
			case o.format == "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(scoreJSON{Source: args[0], Report: rep}); err != nil {
					return err
				}
			default:
				writeScoreText(cmd.OutOrStdout(), src.Description, rep)
			}
			if cmd.Flags().Changed("min-score") && rep.Score < o.minScore {
				if o.format == "text" && !o.gradeOnly {
					fmt.Fprintf(cmd.OutOrStdout(), "below --min-score %g\n", o.minScore)
				}
				return errNegativeAnswer
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
	cmd.Flags().Float64Var(&o.minScore, "min-score", 0, "exit 1 when the score is below this (CI gate)")
	cmd.Flags().StringVar(&o.baseline, "baseline", "builtin:docker-default",
		"source to compare the score with (resolved for the same capabilities), or none")
	cmd.Flags().StringVar(&o.rulesFile, "rules", "", "rules file (YAML or JSON) extending the embedded rules")
	cmd.Flags().BoolVar(&o.dumpRules, "dump-rules", false, "print the effective rules and exit")
	cmd.Flags().BoolVar(&o.gradeOnly, "grade", false, "print the grade letter alone (for shell use); exit status as without it")
	o.sources.register(cmd, "profiles (SOURCE and --baseline)")
	return cmd
}

type scoreJSON struct {
	Source string `json:"source"`
	*score.Report
}

// scoreBaseline scores the baseline source with r, the resolver of the
// scored source; a builtin is resolved for the capabilities the scored
// source runs with.
func scoreBaseline(r *source.Resolver, baseline string, scored *source.Resolved, opts score.Options) (*score.Report, error) {
	caps, err := sourceCapabilities(r, scored)
	if err != nil {
		return nil, err
	}
	b, err := source.CommandLine.Parse(baseline)
	if err != nil {
		return nil, fmt.Errorf("--baseline: %w", err)
	}
	br := *r // shares r's standard input
	if b.Kind == source.Builtin && caps != nil {
		br.Capabilities = caps
	}
	src, err := resolveParsed(&br, b)
	if err != nil {
		return nil, fmt.Errorf("--baseline: %w", err)
	}
	rep, err := score.ComputeStack(src.Stack, opts)
	if err != nil {
		return nil, fmt.Errorf("--baseline %s: %w", src.Description, err)
	}
	return rep, nil
}

// sourceCapabilities is the bounding set the scored source runs with:
// --capabilities, else a bundle's, else a live process's; nil (each
// engine's default) when unknown.
func sourceCapabilities(r *source.Resolver, scored *source.Resolved) ([]string, error) {
	if r.Capabilities != nil {
		return r.Capabilities, nil
	}
	switch scored.Kind {
	case source.Bundle:
		return scored.Profile.Capabilities, nil
	case source.PID:
		return processBoundingSet(scored.PID)
	}
	return nil, nil
}

// processBoundingSet reads the capability bounding set of a process.
func processBoundingSet(pid int) ([]string, error) {
	c, err := capability.NewPid2(pid)
	if err != nil {
		return nil, fmt.Errorf("pid:%d: capabilities: %w", pid, err)
	}
	if err := c.Load(); err != nil {
		return nil, fmt.Errorf("pid:%d: capabilities: %w", pid, err)
	}
	caps := []string{}
	for _, cp := range capability.ListKnown() {
		if c.Get(capability.BOUNDING, cp) {
			caps = append(caps, "CAP_"+strings.ToUpper(cp.String()))
		}
	}
	return caps, nil
}

// writeScoreText prints the score seccomp-tools style: one line of score,
// the costliest syscalls, then the findings with their inputs.
func writeScoreText(w io.Writer, desc string, rep *score.Report) {
	kb := knowledge.Default()
	fmt.Fprintf(w, "%s\n", desc)
	line := fmt.Sprintf("score %.1f/100  grade %s", rep.Score, rep.Grade)
	if rep.ForcedFail {
		line += fmt.Sprintf("  (forced: %s permitted; %.1f before the cap)", strings.Join(rep.Forcing, ", "), rep.RawScore)
	}
	fmt.Fprintln(w, line)
	if b := rep.Baseline; b != nil {
		fmt.Fprintf(w, "baseline %s: %.1f (%s, raw %.1f), delta %+.1f (%s)\n", b.Source, b.Score, b.Grade, b.RawScore, b.Delta, deltaWord(b.Delta))
	}
	fmt.Fprintf(w, "ABIs: %s\n", strings.Join(rep.Arches, ", "))
	if len(rep.Syscalls) > 0 {
		fmt.Fprintln(w, "\ncostliest permitted:")
		for i, s := range rep.Syscalls {
			if i == 15 {
				fmt.Fprintf(w, "  ... %d more (--format json lists all)\n", len(rep.Syscalls)-15)
				break
			}
			what := fmt.Sprintf("%.0f%% of cases", s.Exposure*100)
			if s.Exposure == 1 {
				what = "always"
			}
			for _, u := range s.Uses {
				if u.Permitted {
					what += "; " + u.Name
				}
			}
			fmt.Fprintf(w, "  tier %d  %-18s %-6.1f %s\n", s.Tier, s.Name, s.Cost, what)
			if s.Tier <= knowledge.TierHigh {
				fmt.Fprintf(w, "          %s\n", kb.Lookup(s.Name).What)
			}
		}
	}
	if len(rep.Findings) > 0 {
		fmt.Fprintln(w, "\nfindings:")
	}
	for _, f := range rep.Findings {
		where := f.Arch
		if where != "" {
			where = " " + where
		}
		fmt.Fprintf(w, "  %-8s %s%s: %s\n", strings.ToUpper(f.Severity), f.Kind, where, f.Message)
		if f.Input != nil {
			conf := ""
			if f.Confirmed {
				conf = "  (confirmed by running the filter)"
			}
			fmt.Fprintf(w, "           input: nr %d %s%s\n", f.Input.Nr, f.Input.Call, conf)
		}
	}
}

func deltaWord(d float64) string {
	switch {
	case d > 0:
		return "stricter"
	case d < 0:
		return "weaker"
	}
	return "same"
}
