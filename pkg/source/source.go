// Package source reads the names people give seccomp filter stacks — pid:N,
// bpf:FILE[,FILE...], profile:FILE, bundle:DIR, builtin:NAME, or a bare path
// — and resolves them to the stack they stand for: what a live process's
// main thread enforces, raw filters from files, or the filters a runtime
// would load for an intended profile.
//
// The command line's SOURCE arguments and a policy's baselines are written
// in this one grammar, so it is parsed here and nowhere else: Syntax.Parse
// turns a string into a Source (nothing is read but, for a bare path, what
// kind of file it is), and Resolver.Resolve reads and compiles it. Every
// file is read through internal/inputfile (a regular file within its
// kind's cap, checked on the opened descriptor); "-" is standard input,
// which the sources of one command read once.
package source

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// Kind is what a source names.
type Kind string

// The kinds of source, as their prefix writes them.
const (
	// PID is pid:N, the filters of process N's main thread.
	PID Kind = "pid"
	// BPF is bpf:FILE[,FILE...], raw filters (struct sock_filter arrays,
	// host byte order): a stack, oldest first.
	BPF Kind = "bpf"
	// Profile is profile:FILE, an intended profile in any format package
	// spec reads (a directory is read as a bundle).
	Profile Kind = "profile"
	// Bundle is bundle:DIR, the config.json of an OCI bundle.
	Bundle Kind = "bundle"
	// Builtin is builtin:NAME, one of spec's built-in default profiles.
	Builtin Kind = "builtin"
)

// form is how messages write a source of kind k.
func (k Kind) form() string {
	switch k {
	case PID:
		return "pid:N"
	case BPF:
		return "bpf:FILE[,FILE...]"
	case Profile:
		return "profile:FILE"
	case Bundle:
		return "bundle:DIR"
	case Builtin:
		return "builtin:NAME (" + strings.Join(spec.BuiltinNames(), ", ") + ")"
	}
	return string(k) + ":"
}

// Intended reports whether sources of kind k are profiles a runtime
// compiles, rather than filters as the kernel loaded them.
func (k Kind) Intended() bool {
	return k == Profile || k == Bundle || k == Builtin
}

// Source is a parsed source string.
type Source struct {
	// Text is the source as written; messages name it.
	Text string
	Kind Kind
	// PID is the process of a pid: source.
	PID int
	// Paths are the files of a bpf: source (a stack, oldest first), or the
	// one file or directory of a profile: or bundle: source. "-" is
	// standard input.
	Paths []string
	// Name is the profile of a builtin: source.
	Name string
}

// Syntax is the part of the grammar a caller accepts.
type Syntax struct {
	// Kinds are the kinds accepted, in the order messages list them.
	Kinds []Kind
	// Paths accepts a source without a kind: a path, whose kind Detect
	// tells from the file.
	Paths bool
}

var (
	// CommandLine is the grammar of SOURCE arguments: every kind, and
	// bare paths.
	CommandLine = Syntax{Kinds: []Kind{PID, BPF, Profile, Bundle, Builtin}, Paths: true}
	// Baseline is the grammar of a policy's baselines: what the policy
	// compares every container with, so no live process; the kind is
	// always written, since a policy is read where the files it names
	// may not be.
	Baseline = Syntax{Kinds: []Kind{Builtin, Profile, Bundle, BPF}}
)

// Parse reads text as a source of this syntax. It checks the form of what
// follows the kind (a positive pid, no empty file name, a builtin that
// exists) but reads no file: a bare path is only looked at for its kind.
func (g Syntax) Parse(text string) (*Source, error) {
	prefix, arg, found := strings.Cut(text, ":")
	kind := Kind(prefix)
	if !found {
		if !g.Paths {
			return nil, errorf(text, "no kind (want %s)", g.forms())
		}
		kind, arg = Detect(text), text
	}
	if !slices.Contains(g.Kinds, kind) {
		if slices.Contains(CommandLine.Kinds, kind) {
			return nil, errorf(text, "a %s source is not accepted here (want %s)", kind, g.forms())
		}
		return nil, errorf(text, "unknown kind %q (want %s)", prefix, g.forms())
	}
	s := &Source{Text: text, Kind: kind}
	switch kind {
	case PID:
		pid, err := strconv.Atoi(arg)
		if err != nil || pid <= 0 {
			return nil, errorf(text, "pid must be a positive number")
		}
		s.PID = pid
	case BPF:
		s.Paths = strings.Split(arg, ",")
		if slices.Contains(s.Paths, "") {
			return nil, errorf(text, "empty file name (want %s)", BPF.form())
		}
	case Profile, Bundle:
		if arg == "" {
			return nil, errorf(text, "empty file name (want %s)", kind.form())
		}
		if kind == Bundle && arg == "-" {
			return nil, errorf(text, "a bundle is a directory; give its config.json on standard input as profile:-")
		}
		s.Paths = []string{arg}
	case Builtin:
		if !slices.Contains(spec.BuiltinNames(), arg) {
			return nil, errorf(text, "unknown builtin profile %q (want one of %s)", arg, strings.Join(spec.BuiltinNames(), ", "))
		}
		s.Name = arg
	}
	return s, nil
}

// forms lists the accepted forms for messages.
func (g Syntax) forms() string {
	forms := make([]string, 0, len(g.Kinds)+1)
	for _, k := range g.Kinds {
		forms = append(forms, k.form())
	}
	if g.Paths {
		forms = append(forms, "a path")
	}
	if len(forms) == 1 {
		return forms[0]
	}
	return strings.Join(forms[:len(forms)-1], ", ") + " or " + forms[len(forms)-1]
}

// Detect is the kind of a source given as a bare path: "-" is a raw filter
// on standard input, a directory with a config.json a bundle, a *.json,
// *.yaml or *.yml file a profile, anything else a raw filter.
func Detect(path string) Kind {
	if path == "-" {
		return BPF
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		if _, err := os.Stat(filepath.Join(path, "config.json")); err == nil {
			return Bundle
		}
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json", ".yaml", ".yml":
		return Profile
	}
	return BPF
}

// Error is a source that could not be parsed or resolved.
type Error struct {
	// Source is the source as written.
	Source string
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("source %q: %v", e.Source, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

func errorf(text, format string, args ...any) error {
	return &Error{Source: text, Err: fmt.Errorf(format, args...)}
}
