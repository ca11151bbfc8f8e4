// Package runcargs parses a runc command line the way runc itself does, so
// that a wrapper standing in for runc knows which command runs, on which
// container and bundle, without changing a byte of what it passes on.
//
// runc (1.1 to 1.5) parses its argv with urfave/cli v1, which uses Go's
// flag package: flags take one or two dashes (-root, --root), values follow
// as --x=v or --x v (a value may itself start with a dash), booleans accept
// only -x or -x=BOOL, "--" ends the flags, and parsing stops at the first
// non-flag. The global flags come first, then the command; a command's own
// flags may follow its arguments, because urfave/cli v1 moves the flags it
// knows ahead of the other arguments before parsing (reorderArgs), and it
// refuses two spellings of one flag (-b and --bundle) in one line.
package runcargs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// flagKind is whether a flag takes a value.
type flagKind int

const (
	boolFlag flagKind = iota
	valueFlag
)

// flagSet maps every spelling of a flag (without dashes) to its canonical
// name and kind.
type flagSet map[string]flagSpec

type flagSpec struct {
	name string
	kind flagKind
}

func newFlagSet(defs ...flagDef) flagSet {
	fs := flagSet{}
	for _, d := range defs {
		for _, n := range d.names {
			fs[n] = flagSpec{name: d.names[0], kind: d.kind}
		}
	}
	return fs
}

type flagDef struct {
	names []string
	kind  flagKind
}

func b(names ...string) flagDef { return flagDef{names, boolFlag} }
func v(names ...string) flagDef { return flagDef{names, valueFlag} }

// Global flags of runc (main.go), plus urfave/cli's help and version.
var globalFlags = newFlagSet(
	b("debug"), v("log"), v("log-format"), v("root"), v("criu"),
	b("systemd-cgroup"), v("rootless"), b("help", "h"), b("version", "v"),
)

// Flags of the commands the wrapper acts on (runc's create.go, run.go,
// start.go); urfave/cli adds help to each.
var commandFlags = map[string]flagSet{
	"create": newFlagSet(
		v("bundle", "b"), v("console-socket"), v("pid-file"), b("no-pivot"),
		b("no-new-keyring"), v("preserve-fds"), b("help", "h"),
	),
	"run": newFlagSet(
		v("bundle", "b"), v("console-socket"), b("detach", "d"), b("keep"), v("pid-file"),
		b("no-subreaper"), b("no-pivot"), b("no-new-keyring"), v("preserve-fds"), b("help", "h"),
	),
	"start": newFlagSet(b("help", "h")),
}

// spellingsUsed remembers which spelling set each flag: urfave/cli refuses
// a line that sets one flag with two (normalizeFlags), whatever the values.
type spellingsUsed map[string]string

func (u spellingsUsed) use(spec flagSpec, spelling string) error {
	if first, ok := u[spec.name]; ok && first != spelling {
		return syntaxError("cannot use two forms of the same flag: %s %s", spelling, first)
	}
	u[spec.name] = spelling
	return nil
}

// Global holds runc's global options.
type Global struct {
	Root          string // --root: state directory ("" = runtime default)
	Log           string // --log: log file ("" = stderr)
	LogFormat     string // --log-format: "text" (default) or "json"
	Criu          string
	Rootless      string
	Debug         bool
	SystemdCgroup bool
	Help          bool
	Version       bool
}

// Options holds the options of create, run and start.
type Options struct {
	ID            string
	Bundle        string // --bundle/-b ("" = current directory)
	PidFile       string
	ConsoleSocket string
	PreserveFDs   uint64
	Detach        bool
	Keep          bool
	NoSubreaper   bool
	NoPivot       bool
	NoNewKeyring  bool
	Help          bool
}

// Invocation is a parsed command line.
type Invocation struct {
	Global Global
	// GlobalArgs are the global flag tokens as given, without the
	// wrapper's own flags, and with a "--" that ended them.
	GlobalArgs []string
	// Command is runc's command ("" when there is none, as with
	// --version); Args are the tokens after it, as given.
	Command string
	Args    []string
	// Extra holds the wrapper's own flags (see Parse), by name.
	Extra map[string]string
}

