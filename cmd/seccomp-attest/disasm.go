package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
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
writes it). FILE "-" or no FILE reads standard input. FILE must be a
regular file; at most 4096 instructions (32768 bytes) are read.

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
			raw, err := inputfile.ReadArg(name, cmd.InOrStdin(), inputfile.Filter)
			if err != nil {
				return err
			}
			prog, err := bytecode.Decode(raw)
			if err != nil {
				return fmt.Errorf("%s: %w", inputfile.DisplayName(name), err)
			}
			if err := bytecode.WriteDisassembly(cmd.OutOrStdout(), prog, opts); err != nil {
				return err
			}
			if err := bytecode.Validate(prog); err != nil {
				return fmt.Errorf("%s: %w", inputfile.DisplayName(name), err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&archName, "arch", "", "architecture whose syscall names to use where the filter checks none (default: this machine's)")
	return cmd
}
