package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/ociprofile"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

func init() { subcommands = append(subcommands, newDecompileCommand) }

// decompileOptions are the flags of decompile.
type decompileOptions struct {
	color   colorFlag
	format  string
	sources sourceFlags
}

func newDecompileCommand() *cobra.Command {
	var o decompileOptions
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
oci an OCI linux.seccomp object for a runtime on this machine. Compiled by runc
or crun with this machine's libseccomp, that profile is never weaker than the
filter: it denies every input the filter denies. Where OCI cannot say what the
filter does (rules that differ between architectures, tests of the instruction
pointer or of arguments libseccomp cannot compare, numbers without a syscall
name, syscalls this libseccomp does not know, architectures runc does not
accept), the profile denies what the filter lets through there, or denies with
another action; stderr lists each such place ("approximated: ...") and nothing
else records them. Everywhere else runc's compilation decides exactly like the
filter (crun adds no ENOSYS stub: numbers above the highest syscall the profile
names get the default action there). The profile is compiled as runc would and
diffed with the filter before it is printed (a build without libseccomp says it
could not). Details: docs/decision-table.md.

The text names each syscall's parameters as the kernel does and the constants
it defines for them (socket(family, type, protocol): family == AF_VSOCK;
clone flags, personality values); on a terminal it colours the actions
(--color).`,
		Example: `  seccomp-attest decompile filter.bpf
  seccomp-attest decompile pid:1234 --format json
  seccomp-attest decompile bpf:0.bpf,1.bpf --format oci > profile.json
  seccomp-attest decompile --runtime crun --capabilities docker-default,SYS_ADMIN builtin:docker-20.10`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := o.sources.resolver()
			if err != nil {
				return err
			}
			src, err := resolveSource(r, args[0])
			if err != nil {
				return err
			}
			if len(src.Stack) == 0 {
				if o.format == "text" {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: no seccomp filter: the kernel allows every system call\n", src.Description)
					return nil
				}
				return fmt.Errorf("%s: no seccomp filter to decompile", src.Description)
			}
			tab, err := bytecode.AnalyzeStack(src.Stack)
			if err != nil {
				return fmt.Errorf("%s: %w", src.Description, err)
			}
			out := cmd.OutOrStdout()
			switch o.format {
			case "text":
				w, err := o.color.output(cmd)
				if err != nil {
					return err
				}
				if err := tab.WriteText(w); err != nil {
					return err
				}
				return w.Close()
			case "json":
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(tab)
			case "oci":
				p, err := ociprofile.Write(src.Stack, tab, spec.OCIOptions{})
				if err != nil && !errors.Is(err, ociprofile.ErrUnverified) {
					return fmt.Errorf("%s: %w", src.Description, err)
				}
				writeApproximations(cmd.ErrOrStderr(), p, err)
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(p.Seccomp)
			}
			return fmt.Errorf("unknown --format %q (want %s)", o.format, strings.Join([]string{"text", "json", "oci"}, ", "))
		},
	}
	o.color.register(cmd)
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text, json or oci")
	o.sources.register(cmd, "profile:, bundle: and builtin: sources")
	return cmd
}

// writeApproximations tells where the OCI profile differs from the filter,
// and that it is never weaker.
func writeApproximations(w io.Writer, p *spec.OCIProfile, unverified error) {
	stricter := 0
	for _, a := range p.Approximations {
		fmt.Fprintf(w, "approximated: %s\n", a)
		if a.Stricter {
			stricter++
		}
	}
	if unverified != nil {
		fmt.Fprintf(w, "note: %v\n", unverified)
	}
	switch {
	case len(p.Approximations) == 0 && unverified != nil:
		fmt.Fprintln(w, "decompile: the profile writes exactly what the filter does (unchecked, see the note)")
	case len(p.Approximations) == 0:
		fmt.Fprintln(w, "decompile: compiled by runc, this profile decides exactly like the filter")
	case stricter == 0:
		fmt.Fprintf(w, "decompile: the profile is never weaker than the filter; in the %d places above it denies with another action\n", len(p.Approximations))
	default:
		fmt.Fprintf(w, "decompile: the profile is never weaker than the filter; in the %d places above it is stricter (%d) or denies with another action\n",
			len(p.Approximations), stricter)
	}
}