// Argv is the command line to hand to the real runtime: the global flags
// without the wrapper's own, the command and its arguments, in the order
// given.
func (inv *Invocation) Argv() []string {
	argv := make([]string, 0, len(inv.GlobalArgs)+1+len(inv.Args))
	argv = append(argv, inv.GlobalArgs...)
	// An empty command token stays when arguments follow it, which would
	// otherwise move into its place; alone, runc reads no command from it
	// either way (it prints its help).
	if inv.Command != "" || len(inv.Args) > 0 {
		argv = append(argv, inv.Command)
	}
	return append(argv, inv.Args...)
}

// ErrSyntax is wrapped by every error of a command line runc would refuse.
var ErrSyntax = errors.New("runc command line")

func syntaxError(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrSyntax, fmt.Sprintf(format, a...))
}

// Parse splits argv (without the program name) into global flags, command
// and arguments. extra names the wrapper's own value flags (written
// --name=VALUE or --name VALUE among the global flags); they are removed
// from GlobalArgs and returned in Extra. An error wraps ErrSyntax when runc
// would refuse the global flags too; the Invocation is then returned as far
// as it was parsed (its Extra included).
func Parse(argv []string, extra ...string) (*Invocation, error) {
	inv := &Invocation{Extra: map[string]string{}}
	used := spellingsUsed{}
	isExtra := map[string]bool{}
	for _, e := range extra {
		isExtra[e] = true
	}
	i := 0
	for i < len(argv) {
		arg := argv[i]
		if arg == "--" {
			inv.GlobalArgs = append(inv.GlobalArgs, arg)
			i++
			break
		}
		name, value, hasValue, ok, err := splitFlag(arg)
		if err != nil {
			return inv, err
		}
		if !ok {
			break // the command
		}
		if isExtra[name] {
			if !hasValue {
				if i+1 >= len(argv) {
					return nil, fmt.Errorf("wrapper flag --%s needs a value", name)
				}
				value = argv[i+1]
				i++
			}
			inv.Extra[name] = value
			i++
			continue
		}
		spec, known := globalFlags[name]
		if !known {
			return inv, syntaxError("flag provided but not defined: %s", arg)
		}
		start := i
		if spec.kind == valueFlag && !hasValue {
			if i+1 >= len(argv) {
				return inv, syntaxError("flag needs an argument: %s", arg)
			}
			value = argv[i+1]
			i++
		}
		i++
		inv.GlobalArgs = append(inv.GlobalArgs, argv[start:i]...)
		if err := used.use(spec, name); err != nil {
			return inv, err
		}
		if err := inv.Global.set(spec, arg, value, hasValue); err != nil {
			return inv, err
		}
	}
	if i < len(argv) {
		inv.Command = argv[i]
		inv.Args = argv[i+1:]
	}
	return inv, nil
}

func (g *Global) set(spec flagSpec, arg, value string, hasValue bool) error {
	if spec.kind == boolFlag {
		on, err := boolValue(arg, value, hasValue)
		if err != nil {
			return err
		}
		switch spec.name {
		case "debug":
			g.Debug = on
		case "systemd-cgroup":
			g.SystemdCgroup = on
		case "help":
			g.Help = on
		case "version":
			g.Version = on
		}
		return nil
	}
	switch spec.name {
	case "log":
		g.Log = value
	case "log-format":
		g.LogFormat = value
	case "root":
		g.Root = value
	case "criu":
		g.Criu = value
	case "rootless":
		g.Rootless = value
	}
	return nil
}

// splitFlag recognises a flag token as Go's flag package does: ok is false
// for a non-flag (the first positional argument).
func splitFlag(arg string) (name, value string, hasValue, ok bool, err error) {
	if len(arg) < 2 || arg[0] != '-' {
		return "", "", false, false, nil
	}
	name = arg[1:]
	if name[0] == '-' {
		name = name[1:]
		if name == "" {
			return "", "", false, false, nil // "--" is handled by the callers
		}
	}
	if name == "" || name[0] == '-' || name[0] == '=' {
		return "", "", false, false, syntaxError("bad flag syntax: %s", arg)
	}
	if n, val, found := strings.Cut(name, "="); found {
		return n, val, true, true, nil
	}
	return name, "", false, true, nil
}

func boolValue(arg, value string, hasValue bool) (bool, error) {
	if !hasValue {
		return true, nil
	}
	on, err := strconv.ParseBool(value)
	if err != nil {
		return false, syntaxError("invalid boolean value %q for %s", value, arg)
	}
	return on, nil
}

