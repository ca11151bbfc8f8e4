package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

func init() { subcommands = append(subcommands, newDecompileCommand) }

func newDecompileCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "decompile SOURCE",
		Short: "Turn a filter (or a stack) into its decision table",
		Long: `Decompile the filters of SOURCE into a decision table: for every architecture
the program tests, every syscall number, the ordered rules (argument conditions
and actions) the kernel applies. SOURCE is pid:N (all filters of the process's
main thread), bpf:FILE[,FILE...] (a stack, oldest first), a path to a raw
filter, or an intended profile (profile:FILE, bundle:DIR, builtin:NAME)
compiled as --runtime would, resolved for --capabilities. For a stack the table is what the kernel does: every filter runs and the
strongest action wins.

--format text is for people, json the full table (docs/decision-table.md),
oci an OCI linux.seccomp object that libseccomp compiles to a filter behaving
like this one for every named syscall; what OCI cannot express (per-arch rules,
instruction pointer tests, some argument tests) is listed on stderr and, with
--format oci, nowhere else.`,
		Example: `  seccomp-attest decompile filter.bpf
  seccomp-attest decompile pid:1234 --format json
  seccomp-attest decompile bpf:0.bpf,1.bpf --format oci > profile.json
  seccomp-attest decompile --runtime crun --capabilities docker-default,SYS_ADMIN builtin:docker-20.10`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := loadFilterSource(args[0])
			if err != nil {
				return err
			}
			if len(src.stack) == 0 {
				if format == "text" {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: no seccomp filter: the kernel allows every system call\n", src.desc)
					return nil
				}
				return fmt.Errorf("%s: no seccomp filter to decompile", src.desc)
			}
			tab, err := bytecode.AnalyzeStack(src.stack)
			if err != nil {
				return fmt.Errorf("%s: %w", src.desc, err)
			}
			out := cmd.OutOrStdout()
			switch format {
			case "text":
				return tab.WriteText(out)
			case "json":
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(tab)
			case "oci":
				p, err := tab.OCI()
				if err != nil {
					return fmt.Errorf("%s: %w", src.desc, err)
				}
				for _, a := range p.Approximations {
					fmt.Fprintf(cmd.ErrOrStderr(), "approximated: %s\n", a)
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(p.Seccomp)
			}
			return fmt.Errorf("unknown --format %q (want %s)", format, strings.Join([]string{"text", "json", "oci"}, ", "))
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or oci")
	addProfileFlags(cmd, "profile:, bundle: and builtin: sources")
	return cmd
}
