package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/sysconst"
)

func init() { subcommands = append(subcommands, newEvalCommand) }

// evalOptions are the flags of eval.
type evalOptions struct {
	color                    colorFlag
	archName, ipFlag, format string
	sources                  sourceFlags
}

func newEvalCommand() *cobra.Command {
	var o evalOptions
	cmd := &cobra.Command{
		Use:   "eval SOURCE SYSCALL [ARG...]",
		Short: "Run a filter or a stack on one system call and show what decides it",
		Long: `Run the filters of SOURCE (a raw filter, bpf:A,B for a stack oldest first,
pid:N, a profile or bundle compiled as --runtime would, "-" for a raw filter
on standard input) on one system call, with the kernel's semantics, and print
the action the kernel takes, the instructions each filter executed, and which
filter of a stack decided (seccomp-tools calls this emu).

SYSCALL is a name of --arch's table or a number (seccomp_data.nr; for x32 the
X32_SYSCALL_BIT is added when missing). Up to six ARGs follow: numbers in
Go syntax (42, 0x2a, 0o52, -1 is 0xffffffffffffffff) or, where the kernel
names the argument's constants, their names (AF_VSOCK, CLONE_NEWUSER|CLONE_NEWNS).
Missing arguments are 0. --ip sets seccomp_data.instruction_pointer.`,
		Example: `  seccomp-attest eval docker.bpf socket AF_VSOCK 1 0
  seccomp-attest eval --format json bpf:0.bpf,1.bpf clone 0x10000000
  seccomp-attest eval --arch x32 - read < filter.bpf`,
		Args: cobra.RangeArgs(2, 8),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.format != "text" && o.format != "json" {
				return fmt.Errorf("eval: --format %q: want text or json", o.format)
			}
			in, err := parseEvalInput(o.archName, args[1], args[2:], o.ipFlag)
			if err != nil {
				return fmt.Errorf("eval: %w", err)
			}
			r, err := o.sources.resolver()
			if err != nil {
				return err
			}
			src, err := resolveSource(r, args[0])
			if err != nil {
				return err
			}
			res := newEvalResult(in, src.Stack)
			if o.format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			w, err := o.color.output(cmd)
			if err != nil {
				return err
			}
			res.writeText(w, src.Stack)
			return w.Close()
		},
	}
	cmd.Flags().StringVar(&o.archName, "arch", "", "architecture of the call: its AUDIT_ARCH value and syscall table (default: this machine's)")
	cmd.Flags().StringVar(&o.ipFlag, "ip", "0", "instruction pointer of the call (seccomp_data.instruction_pointer)")
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
	o.color.register(cmd)
	o.sources.register(cmd, "a profile SOURCE")
	return cmd
}

// evalInput is one system call as the filter sees it, with the names it
// was given by.
type evalInput struct {
	arch    *arch.Arch
	syscall string // name in arch's table, "" if none
	data    bytecode.Data
}

// parseEvalInput builds the seccomp_data of eval's arguments.
func parseEvalInput(archName, syscall string, args []string, ip string) (evalInput, error) {
	a, err := archOrNative(archName)
	if err != nil {
		return evalInput{}, err
	}
	if a == nil {
		return evalInput{}, fmt.Errorf("this machine's architecture has no seccomp table: give --arch")
	}
	in := evalInput{arch: a, data: bytecode.Data{Arch: a.Audit}}
	if nr, ok := a.SyscallNr(syscall); ok {
		in.data.Nr, in.syscall = nr, syscall
	} else {
		v, err := parseNumber(syscall, 32)
		if err != nil {
			return evalInput{}, fmt.Errorf("syscall %q: not a name of the %s table nor a number", syscall, a.Name)
		}
		in.data.Nr = uint32(v) | a.NrBase
		in.syscall, _ = a.SyscallName(in.data.Nr)
	}
	if len(args) > len(in.data.Args) {
		return evalInput{}, fmt.Errorf("%d arguments: a system call has at most 6", len(args))
	}
	for i, s := range args {
		v, err := parseArgValue(a, in.syscall, i, s)
		if err != nil {
			return evalInput{}, fmt.Errorf("argument %d %q: %w", i, s, err)
		}
		in.data.Args[i] = v
	}
	v, err := parseNumber(ip, 64)
	if err != nil {
		return evalInput{}, fmt.Errorf("--ip %q: %w", ip, err)
	}
	in.data.InstructionPointer = v
	return in, nil
}

