package runcargs

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func split(s string) []string { return strings.Fields(s) }

func TestParseGlobal(t *testing.T) {
	for _, tc := range []struct {
		argv    string
		global  Global
		gargs   string
		command string
		args    string
		extra   map[string]string
	}{
		// What containerd's shim (Docker 20.10) runs.
		{
			argv:    "--root /var/run/docker/runtime-runc/moby --log /b/log.json --log-format json create --bundle /b --pid-file /b/init.pid abc",
			global:  Global{Root: "/var/run/docker/runtime-runc/moby", Log: "/b/log.json", LogFormat: "json"},
			gargs:   "--root /var/run/docker/runtime-runc/moby --log /b/log.json --log-format json",
			command: "create", args: "--bundle /b --pid-file /b/init.pid abc",
		},
		{argv: "-root=/r -log=/l --log-format=text start x", global: Global{Root: "/r", Log: "/l", LogFormat: "text"},
			gargs: "-root=/r -log=/l --log-format=text", command: "start", args: "x"},
		{argv: "--debug --systemd-cgroup state x", global: Global{Debug: true, SystemdCgroup: true},
			gargs: "--debug --systemd-cgroup", command: "state", args: "x"},
		{argv: "--debug=false -systemd-cgroup=1 list", global: Global{SystemdCgroup: true},
			gargs: "--debug=false -systemd-cgroup=1", command: "list"},
		{argv: "--rootless true --criu /c ps x", global: Global{Rootless: "true", Criu: "/c"},
			gargs: "--rootless true --criu /c", command: "ps", args: "x"},
		// A value flag takes the next token even when it looks like a
		// flag or a command.
		{argv: "--rootless state nope", global: Global{Rootless: "state"}, gargs: "--rootless state", command: "nope"},
		{argv: "--root --debug list", global: Global{Root: "--debug"}, gargs: "--root --debug", command: "list"},
		{argv: "--version", global: Global{Version: true}, gargs: "--version"},
		{argv: "-v", global: Global{Version: true}, gargs: "-v"},
		{argv: "-h", global: Global{Help: true}, gargs: "-h"},
		{argv: "", gargs: ""},
		// "--" ends the global flags and is kept for the real runtime.
		{argv: "--root /r -- state x", global: Global{Root: "/r"}, gargs: "--root /r --", command: "state", args: "x"},
		{argv: "-- --root x", gargs: "--", command: "--root", args: "x"},
		// "-" is not a flag: it is the command.
		{argv: "- x", command: "-", args: "x"},
		// Everything after the command is the command's, flags included.
		{argv: "delete --force x --root /y", command: "delete", args: "--force x --root /y"},
		// The wrapper's own flags are removed, in both spellings.
		{
			argv:   "--sa-config=/c.yaml --sa-runtime /usr/bin/crun --root /r create x",
			global: Global{Root: "/r"}, gargs: "--root /r", command: "create", args: "x",
			extra: map[string]string{"sa-config": "/c.yaml", "sa-runtime": "/usr/bin/crun"},
		},
	} {
		inv, err := Parse(split(tc.argv), "sa-config", "sa-runtime")
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.argv, err)
			continue
		}
		if inv.Global != tc.global {
			t.Errorf("Parse(%q).Global = %+v, want %+v", tc.argv, inv.Global, tc.global)
		}
		if got := strings.Join(inv.GlobalArgs, " "); got != tc.gargs {
			t.Errorf("Parse(%q).GlobalArgs = %q, want %q", tc.argv, got, tc.gargs)
		}
		if inv.Command != tc.command || strings.Join(inv.Args, " ") != tc.args {
			t.Errorf("Parse(%q): command %q args %q, want %q %q", tc.argv, inv.Command, inv.Args, tc.command, tc.args)
		}
		if tc.extra == nil {
			tc.extra = map[string]string{}
		}
		if !reflect.DeepEqual(inv.Extra, tc.extra) {
			t.Errorf("Parse(%q).Extra = %v, want %v", tc.argv, inv.Extra, tc.extra)
		}
		// Without wrapper flags, the real runtime gets argv unchanged.
		if tc.extra["sa-config"] == "" {
			if got := strings.Join(inv.Argv(), " "); got != strings.Join(split(tc.argv), " ") {
				t.Errorf("Parse(%q).Argv() = %q, want it unchanged", tc.argv, got)
			}
		}
	}
}

