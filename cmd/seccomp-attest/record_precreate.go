package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/pkg/record"
)

func init() { recordSubcommands = append(recordSubcommands, newRecordPrecreateCommand) }

// newRecordPrecreateCommand is podman's precreate hook (containers/common's
// hooks.d extension stage: the hook gets the container's OCI configuration
// on stdin, the runtime gets what it prints). It runs only for containers
// annotated seccomp-attest.dev/record (hooks.d/record/), in this program
// rather than in seccomp-attest-hook, which every container start waits
// for and which must stay small.
func newRecordPrecreateCommand() *cobra.Command {
	var socket string
	cmd := &cobra.Command{
		Use:   "precreate [--record-socket PATH] < config.json > config.json",
		Short: "podman's precreate hook: give an annotated container the recording profile",
		Long: `Read a container's OCI configuration on stdin and print it on stdout. A
container whose annotations carry seccomp-attest.dev/record gets the
recording profile as linux.seccomp, notifying the recorder at PATH (the
annotation's value names the recording); any other configuration is
printed back unchanged. It fails closed: a container asked to be recorded
never starts unrecorded (no recorder at PATH, a name that cannot be a file
name). Run by podman from hooks.d/record/ (docs/record.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return precreate(socket, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&socket, "record-socket", record.DefaultSocket, "the recorder's socket, the recording profile's listenerPath (seccomp-attestd serve --record-socket, record serve --socket)")
	return cmd
}

func precreate(socket string, stdin io.Reader, stdout io.Writer) error {
	fail := func(err error) error {
		err = fmt.Errorf("record precreate: %w: refusing to start a container asked to be recorded (%s) unrecorded", err, record.Annotation)
		tellParent("seccomp-attest: " + err.Error() + "\n")
		return err
	}
	if !filepath.IsAbs(socket) {
		return fail(fmt.Errorf("--record-socket %q: runtimes need an absolute path", socket))
	}
	config, err := record.ReadConfig(stdin)
	if err != nil {
		return fail(fmt.Errorf("read the container's configuration on stdin: %w", err))
	}
	out, _, err := record.Precreate(config, record.ProfileOptions{ListenerPath: socket})
	if err != nil {
		return fail(err)
	}
	if _, err := stdout.Write(out); err != nil {
		return fail(fmt.Errorf("write the configuration: %w", err))
	}
	return nil
}

// tellParent writes msg to the standard error of the program that ran the
// hook too, when this process's own standard error goes to /dev/null:
// podman 4.3 (containers/common's RuntimeConfigFilter) runs precreate
// hooks with no standard error, so its own message would only say "exit
// status 2". Best effort.
func tellParent(msg string) {
	var own, null unix.Stat_t
	if unix.Fstat(2, &own) != nil || unix.Stat("/dev/null", &null) != nil || own.Rdev != null.Rdev || own.Mode&unix.S_IFMT != unix.S_IFCHR {
		return
	}
	// The parent's own descriptor (pidfd_getfd) shares its file offset,
	// so that a regular file's later writes do not overwrite the message;
	// /proc/PPID/fd/2 opens the file anew.
	if pidfd, err := unix.PidfdOpen(os.Getppid(), 0); err == nil {
		fd, err := unix.PidfdGetfd(pidfd, 2, 0)
		unix.Close(pidfd)
		if err == nil {
			f := os.NewFile(uintptr(fd), "parent-stderr")
			defer f.Close()
			io.WriteString(f, msg)
			return
		}
	}
	f, err := os.OpenFile("/proc/"+strconv.Itoa(os.Getppid())+"/fd/2", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return
	}
	defer f.Close()
	io.WriteString(f, msg)
}
