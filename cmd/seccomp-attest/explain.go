package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/knowledge"
	"github.com/seccomp-attest/seccomp-attest/pkg/score"
)

func init() { subcommands = append(subcommands, newExplainCommand) }

// explainOptions are the flags of explain.
type explainOptions struct {
	rulesFile string
}

func newExplainCommand() *cobra.Command {
	var o explainOptions
	cmd := &cobra.Command{
		Use:   "explain SYSCALL",
		Short: "What a syscall does, why it matters in a container, and how it is scored",
		Long: `Print what the knowledge base says about SYSCALL: what it does, why it is
risky in a container, notable CVEs and escape techniques, its tier and the
capability that makes it legitimate; its numbers on every architecture; the
syscalls that can do the same work; and the dangerous uses the score probes
(with --rules, as that rules file says).`,
		Example: `  seccomp-attest explain ptrace
  seccomp-attest explain socket`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := strings.ToLower(strings.TrimSpace(args[0]))
			var nums []string
			for _, a := range arch.All {
				if nr, ok := a.SyscallNr(name); ok {
					nums = append(nums, fmt.Sprintf("%s %d", a.Name, nr-a.NrBase))
				}
			}
			kb := knowledge.Default()
			if len(nums) == 0 && !kb.Has(name) {
				return fmt.Errorf("explain: %q is not a syscall of any known architecture", args[0])
			}
			rules := score.DefaultRules()
			if o.rulesFile != "" {
				var err error
				if rules, err = score.LoadRules(o.rulesFile); err != nil {
					return err
				}
			}
			eff := rules.Effective(kb)
			s := kb.Lookup(name)
			tier := s.Tier
			var uses []score.Use
			if r, ok := eff.Syscalls[name]; ok {
				if r.Tier != nil {
					tier = *r.Tier
				}
				uses = r.Uses
			}
			w := cmd.OutOrStdout()
			desc := tierName(tier)
			if eff.ForcesFail(tier) {
				desc += ", forces the failing grade when permitted"
			}
			fmt.Fprintf(w, "%s  (tier %d: %s)\n", name, tier, desc)
			fmt.Fprintf(w, "  what:        %s\n", s.What)
			fmt.Fprintf(w, "  risk:        %s\n", s.Risk)
			if len(s.CVEs) > 0 {
				fmt.Fprintf(w, "  known:       %s\n", strings.Join(s.CVEs, ", "))
			}
			if s.Capability != "" {
				fmt.Fprintf(w, "  capability:  %s\n", s.Capability)
			}
			if len(s.Args32) > 0 {
				pos := make([]string, len(s.Args32))
				for i, a := range s.Args32 {
					pos[i] = fmt.Sprintf("args[%d]", a)
				}
				fmt.Fprintf(w, "  32-bit args: %s (the kernel ignores their high 32 bits; filters must not compare them)\n", strings.Join(pos, ", "))
			}
			if alts := kb.AlternativesOf(name); len(alts) > 0 {
				fmt.Fprintf(w, "  same work:   %s\n", strings.Join(alts, ", "))
			}
			for _, u := range uses {
				fmt.Fprintf(w, "  use:         %s (tier %d, probes: %d)\n", u.Name, u.Tier, len(u.Probes))
			}
			if len(nums) > 0 {
				fmt.Fprintf(w, "  numbers:     %s\n", strings.Join(nums, ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.rulesFile, "rules", "", "rules file (YAML or JSON) extending the embedded rules")
	return cmd
}

func tierName(t int) string {
	switch t {
	case knowledge.TierCritical:
		return "critical"
	case knowledge.TierHigh:
		return "high"
	case knowledge.TierMedium:
		return "medium"
	}
	return "ordinary"
}
