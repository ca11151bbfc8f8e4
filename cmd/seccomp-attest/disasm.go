package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/asm"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

func init() { subcommands = append(subcommands, newDisasmCommand) }

// disasmOptions are the flags of disasm.
type disasmOptions struct {
	color            colorFlag
	archName, format string
}

func newDisasmCommand() *cobra.Command {
	var o disasmOptions
	cmd := &cobra.Command{
		Use:   "disasm [FILE]",
		Short: "Disassemble a raw seccomp filter",
		Long: `Disassemble a raw seccomp filter: an array of struct sock_filter in host byte
order, as PTRACE_SECCOMP_GET_FILTER returns it (and seccomp-tools dump -f raw
writes it). FILE "-" or no FILE reads standard input. FILE must be a
regular file; at most 4096 instructions (32768 bytes) are read.

Syscall numbers are named from the architecture the filter itself checks on
each path; --arch names them where it checks none. After the syscall number is
compared, its arguments are named as the kernel names them (A = family  #
socket(family, type, protocol)) and compared constants by the kernel's names
where it defines them (AF_VSOCK, CLONE_NEWUSER, PER_LINUX32). The listing is
printed even for a filter the kernel would refuse; the command then fails
with the reason.

--format asm prints the input form of "seccomp-attest asm": labels instead of
line numbers, the --arch as a .arch directive, and .raw OP JT JF K for an
instruction the text cannot say exactly; asm turns it (or the listing) back
into the same bytes. On a terminal the listing colours actions (--color).`,
		Example: `  seccomp-attest disasm filter.bpf
  seccomp-attest disasm --arch aarch64 - < filter.bpf
  seccomp-attest disasm --format asm filter.bpf > filter.asm`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.format != "text" && o.format != "asm" {
				return fmt.Errorf("disasm: --format %q: want text or asm", o.format)
			}
			a, err := archOrNative(o.archName)
			if err != nil {
				return err
			}
			opts := bytecode.DisasmOptions{Arch: a}
			name := fileArg(args)
			raw, err := inputfile.ReadArg(name, cmd.InOrStdin(), inputfile.Filter)
			if err != nil {
				return err
			}
			prog, err := bpf.Decode(raw)
			if err != nil {
				return fmt.Errorf("%s: %w", inputfile.DisplayName(name), err)
			}
			if o.format == "asm" {
				if err := asm.Format(cmd.OutOrStdout(), prog, asm.Options{Arch: opts.Arch}); err != nil {
					return err
				}
			} else {
				w, err := o.color.output(cmd)
				if err != nil {
					return err
				}
				if err := bytecode.WriteDisassembly(w, prog, opts); err != nil {
					return err
				}
				if err := w.Close(); err != nil {
					return err
				}
			}
			if err := bpf.Validate(prog); err != nil {
				return fmt.Errorf("%s: %w", inputfile.DisplayName(name), err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.archName, "arch", "", "architecture whose syscall names to use where the filter checks none (default: this machine's)")
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text (the listing) or asm (the input form of asm)")
	o.color.register(cmd)
	return cmd
}

// archOrNative resolves --arch: the named architecture, or this machine's
// when the flag is empty.
func archOrNative(name string) (*arch.Arch, error) {
	if name == "" {
		return arch.Native(), nil
	}
	a, err := arch.ByName(name)
	if err != nil {
		return nil, fmt.Errorf("--arch: %w", err)
	}
	return a, nil
}

// fileArg is the optional FILE argument: "-" (standard input) when absent.
func fileArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "-"
}
