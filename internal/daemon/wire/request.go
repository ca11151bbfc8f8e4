package wire

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/internal/runcargs"
	"github.com/seccomp-attest/seccomp-attest/internal/wrapper/front"
)

// Kind says what a Request asks for.
type Kind uint8

// The kinds of request. The zero Kind is none: a request must say.
const (
	// KindHook is one stage of the OCI hook (Request.Hook).
	KindHook Kind = iota + 1
	// KindWrapper is wrapper-runc's create or start (Request.Wrapper),
	// which sends its stdin, stdout and stderr along (SCM_RIGHTS).
	KindWrapper
)

var kindNames = map[Kind]string{KindHook: "hook", KindWrapper: "wrapper-runc"}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MarshalText writes the kind's name; a Kind without one is an error.
func (k Kind) MarshalText() ([]byte, error) {
	if s, ok := kindNames[k]; ok {
		return []byte(s), nil
	}
	return nil, fmt.Errorf("request kind %d has no name", uint8(k))
}

// UnmarshalText reads a kind's name; any other word is an error, which
// the daemon answers as an unknown kind.
func (k *Kind) UnmarshalText(b []byte) error {
	for kind, name := range kindNames {
		if name == string(b) {
			*k = kind
			return nil
		}
	}
	return fmt.Errorf("unknown request kind %q", b)
}

// HookRequest is one hook run, as the hook program parsed its command
// line (ParseHookArgs): the daemon never sees the arguments.
type HookRequest struct {
	Stage Stage `json:"stage"`
	// Config is the configuration file (absolute); "" is the default
	// (/etc/seccomp-attest/config.yaml if it exists, else embedded
	// defaults).
	Config string `json:"config,omitempty"`
	// Override replaces fields of the configuration for this hook.
	Override Override `json:"override,omitzero"`
	// State is the OCI state the runtime wrote on the hook's stdin.
	State []byte `json:"state"`
	// RuntimePID is the hook's parent: the runtime that executed it.
	RuntimePID int `json:"runtimePid"`
	// Fallback says why the hook program checks in its own process rather
	// than in seccomp-attestd (recorded in the operators' log); never
	// sent to a daemon.
	Fallback string `json:"-"`
}

// Override is what a hooks.d entry's flags change in the configuration
// (--mode, --policy, --store, --key, --log); empty fields change nothing.
// Paths are absolute, but for a policy named preset:NAME or
// builtin:default and a log of "-".
type Override struct {
	Mode   string `json:"mode,omitempty"`
	Policy string `json:"policy,omitempty"`
	Store  string `json:"store,omitempty"`
	Key    string `json:"key,omitempty"`
	Log    string `json:"log,omitempty"`
}

// Stage is an OCI hook stage the hook runs at.
type Stage string

// The stages the hook knows.
const (
	StageCreateRuntime Stage = "createRuntime"
	StagePrestart      Stage = "prestart"
	StagePoststart     Stage = "poststart"
	StagePoststop      Stage = "poststop"
)

// Check says whether s is a stage the hook knows, in the words the hook
// program has always used.
func (s Stage) Check() error {
	switch s {
	case StageCreateRuntime, StagePrestart, StagePoststart, StagePoststop:
		return nil
	}
	return fmt.Errorf("seccomp-attest-hook: unknown stage %q (want createRuntime, prestart, poststart or poststop)", string(s))
}

// ErrUsage is the error of a hook command line that is not one; the usage
// has been written.
var ErrUsage = errors.New("usage")