func TestParseGlobalErrors(t *testing.T) {
	for _, tc := range []struct{ argv, want string }{
		{"--bogus state x", "flag provided but not defined: --bogus"},
		{"--root", "flag needs an argument: --root"},
		{"---root x state y", "bad flag syntax: ---root"},
		{"-=x state y", "bad flag syntax: -=x"},
		{"--debug=maybe state x", `invalid boolean value "maybe" for --debug=maybe`},
	} {
		_, err := Parse(split(tc.argv))
		if err == nil || !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want a syntax error containing %q", tc.argv, err, tc.want)
		}
	}
	if _, err := Parse(split("--sa-config"), "sa-config"); err == nil || errors.Is(err, ErrSyntax) {
		t.Errorf("a wrapper flag without value: %v, want a wrapper error", err)
	}
}

func TestCommandOptions(t *testing.T) {
	for _, tc := range []struct {
		argv string
		want Options
	}{
		{"create --bundle /b --pid-file /b/init.pid abc", Options{ID: "abc", Bundle: "/b", PidFile: "/b/init.pid"}},
		{"create --bundle /b --pid-file /b/init.pid --console-socket /s/sock abc",
			Options{ID: "abc", Bundle: "/b", PidFile: "/b/init.pid", ConsoleSocket: "/s/sock"}},
		// Flags after the id are moved ahead of it, as urfave/cli v1 does.
		{"create abc --bundle /b", Options{ID: "abc", Bundle: "/b"}},
		{"create abc -b=/b --preserve-fds 3", Options{ID: "abc", Bundle: "/b", PreserveFDs: 3}},
		{"create --preserve-fds=0x2 abc", Options{ID: "abc", PreserveFDs: 2}},
		{"create --no-pivot --no-new-keyring=true abc", Options{ID: "abc", NoPivot: true, NoNewKeyring: true}},
		// A value may start with a dash.
		{"create --pid-file -x abc -b /b", Options{ID: "abc", Bundle: "/b", PidFile: "-x"}},
		{"run -d --keep --no-subreaper abc", Options{ID: "abc", Detach: true, Keep: true, NoSubreaper: true}},
		{"run --detach=false abc", Options{ID: "abc"}},
		{"run abc -d", Options{ID: "abc", Detach: true}},
		{"start abc", Options{ID: "abc"}},
		{"start -- abc", Options{ID: "abc"}},
		{"create --bundle -- abc", Options{ID: "abc", Bundle: "--"}},
		{"create -b /b -- abc", Options{ID: "abc", Bundle: "/b"}},
		{"create --help=false abc -b /b", Options{ID: "abc", Bundle: "/b"}},
		{"create --help", Options{Help: true}},
		{"start -h", Options{Help: true}},
	} {
		argv := split(tc.argv)
		inv, err := Parse(argv)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.argv, err)
		}
		if !inv.Checked() {
			t.Errorf("%q: Checked() false", tc.argv)
		}
		got, err := inv.CommandOptions()
		if err != nil {
			t.Errorf("CommandOptions(%q): %v", tc.argv, err)
			continue
		}
		if *got != tc.want {
			t.Errorf("CommandOptions(%q) = %+v, want %+v", tc.argv, *got, tc.want)
		}
	}
}

// Each of these is refused by runc 1.1.5 too (tried on this machine).
func TestCommandOptionsErrors(t *testing.T) {
	for _, tc := range []struct{ argv, want string }{
		{"create", `"create" requires exactly 1 argument(s)`},
		{"create a b", `"create" requires exactly 1 argument(s)`},
		{"start a --root=/x", `"start" requires exactly 1 argument(s)`},
		// reorderArgs puts the id right after -d, where flag parsing stops.
		{"run -d abc --bundle /b", `"run" requires exactly 1 argument(s)`},
		{"run --keep abc --bundle /b", `"run" requires exactly 1 argument(s)`},
		{"create abc -b=/b -- --pid-file", `"create" requires exactly 1 argument(s)`},
		{"create abc --pid-file", `"create" requires exactly 1 argument(s)`},
		{"create --detach abc", "flag provided but not defined: --detach"},
		{"create --bundle", "flag needs an argument: --bundle"},
		{"create --preserve-fds=many abc", `invalid value "many" for flag --preserve-fds=many`},
		{"create ---bundle /b abc", "bad flag syntax"},
	} {
		inv, err := Parse(split(tc.argv))
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.argv, err)
		}
		_, err = inv.CommandOptions()
		if err == nil || !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CommandOptions(%q) = %v, want a syntax error containing %q", tc.argv, err, tc.want)
		}
	}
}

func TestChecked(t *testing.T) {
	for cmd, want := range map[string]bool{
		"create": true, "run": true, "start": true,
		"state": false, "exec": false, "delete": false, "features": false, "": false,
	} {
		inv := &Invocation{Command: cmd}
		if inv.Checked() != want {
			t.Errorf("Checked(%q) = %v, want %v", cmd, !want, want)
		}
	}
}
