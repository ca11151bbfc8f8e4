package runcargs

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli"
)

// The reference reading of a runc command line is runc's own: urfave/cli
// v1.22.17 (the version runc 1.5 vendors, itself on Go's flag package)
// with runc's global flags and the create, run and start commands, whose
// actions check their arguments as runc's checkArgs and its empty-id check
// do. The flag lists come from this package's tables, so that the fuzz
// compares the parsing, not two copies of the lists.

// runcReading is what runc would act on: the command it runs (create, run
// or start; "" when it runs none of them, refuses the line or only prints
// help or its version) and the options it runs it with.
type runcReading struct {
	command string
	id      string
	bundle  string
	root    string
	pidFile string
	detach  bool
}

// runc's help command exits the process for a topic it does not know
// ("help x"); here it only returns.
func init() { cli.OsExiter = func(int) {} }

// readAsRunc parses argv (without the program name) with urfave/cli.
func readAsRunc(argv []string) runcReading {
	var got runcReading
	action := func(name string) func(*cli.Context) error {
		return func(ctx *cli.Context) error {
			// runc's checkArgs(ctx, 1, exactArgs) and errEmptyID.
			if ctx.NArg() != 1 {
				return errors.New("exactly 1 argument")
			}
			if ctx.Args().First() == "" {
				return errors.New("empty container id")
			}
			got = runcReading{
				command: name, id: ctx.Args().First(), bundle: ctx.String("bundle"),
				root: ctx.GlobalString("root"), pidFile: ctx.String("pid-file"), detach: ctx.Bool("detach"),
			}
			return nil
		}
	}
	app := cli.NewApp()
	app.Name = "runc"
	app.Version = "reference"
	app.Writer, app.ErrWriter = io.Discard, io.Discard
	app.Flags = cliFlags(globalFlags)
	// Another command, or none: nothing the wrapper checks runs.
	app.Action = func(*cli.Context) error { return nil }
	for _, name := range []string{"create", "run", "start"} {
		app.Commands = append(app.Commands, cli.Command{Name: name, Flags: cliFlags(commandFlags[name]), Action: action(name)})
	}
	if err := app.Run(append([]string{"runc"}, argv...)); err != nil {
		return runcReading{}
	}
	return got
}

// cliFlags turns a flagSet into urfave/cli flags, each named with all its
// spellings ("bundle, b"). help and version are left to urfave/cli, which
// adds them as runc gets them.
func cliFlags(fs flagSet) []cli.Flag {
	spellings := map[flagSpec][]string{}
	for spelling, spec := range fs {
		spellings[spec] = append(spellings[spec], spelling)
	}
	var flags []cli.Flag
	for spec, names := range spellings {
		if spec.name == "help" || spec.name == "version" {
			continue
		}
		// The canonical name first: urfave/cli reads values by it.
		slices.SortFunc(names, func(a, b string) int {
			switch {
			case a == spec.name:
				return -1
			case b == spec.name:
				return 1
			}
			return strings.Compare(a, b)
		})
		name := strings.Join(names, ", ")
		switch {
		case spec.kind == boolFlag:
			flags = append(flags, cli.BoolFlag{Name: name})
		case spec.name == "preserve-fds":
			flags = append(flags, cli.UintFlag{Name: name})
		default:
			flags = append(flags, cli.StringFlag{Name: name})
		}
	}
	return flags
}

// readAsWrapper is what the wrapper checks: the command and options when
// it acts on the line ("" command otherwise).
func readAsWrapper(argv []string) (runcReading, *Invocation, error) {
	inv, err := Parse(argv)
	if err != nil {
		return runcReading{}, inv, err
	}
	if !inv.Checked() || inv.Global.Help || inv.Global.Version {
		return runcReading{}, inv, nil
	}
	o, err := inv.CommandOptions()
	if err != nil || o.Help {
		return runcReading{}, inv, nil
	}
	return runcReading{
		command: inv.Command, id: o.ID, bundle: o.Bundle, root: inv.Global.Root,
		pidFile: o.PidFile, detach: o.Detach,
	}, inv, nil
}

