package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
	"github.com/seccomp-attest/seccomp-attest/pkg/asm"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
)

func init() { subcommands = append(subcommands, newAsmCommand) }

// asmText is the kind of asm's input: text within the assembler's bound.
var asmText = inputfile.Kind{Name: "the text of a filter", Max: asm.MaxTextSize, Limit: "4 MiB"}

// asmOptions are the flags of asm.
type asmOptions struct {
	archName, outPath string
}

func newAsmCommand() *cobra.Command {
	var o asmOptions
	cmd := &cobra.Command{
		Use:   "asm [FILE]",
		Short: "Assemble disasm's text back into a raw seccomp filter",
		Long: `Assemble the text of a filter into raw struct sock_filter bytes (host byte
order), the input of disasm, dump --out's files and crun's
run.oci.seccomp_bpf_data. FILE "-" or no FILE reads standard input.

The text is what disasm prints, as a listing (the index and raw columns are
skipped; an index must match the instruction's position) or in its asm form
(disasm --format asm): one instruction a line (A = sys_number, A = family,
if (A == socket) goto allow, A &= CLONE_NEWUSER, return ERRNO(1)...), labels
("allow:") or line numbers as jump targets, "#" comments, ".arch NAME" for the
architecture syscall names are read from where the program checks none (or
--arch), ".raw OP JT JF K" for any instruction. Names resolve as disasm wrote
them: syscall names by the arch the path has checked, parameter and constant
names by the syscall it has compared. disasm's text assembles back into the
same bytes.

The program must be one the kernel accepts; errors name the line. The filter
goes to --out, or to standard output when that is not a terminal.`,
		Example: `  seccomp-attest disasm --format asm filter.bpf > filter.asm
  seccomp-attest asm filter.asm --out filter.bpf
  seccomp-attest disasm filter.bpf | seccomp-attest asm - | cmp - filter.bpf`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := archOrNative(o.archName)
			if err != nil {
				return err
			}
			opts := asm.Options{Arch: a}
			name := fileArg(args)
			text, err := inputfile.ReadArg(name, cmd.InOrStdin(), asmText)
			if err != nil {
				return err
			}
			display := inputfile.DisplayName(name)
			prog, lines, err := asm.AssembleLines(bytes.NewReader(text), opts)
			if err != nil {
				return fmt.Errorf("%s: %w", display, err)
			}
			if err := bpf.Validate(prog); err != nil {
				var ve *bpf.ValidationError
				if errors.As(err, &ve) && ve.Index >= 0 && ve.Index < len(lines) {
					return fmt.Errorf("%s: line %d: %w", display, lines[ve.Index], err)
				}
				return fmt.Errorf("%s: %w", display, err)
			}
			raw := bpf.Encode(prog)
			if o.outPath != "" {
				if err := os.WriteFile(o.outPath, raw, 0o644); err != nil {
					return fmt.Errorf("asm: --out: %w", err)
				}
				return nil
			}
			if isTerminal(cmd.OutOrStdout()) {
				return fmt.Errorf("asm: the filter is binary: give --out FILE or redirect standard output")
			}
			_, err = cmd.OutOrStdout().Write(raw)
			return err
		},
	}
	cmd.Flags().StringVar(&o.archName, "arch", "", "architecture whose syscall names to read where the program checks none and the text has no .arch (default: this machine's)")
	cmd.Flags().StringVarP(&o.outPath, "out", "o", "", "write the filter to this file")
	return cmd
}
