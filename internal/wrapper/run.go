package wrapper

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
)

// run gives `run` the guarantee of create + start: after the static check
// it runs the real runtime's create, holds the init at its exec stop
// through the checked start, and then does what run does in the
// foreground: the wrapper, a child subreaper like runc run, forwards the
// signals it gets to the container's init, waits for it, deletes the
// container (unless --keep) and exits with its status. The container's
// stdio are the wrapper's own, passed through create unchanged.
//
// Two cases keep runc's own run after the static check only, because
// create cannot reproduce them: a terminal without --console-socket (run
// itself then copies the pseudoterminal) and socket activation
// (LISTEN_FDS is tied to the runtime's pid).
func (w *wrapper) run() int {
	if err := w.staticCheck(); err != nil {
		w.report.refuse(err)
		return exitRefused
	}
	bundle, err := w.bundleDir()
	if err != nil {
		w.report.refuse(err)
		return exitRefused
	}
	terminal, err := wantsTerminal(bundle)
	if err != nil {
		w.report.refuse(fmt.Errorf("seccomp-attest: container %s: %v", w.opts.ID, err))
		return exitRefused
	}
	if (terminal && w.opts.ConsoleSocket == "") || os.Getenv("LISTEN_FDS") != "" {
		w.report.decision(w.fields(w.container(bundle)), "run: static check only (terminal without --console-socket, or LISTEN_FDS)")
		w.report.close()
		return w.rt.exec(w.inv.Argv())
	}
	defer w.report.close()

	if !w.opts.Detach {
		// The init is create's child; when create exits it comes to us,
		// so that its exit status can be waited for.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			w.report.error(fmt.Errorf("wrapper-runc: become a child subreaper: %v", err))
			return exitError
		}
	}
	// The init's pid comes from create's --pid-file (a private one unless
	// given): cheaper than asking `state`.
	pidFile := w.opts.PidFile
	if pidFile == "" {
		pidFile = filepath.Join(os.TempDir(), fmt.Sprintf("wrapper-runc-%d.pid", os.Getpid()))
		defer os.Remove(pidFile)
	}
	if code := w.runCreate(bundle, pidFile); code != 0 {
		return code
	}
	pid, err := readPidFile(pidFile)
	if err != nil {
		w.report.error(fmt.Errorf("wrapper-runc: container %s after create: %v", w.opts.ID, err))
		w.deleteContainer()
		return exitError
	}
	// Annotations are the bundle's (the pipeline reads them).
	st := &ociState{ID: w.opts.ID, Pid: pid, Status: "created", Bundle: bundle}
	startArgv := append(append([]string{}, w.inv.GlobalArgs...), "start", w.opts.ID)
	if code := w.checkedStart(st, startArgv); code != 0 {
		if !w.opts.Keep {
			w.deleteContainer()
		}
		return code
	}
	if w.opts.Detach {
		return 0
	}
	code := waitForeground(st.Pid)
	if !w.opts.Keep {
		w.deleteContainer()
	}
	return code
}

// runCreate runs the real runtime's create with run's options (those run
// and create share), the wrapper's stdio and the preserved fds.
func (w *wrapper) runCreate(bundle, pidFile string) int {
	args := append([]string{}, w.inv.GlobalArgs...)
	args = append(args, "create", "--bundle", bundle, "--pid-file", pidFile)
	if w.opts.ConsoleSocket != "" {
		args = append(args, "--console-socket", w.opts.ConsoleSocket)
	}
	if w.opts.PreserveFDs > 0 {
		args = append(args, "--preserve-fds", strconv.FormatUint(w.opts.PreserveFDs, 10))
	}
	if w.opts.NoPivot {
		args = append(args, "--no-pivot")
	}
	if w.opts.NoNewKeyring {
		args = append(args, "--no-new-keyring")
	}
	args = append(args, w.opts.ID)
	cmd := exec.Command(w.rt.Path, args...)
	cmd.Args[0] = w.rt.Argv0
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	for fd := 3; fd < 3+int(w.opts.PreserveFDs); fd++ {
		// The same numbers in the child: ExtraFiles[i] becomes fd 3+i.
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(fd), "preserved-"+strconv.Itoa(fd)))
	}
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			w.report.error(fmt.Errorf("wrapper-runc: run %s create: %v", w.rt.Path, err))
			return exitError
		}
	}
	return exitCode(cmd.ProcessState)
}

// deleteContainer removes the container as run does when it ends.
func (w *wrapper) deleteContainer() {
	args := append(append([]string{}, w.inv.GlobalArgs...), "delete", "--force", w.opts.ID)
	cmd := w.host.command(w.rt.Runtime, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		w.report.error(fmt.Errorf("wrapper-runc: delete %s: %v: %s", w.opts.ID, err, out))
	}
}

// waitForeground forwards signals to the init and waits for it, reaping
// the orphans a subreaper receives; the result is the exit status run
// reports (128+signal for a signal death).
func waitForeground(pid int) int {
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			sig, ok := s.(unix.Signal)
			if !ok || sig == unix.SIGCHLD || sig == unix.SIGURG || sig == unix.SIGWINCH {
				continue // the runtime's own (SIGURG is Go's preemption)
			}
			unix.Kill(pid, sig)
		}
	}()
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, 0, nil)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return exitError // no child left: the init was reaped elsewhere
		case wpid != pid:
			continue // an orphan
		case ws.Exited():
			return ws.ExitStatus()
		case ws.Signaled():
			return 128 + int(ws.Signal())
		}
	}
}

// wantsTerminal reads process.terminal from the bundle's config.json.
func wantsTerminal(bundle string) (bool, error) {
	data, err := inputfile.Read(filepath.Join(bundle, "config.json"), inputfile.Profile)
	if err != nil {
		return false, err
	}
	var cfg struct {
		Process *struct {
			Terminal bool `json:"terminal"`
		} `json:"process"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return false, fmt.Errorf("%s/config.json: %v", bundle, err)
	}
	return cfg.Process != nil && cfg.Process.Terminal, nil
}

func readPidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: %q is not a pid", path, b)
	}
	return pid, nil
}