// parseNumber reads an unsigned number in Go syntax; a negative one is
// taken in two's complement of bits, as a C caller passing -1 would.
func parseNumber(s string, bits int) (uint64, error) {
	if neg, ok := strings.CutPrefix(s, "-"); ok {
		v, err := strconv.ParseInt("-"+neg, 0, bits)
		if err != nil {
			return 0, fmt.Errorf("not a %d-bit number", bits)
		}
		return uint64(v) & (1<<bits - 1), nil
	}
	v, err := strconv.ParseUint(s, 0, bits)
	if err != nil {
		return 0, fmt.Errorf("not a %d-bit number", bits)
	}
	return v, nil
}

// parseArgValue reads an argument: a number, or constant names of the
// syscall's argument joined by |.
func parseArgValue(a *arch.Arch, syscall string, i int, s string) (uint64, error) {
	if v, err := parseNumber(s, 64); err == nil {
		return v, nil
	}
	v, err := sysconst.ParseArg(syscall, a.ArgName(syscall, i), s)
	if err != nil {
		return 0, err
	}
	return uint64(v), nil
}

// evalResult is eval's answer; its JSON form is the --format json output.
type evalResult struct {
	Arch               string        `json:"arch"`
	Audit              string        `json:"audit_arch"`
	Nr                 uint32        `json:"nr"`
	Syscall            string        `json:"syscall,omitempty"`
	Args               [6]string     `json:"args"`
	InstructionPointer string        `json:"instruction_pointer"`
	Action             string        `json:"action"`
	Value              string        `json:"value"`
	Permits            bool          `json:"permits"`
	DecidedBy          int           `json:"decided_by"`
	Filters            []evalFilter  `json:"filters"`
	input              bytecode.Data `json:"-"`
}

// evalFilter is one filter's run: index 0 is the oldest.
type evalFilter struct {
	Index        int    `json:"index"`
	Instructions int    `json:"instructions"`
	Action       string `json:"action"`
	Value        string `json:"value"`
	Path         []int  `json:"path"`
}

func newEvalResult(in evalInput, s bytecode.Stack) *evalResult {
	tr := s.Trace(&in.data)
	r := &evalResult{
		Arch: in.arch.Name, Audit: fmt.Sprintf("%#x", in.data.Arch), Nr: in.data.Nr, Syscall: in.syscall,
		InstructionPointer: fmt.Sprintf("%#x", in.data.InstructionPointer),
		Action:             tr.Action.Effective().String(), Value: fmt.Sprintf("0x%08x", uint32(tr.Action)),
		Permits: tr.Action.Permits(), DecidedBy: tr.Decider, Filters: []evalFilter{}, input: in.data,
	}
	for i, v := range in.data.Args {
		r.Args[i] = fmt.Sprintf("%#x", v)
	}
	for i, run := range tr.Runs {
		r.Filters = append(r.Filters, evalFilter{
			Index: i, Instructions: s[i].Len(), Action: run.Action.Effective().String(),
			Value: fmt.Sprintf("0x%08x", uint32(run.Action)), Path: run.Path,
		})
	}
	return r
}

// writeText prints the input, each filter's executed lines (disassembled
// with the call's arch) and the verdict.
func (r *evalResult) writeText(w io.Writer, s bytecode.Stack) {
	name := r.Syscall
	if name == "" {
		name = "?"
	}
	fmt.Fprintf(w, "call: %s %s (nr %d), args %s, ip %s\n", r.Arch, name, r.Nr,
		strings.Join(r.Args[:], " "), r.InstructionPointer)
	a, _ := arch.ByName(r.Arch)
	for i, f := range r.Filters {
		fmt.Fprintf(w, "filter %d (%d instructions): %s after %d instructions\n", i, f.Instructions,
			f.Action, len(f.Path))
		for _, l := range bytecode.DisassembleAt(s[i].Instructions(), bytecode.DisasmOptions{Arch: a}, f.Path) {
			fmt.Fprintln(w, l)
		}
	}
	switch {
	case len(r.Filters) == 0:
		fmt.Fprintf(w, "action: %s (no filter)\n", r.Action)
	case len(r.Filters) == 1:
		fmt.Fprintf(w, "action: %s\n", r.Action)
	default:
		fmt.Fprintf(w, "action: %s, decided by filter %d of %d (0 = oldest)\n", r.Action, r.DecidedBy, len(r.Filters))
	}
}
