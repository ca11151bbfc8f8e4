// Command seccomp-attest reads, explains, compares and attests the seccomp
// filters that the kernel enforces on processes and containers.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/internal/version"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// Exit codes shared by every subcommand: 0 success (or "equivalent",
// "pass"), 1 a negative answer (different, failing), 2 an error, 3
// undecided (the analysis could not decide within its budget, or diff found
// only parts it could not model exactly; a gate that needs proof fails on
// anything but 0).
const (
	exitOK        = 0
	exitNo        = 1
	exitError     = 2
	exitUndecided = 3
	// exitTampered is verify's answer for evidence that was tampered
	// with or is incomplete.
	exitTampered = 3
)

// negativeAnswer is returned by commands whose answer is "no" (diff found
// differences, a check failed) after they printed their output.
var errNegativeAnswer = errors.New("negative answer")

// errUndecidedAnswer is returned by commands that could not decide (diff
// found only undecided parts) after they printed their output.
var errUndecidedAnswer = errors.New("undecided answer")

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "seccomp-attest",
		Short:         "Read, explain, compare and attest the seccomp filters the kernel enforces",
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, add := range subcommands {
		root.AddCommand(add())
	}
	return root
}

// subcommands is filled by the init functions of the files that define them,
// so each subcommand lives in a file of its own.
var subcommands []func() *cobra.Command

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCommand()
	root.SetArgs(args)
	err := root.Execute()
	code := exitCode(err)
	if code == exitError || code == exitUndecided && !errors.Is(err, errUndecidedAnswer) && !errors.Is(err, errBrokenEvidence) {
		fmt.Fprintf(os.Stderr, "seccomp-attest: %s\n", errorLine(err))
	}
	return code
}

// exitCode maps a command's error to the exit status.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errNegativeAnswer):
		return exitNo
	case errors.Is(err, errUndecidedAnswer):
		return exitUndecided
	case errors.Is(err, errBrokenEvidence):
		return exitTampered
	case errors.Is(err, bytecode.ErrTooComplex):
		return exitUndecided
	}
	return exitError
}

// errorLine is the one line printed for an error: an analysis past its
// budget or deadline is an answer ("undecided"), not a failure of the tool.
func errorLine(err error) string {
	if errors.Is(err, bytecode.ErrTooComplex) {
		return "undecided: " + err.Error()
	}
	return err.Error()
}
