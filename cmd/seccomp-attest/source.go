package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// filterSource is where a filter stack comes from: a live process or raw
// filter files (a stack, oldest first).
type filterSource struct {
	desc  string
	stack bytecode.Stack
}

// intendedRuntime is the runtime whose compilation the intended sources
// (profile:, bundle:, builtin:) reproduce, and capabilitiesFlag the bounding
// set Docker and podman profiles and builtins are resolved for (parsed by
// spec.ParseCapabilities; "" for each engine's default). The commands that
// read sources set them with --runtime and --capabilities (addProfileFlags).
var (
	intendedRuntime  = spec.RuntimeRunc
	capabilitiesFlag string
)

// addProfileFlags registers --runtime and --capabilities on a command that
// reads SOURCE arguments.
func addProfileFlags(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&intendedRuntime, "runtime", spec.RuntimeRunc,
		"runtime whose compilation of "+what+" to reproduce: runc (ENOSYS stub) or crun")
	cmd.Flags().StringVar(&capabilitiesFlag, "capabilities", "",
		"bounding set for Docker/podman profiles and builtins: CAP_X,CAP_Y, docker-default, podman-default "+
			"(combinable: docker-default,SYS_ADMIN) or none; default: each engine's default set. "+
			"A bundle's config.json is already resolved and keeps its own")
}

// profileOptions are the spec options of the command line.
func profileOptions() (spec.Options, error) {
	caps, err := spec.ParseCapabilities(capabilitiesFlag)
	if err != nil {
		return spec.Options{}, fmt.Errorf("--capabilities: %w", err)
	}
	return spec.Options{Capabilities: caps}, nil
}

// loadFilterSource resolves SOURCE arguments of the bytecode commands:
// pid:N, bpf:FILE[,FILE...], profile:FILE, bundle:DIR, builtin:NAME, or a
// path: a directory with a config.json is a bundle, a *.json, *.yaml or
// *.yml file a profile, anything else a raw filter. FILE "-" (and SOURCE
// "-", a raw filter) reads standard input.
func loadFilterSource(src string) (*filterSource, error) {
	kind, rest, found := strings.Cut(src, ":")
	if !found {
		kind, rest = autodetectKind(src), src
	}
	opts, err := profileOptions()
	if err != nil {
		return nil, err
	}
	switch kind {
	case "profile", "bundle":
		if kind == "bundle" && rest == "-" {
			return nil, fmt.Errorf("source %q: a bundle is a directory; give its config.json on standard input as profile:-", src)
		}
		p, err := loadProfile(rest, opts)
		if err != nil {
			return nil, sourceError(src, rest, err)
		}
		if kind == "bundle" && p.Format != spec.FormatBundle {
			return nil, fmt.Errorf("source %q: %s is a %s profile, not an OCI bundle config", src, rest, p.Format)
		}
		return intendedSource(src, p)
	case "builtin":
		p, err := spec.Builtin(rest, opts)
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", src, err)
		}
		return intendedSource(src, p)
	case "pid":
		pid, err := strconv.Atoi(rest)
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("source %q: pid must be a positive number", src)
		}
		return loadProcessSource(pid)
	case "bpf":
		fs := &filterSource{desc: src}
		for _, path := range strings.Split(rest, ",") {
			raw, err := readSourceFile(path, inputfile.Filter)
			if err != nil {
				return nil, sourceError(src, path, err)
			}
			f, err := bytecode.ParseFilter(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", inputfile.DisplayName(path), err)
			}
			fs.stack = append(fs.stack, f)
		}
		return fs, nil
	}
	return nil, fmt.Errorf("source %q: unknown kind %q (want pid:N, bpf:FILE[,FILE...], profile:FILE, bundle:DIR, "+
		"builtin:NAME (%s) or a path)", src, kind, strings.Join(spec.BuiltinNames(), ", "))
}

// sourceError names SOURCE src in err, unless err already names it (a
// plain path) and would say it twice.
func sourceError(src, path string, err error) error {
	if src == path {
		return err
	}
	return fmt.Errorf("source %q: %w", src, err)
}

// loadProfile reads the profile of a profile: or bundle: SOURCE: a bundle
// directory, a file in any format spec reads, or "-" for standard input.
func loadProfile(path string, opts spec.Options) (*spec.Profile, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return spec.LoadBundle(path)
	}
	data, err := readSourceFile(path, inputfile.Profile)
	if err != nil {
		return nil, err
	}
	return spec.Parse(data, inputfile.DisplayName(path), opts)
}

// stdinSourceRead says that a SOURCE of this run ("-", bpf:-, profile:-)
// has read standard input: another one would find it empty.
var stdinSourceRead bool

func init() {
	// Every run of a command may read standard input again (the tests run
	// several in one process).
	cobra.OnInitialize(func() { stdinSourceRead = false })
}

// readSourceFile reads a file of a SOURCE within kind's cap; "-" reads
// standard input, once.
func readSourceFile(path string, kind inputfile.Kind) ([]byte, error) {
	if path != "-" {
		return inputfile.ReadArg(path, nil, kind)
	}
	if stdinSourceRead {
		return nil, fmt.Errorf("standard input is read by another source already: give - once")
	}
	stdinSourceRead = true
	return inputfile.ReadArg(path, os.Stdin, kind)
}

// autodetectKind classifies a SOURCE given without a kind.
func autodetectKind(path string) string {
	if path == "-" {
		return "bpf"
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		if _, err := os.Stat(filepath.Join(path, "config.json")); err == nil {
			return "bundle"
		}
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json", ".yaml", ".yml":
		return "profile"
	}
	return "bpf"
}

// intendedSource compiles an intended profile as intendedRuntime would and
// prints what a reviewer must know about it (a raw filter replacing the
// profile under crun, no seccomp at all) on stderr.
func intendedSource(src string, p *spec.Profile) (*filterSource, error) {
	stack, err := p.Stack(intendedRuntime)
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", src, err)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(os.Stderr, "seccomp-attest: %s: %s\n", src, n)
	}
	desc := fmt.Sprintf("%s (%s, as compiled by %s)", src, p.Source, intendedRuntime)
	if intendedRuntime == spec.RuntimeCrun && p.RawFilter != nil {
		desc = fmt.Sprintf("%s (%s: the raw filter of annotation %s, which crun loads)", src, p.Source, spec.AnnotationBPFData)
	}
	return &filterSource{desc: desc, stack: stack}, nil
}

// loadProcessSource reads the filters of a live process's main thread.
func loadProcessSource(pid int) (*filterSource, error) {
	pf, err := bytecode.ReadProcess(pid)
	if err != nil {
		return nil, err
	}
	for _, th := range pf.Threads {
		if th.TID == pid {
			return &filterSource{desc: fmt.Sprintf("pid:%d", pid), stack: th.Stack()}, nil
		}
	}
	return nil, fmt.Errorf("pid:%d: main thread not found", pid)
}
