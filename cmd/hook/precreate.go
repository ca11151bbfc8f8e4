package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/pkg/record"
)

// stagePrecreate is podman's (containers/common's hooks) stage that gets
// the container's OCI configuration on stdin and gives the runtime what
// the hook prints on stdout. It is no OCI runtime stage: the daemon never
// sees it, and the hook does its one job, selecting recording, here.
const stagePrecreate = "precreate"

// isPrecreate reports whether the command line names the precreate stage
// (the last argument; flags come before it).
func isPrecreate(argv []string) bool {
	return len(argv) > 0 && argv[len(argv)-1] == stagePrecreate
}

// precreate: seccomp-attest-hook [--record-socket=PATH] precreate <
// config.json > config.json. A container whose annotations carry
// seccomp-attest.dev/record gets the recording profile as linux.seccomp,
// notifying the recorder at PATH (default the daemon's record socket);
// any other configuration is printed back unchanged. It fails closed: a
// container asked to be recorded never starts unrecorded.
func precreate(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seccomp-attest-hook precreate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("record-socket", record.DefaultSocket, "the recorder's socket, the recording profile's listenerPath (seccomp-attestd serve --record-socket, seccomp-attest record serve --socket)")
	// The other stages' flags, which one rewrite of hooks.d may give
	// every file: they say nothing to this stage.
	fs.String("socket", "", "seccomp-attestd's socket (not used at precreate)")
	fs.String("config", "", "configuration file (not used at precreate)")
	if err := fs.Parse(argv); err != nil {
		return exitError
	}
	if fs.NArg() != 1 || fs.Arg(0) != stagePrecreate {
		fmt.Fprintf(stderr, "usage: seccomp-attest-hook [--record-socket=PATH] precreate < config.json\n")
		return exitError
	}
	fail := func(err error) int {
		msg := fmt.Sprintf("seccomp-attest-hook: precreate: %v: refusing to start a container asked to be recorded (%s) unrecorded\n", err, record.Annotation)
		io.WriteString(stderr, msg)
		tellParent(msg)
		return exitError
	}
	if !filepath.IsAbs(*socket) {
		return fail(fmt.Errorf("--record-socket %q: runtimes need an absolute path", *socket))
	}
	config, err := record.ReadConfig(stdin)
	if err != nil {
		return fail(fmt.Errorf("read the container's configuration on stdin: %w", err))
	}
	out, _, err := record.Precreate(config, record.ProfileOptions{ListenerPath: *socket})
	if err != nil {
		return fail(err)
	}
	if _, err := stdout.Write(out); err != nil {
		return fail(fmt.Errorf("write the configuration: %w", err))
	}
	return 0
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