// Checked reports whether the wrapper acts on the command (create, run,
// start); every other command passes through unchanged.
func (inv *Invocation) Checked() bool {
	_, ok := commandFlags[inv.Command]
	return ok
}

// CommandOptions parses the arguments of create, run or start as runc
// does: flags may come before or after the container id, which must be the
// only other argument (unless help is asked for).
func (inv *Invocation) CommandOptions() (*Options, error) {
	fs, ok := commandFlags[inv.Command]
	if !ok {
		return nil, fmt.Errorf("runcargs: no options known for command %q", inv.Command)
	}
	args := reorder(fs, inv.Args)
	o := &Options{}
	used := spellingsUsed{}
	i := 0
	for i < len(args) {
		arg := args[i]
		if arg == "--" {
			i++
			break
		}
		name, value, hasValue, isFlag, err := splitFlag(arg)
		if err != nil {
			return nil, err
		}
		if !isFlag {
			break
		}
		spec, known := fs[name]
		if !known {
			return nil, syntaxError("flag provided but not defined: %s", arg)
		}
		if spec.kind == valueFlag && !hasValue {
			if i+1 >= len(args) {
				return nil, syntaxError("flag needs an argument: %s", arg)
			}
			value = args[i+1]
			i++
		}
		i++
		if err := used.use(spec, name); err != nil {
			return nil, err
		}
		if err := o.set(spec, arg, value, hasValue); err != nil {
			return nil, err
		}
	}
	positional := args[i:]
	if o.Help {
		return o, nil
	}
	if len(positional) != 1 {
		return nil, syntaxError("%q requires exactly 1 argument(s)", inv.Command)
	}
	o.ID = positional[0]
	if o.ID == "" {
		return nil, syntaxError("container id cannot be empty")
	}
	return o, nil
}

func (o *Options) set(spec flagSpec, arg, value string, hasValue bool) error {
	if spec.kind == boolFlag {
		on, err := boolValue(arg, value, hasValue)
		if err != nil {
			return err
		}
		switch spec.name {
		case "detach":
			o.Detach = on
		case "keep":
			o.Keep = on
		case "no-subreaper":
			o.NoSubreaper = on
		case "no-pivot":
			o.NoPivot = on
		case "no-new-keyring":
			o.NoNewKeyring = on
		case "help":
			o.Help = on
		}
		return nil
	}
	switch spec.name {
	case "bundle":
		o.Bundle = value
	case "console-socket":
		o.ConsoleSocket = value
	case "pid-file":
		o.PidFile = value
	case "preserve-fds":
		n, err := strconv.ParseUint(value, 0, 64)
		if err != nil {
			return syntaxError("invalid value %q for flag %s", value, arg)
		}
		o.PreserveFDs = n
	}
	return nil
}

// reorder moves the flags a command knows (with the value that may follow
// them) ahead of its other arguments, up to a "--", as urfave/cli v1.22
// does before parsing a command's flags. That "--" goes ahead of the
// arguments set aside before it, so that "create ID --" has the one
// argument ID.
func reorder(fs flagSet, args []string) []string {
	var flags, rest []string
	valueMayFollow := false
	for i, arg := range args {
		switch {
		case valueMayFollow && !isCommandFlag(fs, arg):
			// Possibly the flag's value (even "--" or "-x"): kept next to
			// it; flag parsing decides.
			valueMayFollow = false
			flags = append(flags, arg)
		case arg == "--":
			rest = append([]string{"--"}, rest...)
			rest = append(rest, args[i+1:]...)
			return append(flags, rest...)
		case isCommandFlag(fs, arg):
			flags = append(flags, arg)
			valueMayFollow = !strings.Contains(arg, "=")
		default:
			rest = append(rest, arg)
		}
	}
	return append(flags, rest...)
}

// isCommandFlag reports whether urfave/cli's reordering takes arg for one
// of the command's flags (argIsFlag): it strips two dashes and then one
// more, so "---bundle" is one too (and flag parsing refuses it later).
func isCommandFlag(fs flagSet, arg string) bool {
	if arg == "-" || arg == "--" || !strings.HasPrefix(arg, "-") {
		return false
	}
	name := strings.TrimPrefix(strings.TrimPrefix(arg, "--"), "-")
	name, _, _ = strings.Cut(name, "=")
	_, ok := fs[name]
	return ok
}
