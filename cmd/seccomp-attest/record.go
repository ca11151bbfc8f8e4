package main

import "github.com/spf13/cobra"

func init() { subcommands = append(subcommands, newRecordCommand) }

// recordSubcommands are the subcommands of `record`, filled by the init
// functions of the files that define them (record_*.go), like subcommands.
var recordSubcommands []func() *cobra.Command

func newRecordCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "record",
		Short: "Record what a workload asks the kernel for, and make a least-privilege profile of it",
		Long: `Record the syscalls a container's workload makes (and the arguments default
profiles condition on) into a recording, then generate a least-privilege
seccomp profile from one or more recordings (docs/record.md).`,
		Args: cobra.NoArgs,
	}
	for _, add := range recordSubcommands {
		cmd.AddCommand(add())
	}
	return cmd
}