// maxArgs bounds a fuzzed command line; runc lines are a few dozen tokens.
const maxArgs = 32

// argvOf splits a fuzz input into argv at NUL bytes (an argument cannot
// hold one), so that any token, empty or with spaces, can be generated.
func argvOf(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}

// FuzzRuncArgsParse checks Parse and CommandOptions against runc's own
// parser: whenever runc would create, run or start a container, the
// wrapper sees the same command, container id, bundle, root, pid file and
// detach; whenever the wrapper checks a container, runc runs that one; the
// line handed on (Argv) is the line given; the wrapper's own flags are
// taken out wherever they stand among the global flags, without changing
// what is read.
func FuzzRuncArgsParse(f *testing.F) {
	for _, line := range []string{
		"--root /var/run/docker/runtime-runc/moby --log /b/log.json --log-format json create --bundle /b --pid-file /b/init.pid abc",
		"--root /run/containerd/runc/k8s.io --log /l --log-format json create --bundle /b --pid-file /p --console-socket /s id",
		"-root=/r -log=/l --log-format=text start x",
		"run -d --bundle /b id",
		"run id -b /b --detach=false --preserve-fds 3 --keep",
		"create id --bundle",
		"create --bundle -- id",
		"create id --",
		"create -b /x --bundle /y id",
		"create --bundle -x id",
		"--root --debug create x",
		"--debug=false -systemd-cgroup=1 list",
		"-- create x",
		"--root /r -- create -- x",
		"create -h x",
		"--version create x",
		"start ''",
		"help x",
		"delete --force x",
	} {
		f.Add(strings.ReplaceAll(strings.ReplaceAll(line, " ", "\x00"), "''", ""))
	}
	f.Fuzz(func(t *testing.T, line string) {
		argv := argvOf(line)
		if len(argv) > maxArgs {
			return
		}
		want := readAsRunc(argv)
		got, inv, err := readAsWrapper(argv)
		if got != want {
			t.Fatalf("argv %q:\nrunc runs    %+v\nwrapper sees %+v (error %v)", argv, want, got, err)
		}
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("argv %q: error %v does not wrap ErrSyntax", argv, err)
			}
			return
		}
		handedOn := argv
		if inv.Command == "" && len(inv.Args) == 0 && len(argv) > len(inv.GlobalArgs) {
			handedOn = argv[:len(inv.GlobalArgs)] // a lone empty command (see Argv)
		}
		if !slices.Equal(inv.Argv(), handedOn) && len(argv) > 0 {
			t.Fatalf("argv %q handed on as %q", argv, inv.Argv())
		}
		// The wrapper's own flag, before any of the global flags or after
		// all of them (not after a "--" that ended them).
		for _, at := range flagStarts(inv.GlobalArgs) {
			withOwn := slices.Concat(argv[:at], []string{"--sa-config", "/c.yaml"}, argv[at:])
			inv2, err := Parse(withOwn, "sa-config")
			if err != nil {
				t.Fatalf("argv %q: %v", withOwn, err)
			}
			if inv2.Extra["sa-config"] != "/c.yaml" || !slices.Equal(inv2.Argv(), inv.Argv()) || inv2.Command != inv.Command {
				t.Fatalf("argv %q: handed on as %q, command %q, extra %v; without the wrapper's flag %q, %q",
					withOwn, inv2.Argv(), inv2.Command, inv2.Extra, inv.Argv(), inv.Command)
			}
		}
	})
}

// flagStarts returns the positions in a parsed line's global flags where
// another flag may stand: before each flag and after the last one, but not
// after a "--" that ended them.
func flagStarts(globalArgs []string) []int {
	var starts []int
	i := 0
	for i < len(globalArgs) && globalArgs[i] != "--" {
		starts = append(starts, i)
		name, _, hasValue, _, _ := splitFlag(globalArgs[i])
		i++
		if globalFlags[name].kind == valueFlag && !hasValue {
			i++ // its value
		}
	}
	return append(starts, i)
}
