package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/internal/version"
	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/record"
)

func init() {
	recordSubcommands = append(recordSubcommands,
		newRecordServeCommand, newRecordProfileCommand, newRecordBundleCommand, newRecordWaitCommand)
}

// Where the recorder answers and writes unless told otherwise
// (seccomp-attestd serve --record-socket takes the same defaults).
const (
	defaultRecordSocket = record.DefaultSocket
	defaultRecordDir    = record.DefaultDir
)

func newRecordServeCommand() *cobra.Command {
	var socket, dir string
	cmd := &cobra.Command{
		Use:   "serve [--socket PATH] [--dir DIR]",
		Short: "Answer recording containers' seccomp notifications and write their recordings",
		Long: `Listen on PATH (the listenerPath of recording profiles) for the runtimes of
containers that run under a recording profile (record profile, record
bundle), answer every syscall they are notified of after recording it, and
write each container's recording to DIR/NAME.json: at once and while the
workload runs with "complete": false, with "complete": true when its last
process has ended. Runs until SIGTERM or SIGINT; recordings under way then
end incomplete (their workloads get ENOSYS from then on). seccomp-attestd
serve --record-socket does the same in the daemon (docs/record.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := record.ListenRecorder(socket)
			if err != nil {
				return fmt.Errorf("record serve: %w", err)
			}
			defer os.Remove(socket)
			log := config.NewJSONLogger()
			log.SetOutput(cmd.ErrOrStderr())
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			r := &record.Recorder{Dir: dir, Version: version.String(), Log: log}
			log.WithField("socket", socket).WithField("dir", dir).Info("recording")
			return r.Serve(ctx, l)
		},
	}
	cmd.Flags().StringVar(&socket, "socket", defaultRecordSocket, "unix socket runtimes send listeners to (the profile's listenerPath)")
	cmd.Flags().StringVar(&dir, "dir", defaultRecordDir, "directory the recordings are written to")
	return cmd
}

// recordingProfileFlags are the flags that shape a recording profile.
type recordingProfileFlags struct {
	socket, name string
	arches       []string
}

func (f *recordingProfileFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.socket, "socket", defaultRecordSocket, "the recorder's socket (listenerPath)")
	cmd.Flags().StringVar(&f.name, "name", "", "name of the recording file (NAME.json; default: the container's ID)")
	cmd.Flags().StringSliceVar(&f.arches, "arch", nil, "architectures to record (default: this machine's and the ones it also runs, x86_64: x86_64,x86,x32)")
}

func (f *recordingProfileFlags) profile() ([]byte, error) {
	o := record.ProfileOptions{ListenerPath: f.socket, Name: f.name}
	for _, name := range f.arches {
		a, err := arch.ByName(name)
		if err != nil {
			return nil, err
		}
		o.Arches = append(o.Arches, a)
	}
	if !filepath.IsAbs(o.ListenerPath) {
		return nil, fmt.Errorf("--socket %q: runtimes need an absolute path", o.ListenerPath)
	}
	p, err := record.RecordingProfile(o)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(p, "", "  ")
}

func newRecordProfileCommand() *cobra.Command {
	var (
		f   recordingProfileFlags
		out string
	)
	cmd := &cobra.Command{
		Use:   "profile [--socket PATH] [--name NAME] [--arch A,...] [-o FILE]",
		Short: "Print the seccomp profile that records a container's workload",
		Long: `Print the recording profile: every syscall notified to the recorder at
--socket (SCMP_ACT_NOTIFY, listenerPath), except write, exit and exit_group
(allowed); numbers the runtime cannot name get ENOSYS. It is an OCI
linux.seccomp object, which podman's --security-opt seccomp=FILE, Docker's
(through wrapper-runc, which restores the listenerPath dockerd drops) and a
CRI localhost profile also read. A recorder must answer on the socket
(record serve, or seccomp-attestd serve --record-socket) before the
container starts: runc and crun refuse to start it otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := f.profile()
			if err != nil {
				return fmt.Errorf("record profile: %w", err)
			}
			data = append(data, '\n')
			if out == "" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			return os.WriteFile(out, data, 0o644)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the profile to FILE instead of standard output")
	return cmd
}

func newRecordBundleCommand() *cobra.Command {
	var f recordingProfileFlags
	cmd := &cobra.Command{
		Use:   "bundle [--socket PATH] [--name NAME] [--arch A,...] DIR",
		Short: "Make a runc or crun bundle record its workload",
		Long: `Replace linux.seccomp in DIR/config.json with the recording profile (the
rest of the file is kept as it is; the previous seccomp object is printed on
standard error). Then run the bundle with runc or crun while a recorder
answers on --socket; the recording is written when the container ends.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			profile, err := f.profile()
			if err != nil {
				return fmt.Errorf("record bundle: %w", err)
			}
			old, err := record.SetBundleSeccomp(args[0], profile)
			if err != nil {
				return fmt.Errorf("record bundle: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "seccomp-attest: record bundle: %s records to %s; its previous linux.seccomp was: %s\n", args[0], f.socket, compactJSON(old))
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func compactJSON(raw json.RawMessage) string {
	if raw == nil {
		return "null"
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

func newRecordWaitCommand() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "wait [--timeout D] RECORDING.json",
		Short: "Wait until a recording has ended; fail if it is incomplete",
		Long: `Wait until the recorder has ended the recording (its container's last
recorded process exited, or the recorder stopped). Exit status 0 when the
recording is complete, 1 when it ended incomplete (the problem is printed),
2 when it did not end within --timeout (a recording left in progress: the
recorder died) or cannot be read.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			path := args[0]
			var last error
			for {
				data, err := os.ReadFile(path)
				if err == nil {
					rec, derr := record.Decode(data)
					if derr != nil {
						return fmt.Errorf("record wait: %s: %w", path, derr)
					}
					if !rec.Ended.IsZero() {
						if !rec.Complete {
							fmt.Fprintf(cmd.OutOrStdout(), "%s: incomplete: %s\n", path, rec.Problem)
							return errNegativeAnswer
						}
						fmt.Fprintf(cmd.OutOrStdout(), "%s: complete\n", path)
						return nil
					}
					last = fmt.Errorf("still in progress (%s)", rec.Problem)
				} else {
					last = err
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("record wait: %s did not end within %s: %v", path, timeout, last)
				case <-time.After(20 * time.Millisecond):
				}
			}
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait")
	return cmd
}