// ParseHookArgs parses the hook program's arguments, as the runtime
// passed them, into its request (without State and RuntimePID) and the
// socket to ask (--socket=PATH anywhere, DefaultSocket without it).
// Relative paths are taken from dir, the program's working directory.
// Errors, and the usage, go to stderr; the error is ErrUsage or says
// what is wrong.
func ParseHookArgs(args []string, dir string, stderr io.Writer) (req HookRequest, socket string, err error) {
	args, socket = TakeSocketFlag(args)
	fs := flag.NewFlagSet("seccomp-attest-hook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&req.Config, "config", "", "configuration file (default /etc/seccomp-attest/config.yaml if it exists, else embedded defaults)")
	fs.StringVar(&req.Override.Mode, "mode", "", "override the policy mode: enforce or audit")
	fs.StringVar(&req.Override.Policy, "policy", "", "override the policy (file, preset:NAME or builtin:default)")
	fs.StringVar(&req.Override.Store, "store", "", "override the attestation store directory")
	fs.StringVar(&req.Override.Key, "key", "", "override the signing key")
	fs.StringVar(&req.Override.Log, "log", "", `override the JSON log file ("-": stderr only)`)
	fs.StringVar(&req.Fallback, "fallback", "", "why the hook program checks in its own process rather than in seccomp-attestd (recorded in the log)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: seccomp-attest-hook [--socket=PATH] [flags] createRuntime|prestart|poststart|poststop < state.json\n  --socket=PATH\n    \tseccomp-attestd's socket (default %s); without an answer the hook runs here\n", DefaultSocket)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return req, socket, ErrUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return req, socket, ErrUsage
	}
	req.Stage = Stage(fs.Arg(0))
	if err := req.Stage.Check(); err != nil {
		fmt.Fprintln(stderr, err)
		return req, socket, err
	}
	if req.Override.Mode != "" && req.Override.Mode != "enforce" && req.Override.Mode != "audit" {
		err := fmt.Errorf("seccomp-attest-hook: --mode %q: want enforce or audit", req.Override.Mode)
		fmt.Fprintln(stderr, err)
		return req, socket, err
	}
	for _, p := range []*string{&req.Config, &req.Override.Store, &req.Override.Key} {
		*p = absFrom(dir, *p)
	}
	if req.Override.Log != "-" {
		req.Override.Log = absFrom(dir, req.Override.Log)
	}
	if !strings.Contains(req.Override.Policy, ":") {
		req.Override.Policy = absFrom(dir, req.Override.Policy)
	}
	return req, socket, nil
}

// absFrom makes a relative path absolute from dir ("" stays "").
func absFrom(dir, p string) string {
	if p == "" || filepath.IsAbs(p) || dir == "" {
		return p
	}
	return filepath.Join(dir, p)
}

// WrapperRequest is wrapper-runc's create or start, as the wrapper
// program parsed its command line (internal/runcargs) and found the real
// runtime (internal/wrapper/front): the daemon never parses the arguments. The
// tokens of the command line travel only to be handed to the real
// runtime unchanged.
type WrapperRequest struct {
	// Command is create or start (run is checked in the program's own
	// process: its init must be the program's child).
	Command string `json:"command"`
	// Global are runc's global options; GlobalArgs their tokens as given
	// (the wrapper's own flags taken out), for the real runtime's
	// commands the check runs (state, start).
	Global     runcargs.Global `json:"global"`
	GlobalArgs []string        `json:"globalArgs,omitempty"`
	// Options are the command's options; Args its tokens as given.
	Options runcargs.Options `json:"options"`
	Args    []string         `json:"args,omitempty"`
	// Config is --seccomp-attest-config, absolute ("" = the default).
	Config string `json:"config,omitempty"`
	// Runtime is the real runtime the wrapper stands in for.
	Runtime front.Runtime `json:"runtime"`
	// Env and Dir are the program's environment and working directory,
	// for the real runtime's commands and relative paths.
	Env []string `json:"env,omitempty"`
	Dir string   `json:"dir,omitempty"`
}

// Invocation is the request's command line, parsed, as internal/runcargs
// gives it.
func (r *WrapperRequest) Invocation() *runcargs.Invocation {
	inv := &runcargs.Invocation{Global: r.Global, GlobalArgs: r.GlobalArgs, Command: r.Command, Args: r.Args, Extra: map[string]string{}}
	if r.Config != "" {
		inv.Extra[front.FlagConfig] = r.Config
	}
	return inv
}
