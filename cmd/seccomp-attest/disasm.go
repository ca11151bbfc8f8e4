package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

func init() { subcommands = append(subcommands, newDisasmCommand) }

func newDisasmCommand() *cobra.Command {
	var archName string
	cmd := &cobra.Command{
		Use:   "disasm [FILE]",
		Short: "Disassemble a raw seccomp filter",
		Long: `Disassemble a raw seccomp filter: an array of struct sock_filter in host byte
order, as PTRACE_SECCOMP_GET_FILTER returns it (and seccomp-tools dump -f raw
writes it). FILE "-" or no FILE reads standard input.

Syscall numbers are named from the architecture the filter itself checks on
each path; --arch names them where it checks none. The listing is printed even
for a filter the kernel would refuse; the command then fails with the reason.`,
		Example: `  seccomp-attest disasm filter.bpf
  seccomp-attest disasm --arch aarch64 - < filter.bpf`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := bytecode.DisasmOptions{Arch: arch.Native()}
			if archName != "" {
				a, err := arch.ByName(archName)
				if err != nil {
					return err
				}
				opts.Arch = a
			}
			name := "-"
			if len(args) == 1 {
				name = args[0]
			}
			raw, err := readFilter(name, cmd.InOrStdin())
			if err != nil {
				return err
			}
			prog, err := bytecode.Decode(raw)
			if err != nil {
				return fmt.Errorf("%s: %w", displayName(name), err)
			}
			if err := bytecode.WriteDisassembly(cmd.OutOrStdout(), prog, opts); err != nil {
				return err
			}
			if err := bytecode.Validate(prog); err != nil {
				return fmt.Errorf("%s: %w", displayName(name), err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&archName, "arch", "", "architecture whose syscall names to use where the filter checks none (default: this machine's)")
	return cmd
}

// readFilter reads a raw filter from a file or, for "-", from stdin. It
// reads at most one byte more than the largest filter the kernel accepts,
// so that a huge input fails in Decode instead of filling memory.
func readFilter(name string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, bytecode.MaxInstructions*bytecode.InstructionSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", displayName(name), err)
	}
	return raw, nil
}

func displayName(name string) string {
	if name == "-" {
		return "standard input"
	}
	return name
}
