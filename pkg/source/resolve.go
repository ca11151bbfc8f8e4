package source

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// Resolver resolves sources to filter stacks. The zero value compiles
// profiles as runc does, resolves Docker and podman profiles and builtins
// for each engine's default capabilities, reads relative paths from the
// working directory and refuses "-".
type Resolver struct {
	// Runtime is the runtime whose compilation of profile:, bundle: and
	// builtin: sources to reproduce: spec.RuntimeRunc (when "") or
	// spec.RuntimeCrun.
	Runtime string
	// Capabilities is the bounding set for which Docker and podman
	// profiles and builtins are resolved (spec.Options); nil means each
	// engine's default set. A bundle's config.json is already resolved
	// and keeps its own.
	Capabilities []string
	// Dir is where relative paths are read from; "" is the working
	// directory.
	Dir string
	// Stdin is what "-" reads; nil refuses "-".
	Stdin *Stdin
}

// Stdin is standard input as the sources of one command read it: once,
// since a second reader would find it empty. Resolvers that share it (a
// command's resolver and a copy with other capabilities) share that once.
type Stdin struct {
	r    io.Reader
	read bool
}

// NewStdin returns r as the standard input of sources.
func NewStdin(r io.Reader) *Stdin { return &Stdin{r: r} }

// Resolved is what a source stands for.
type Resolved struct {
	*Source
	// Stack is what the kernel enforces or would load, oldest filter
	// first; empty for a process or profile without seccomp.
	Stack bytecode.Stack
	// Profile is the intended profile of profile:, bundle: and builtin:
	// sources (a bundle's annotations and bounding set); nil for others.
	Profile *spec.Profile
	// Description says what the stack is, for people: the source, and for
	// a profile where it came from and which runtime's compilation it is.
	Description string
}

// Notes are what a reviewer must know about an intended profile (a raw
// filter replacing it under crun, no seccomp at all).
func (r *Resolved) Notes() []string {
	if r.Profile == nil {
		return nil
	}
	return r.Profile.Notes
}

// runtime is the runtime profiles are compiled for.
func (r *Resolver) runtime() string {
	if r.Runtime == "" {
		return spec.RuntimeRunc
	}
	return r.Runtime
}

// Resolve reads and, for an intended profile, compiles s.
func (r *Resolver) Resolve(s *Source) (*Resolved, error) {
	switch s.Kind {
	case PID:
		return r.process(s)
	case BPF:
		return r.filters(s)
	case Profile, Bundle, Builtin:
		return r.intended(s)
	}
	return nil, errorf(s.Text, "unknown kind %q", s.Kind)
}

// ResolveText parses text in syntax g and resolves it.
func (r *Resolver) ResolveText(g Syntax, text string) (*Resolved, error) {
	s, err := g.Parse(text)
	if err != nil {
		return nil, err
	}
	return r.Resolve(s)
}

// process reads the filters of a live process's main thread.
func (r *Resolver) process(s *Source) (*Resolved, error) {
	pf, err := procfilters.ReadProcess(s.PID)
	if err != nil {
		return nil, err
	}
	for _, th := range pf.Threads {
		if th.TID == s.PID {
			return &Resolved{Source: s, Stack: th.Stack(), Description: fmt.Sprintf("pid:%d", s.PID)}, nil
		}
	}
	return nil, fmt.Errorf("pid:%d: main thread not found", s.PID)
}

// filters reads the raw filters of a bpf: source (or a bare path to one).
func (r *Resolver) filters(s *Source) (*Resolved, error) {
	res := &Resolved{Source: s, Description: s.Text}
	for _, path := range s.Paths {
		raw, err := r.read(path, inputfile.Filter)
		if err != nil {
			return nil, r.fileError(s, path, err)
		}
		f, err := bytecode.ParseFilter(raw)
		if err != nil {
			return nil, r.fileError(s, path, fmt.Errorf("%s: %w", inputfile.DisplayName(r.path(path)), err))
		}
		res.Stack = append(res.Stack, f)
	}
	return res, nil
}

// intended loads the profile of a profile:, bundle: or builtin: source and
// compiles it as the runtime would.
func (r *Resolver) intended(s *Source) (*Resolved, error) {
	opts := spec.Options{Capabilities: r.Capabilities}
	var p *spec.Profile
	var err error
	if s.Kind == Builtin {
		if p, err = spec.Builtin(s.Name, opts); err != nil {
			return nil, &Error{Source: s.Text, Err: err}
		}
	} else {
		if p, err = r.profile(s.Paths[0], opts); err != nil {
			return nil, r.fileError(s, s.Paths[0], err)
		}
		if s.Kind == Bundle && p.Format != spec.FormatBundle {
			return nil, errorf(s.Text, "%s is a %s profile, not an OCI bundle config", s.Paths[0], p.Format)
		}
	}
	rt := r.runtime()
	stack, err := p.Stack(rt)
	if err != nil {
		return nil, &Error{Source: s.Text, Err: err}
	}
	desc := fmt.Sprintf("%s (%s, as compiled by %s)", s.Text, p.Source, rt)
	if rt == spec.RuntimeCrun && p.RawFilter != nil {
		desc = fmt.Sprintf("%s (%s: the raw filter of annotation %s, which crun loads)", s.Text, p.Source, spec.AnnotationBPFData)
	}
	return &Resolved{Source: s, Stack: stack, Profile: p, Description: desc}, nil
}

// profile reads the profile at path: a bundle directory, a file in any
// format spec reads, or "-" for standard input.
func (r *Resolver) profile(path string, opts spec.Options) (*spec.Profile, error) {
	full := r.path(path)
	if st, err := os.Stat(full); err == nil && st.IsDir() {
		return spec.LoadBundle(full)
	}
	data, err := r.read(path, inputfile.Profile)
	if err != nil {
		return nil, err
	}
	return spec.Parse(data, inputfile.DisplayName(full), opts)
}

// path is where path is read from: relative paths from Dir.
func (r *Resolver) path(path string) string {
	if path == "-" || r.Dir == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(r.Dir, path)
}

// read reads a file of a source within kind's cap; "-" reads standard
// input, once.
func (r *Resolver) read(path string, kind inputfile.Kind) ([]byte, error) {
	switch {
	case path != "-" && r.Stdin != nil:
		// Where "-" is accepted, a FIFO's refusal says to use it.
		return inputfile.ReadArg(r.path(path), nil, kind)
	case path != "-":
		return inputfile.Read(r.path(path), kind)
	case r.Stdin == nil:
		return nil, errors.New("standard input (-) is not read here")
	case r.Stdin.read:
		return nil, errors.New("standard input is read by another source already: give - once")
	}
	r.Stdin.read = true
	return inputfile.ReadArg(path, r.Stdin.r, kind)
}

// fileError names the source in err, unless the source is the bare path
// err already names, which would say it twice.
func (r *Resolver) fileError(s *Source, path string, err error) error {
	if s.Text == path {
		return err
	}
	return &Error{Source: s.Text, Err: err}
}

// Files are the files Resolve reads for s, named as it reads them (relative
// paths from Dir): the files of bpf:, the file of profile:, and the
// config.json of a bundle directory (bundle:, or profile: of a directory).
// Builtins, processes and standard input have none. A process that keeps
// resolved sources (seccomp-attestd) reloads them when one changes.
func (r *Resolver) Files(s *Source) []string {
	var files []string
	for _, path := range s.Paths {
		if path == "-" {
			continue
		}
		full := r.path(path)
		if st, err := os.Stat(full); err == nil && st.IsDir() {
			full = filepath.Join(full, "config.json")
		}
		files = append(files, full)
	}
	return files
}
