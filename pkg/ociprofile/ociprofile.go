// Package ociprofile writes the decision table of a filter stack as an OCI
// linux.seccomp profile and checks it the way it will be used: compiled by
// the runtime's libseccomp (pkg/spec, as runc and crun do) and diffed with
// the stack (pkg/compare).
//
// spec.FromTable writes only entry shapes libseccomp 2.5.4 was seen to
// compile as written, but libseccomp has more bugs than those shapes
// capture (a conditional rule on an x86-only syscall was seen to turn
// x86_64 write's rules into the default action). Write therefore compiles
// the profile, and where the compiled filter lets through what the stack
// denies, writes the syscalls concerned unconditionally (the stricter
// side) and tries again; differences that remain are added to the
// profile's approximations.
package ociprofile

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// maxRounds bounds the compile-and-diff rounds; each round writes more
// syscalls strictly, and a second round was always enough in tests.
const maxRounds = 4

// ErrUnverified says the profile could not be checked against the
// runtime's compiler: a build without libseccomp, or a diff too complex
// for its budget. The profile is still written never weaker by
// construction, short of libseccomp's own bugs.
var ErrUnverified = errors.New("the profile was not compiled and diffed with the filter")

// Write returns the OCI profile of tab, the decision table of stack, for
// a runtime on this machine. With libseccomp in the build the profile is
// compiled as runc would and diffed with stack: it is then never weaker,
// and every difference is in its approximations. When it cannot check it
// returns the profile with an error wrapping ErrUnverified.
func Write(stack bytecode.Stack, tab *bytecode.Table, opts spec.OCIOptions) (*spec.OCIProfile, error) {
	strict := maps.Clone(opts.Strict)
	if strict == nil {
		strict = map[string]bool{}
	}
	for round := 1; ; round++ {
		opts.Strict = strict
		p, err := spec.FromTable(tab, opts)
		if err != nil {
			return nil, err
		}
		if !spec.CompileSupported {
			return p, fmt.Errorf("%w: this build has no libseccomp; it assumes the runtime's libseccomp knows every syscall name it lists", ErrUnverified)
		}
		compiled, err := spec.Compile(&p.Seccomp, spec.RuntimeRunc)
		if err != nil {
			return nil, fmt.Errorf("runc would refuse the profile: %w", err)
		}
		res, err := compare.Stacks(stack, compiled)
		if errors.Is(err, bytecode.ErrTooComplex) {
			return p, fmt.Errorf("%w: %v", ErrUnverified, err)
		}
		if err != nil {
			return nil, fmt.Errorf("diff the profile compiled as runc would with the filter: %w", err)
		}
		weaker := weakerSyscalls(res, tab.Approximate)
		if len(weaker) == 0 {
			addUnreported(p, res)
			return p, nil
		}
		unnamed := slices.DeleteFunc(slices.Clone(weaker), func(n string) bool { return !strings.HasPrefix(n, "nr ") })
		fixable := slices.DeleteFunc(slices.Clone(weaker), func(n string) bool { return strings.HasPrefix(n, "nr ") || strict[n] })
		if round == maxRounds || len(unnamed) > 0 || len(fixable) == 0 {
			return nil, fmt.Errorf("compiled as runc would, the profile lets through what the filter denies (%s); no profile is written",
				strings.Join(weaker, ", "))
		}
		for _, n := range fixable {
			strict[n] = true
		}
	}
}

// weakerSyscalls lists the syscalls (or "nr N" for numbers without a name)
// where the compiled profile is weaker than the filter. Undecided findings
// count when the filter's table is exact (the diff then cannot tell).
func weakerSyscalls(res *compare.Result, approximate bool) []string {
	seen := map[string]bool{}
	var out []string
	for i := range res.Findings {
		f := &res.Findings[i]
		if f.Kind != compare.Weaker && !(f.Kind == compare.Undecided && !approximate) {
			continue
		}
		name := f.Syscall
		if name == "" {
			name = "nr " + f.Label()
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// addUnreported adds an approximation for each difference of the runc
// compilation that the profile does not report yet: what libseccomp makes
// of the entries differs from what they say.
func addUnreported(p *spec.OCIProfile, res *compare.Result) {
	for i := range res.Findings {
		f := &res.Findings[i]
		if f.Kind != compare.Stricter && f.Kind != compare.Changed {
			continue
		}
		var archValue uint32
		if f.Example != nil {
			archValue = f.Example.Arch
		}
		if p.Reports(f.Arch, archValue, f.First, f.Last, f.Kind == compare.Stricter) {
			continue
		}
		a := spec.Approximation{Arch: f.Arch, Numbers: bytecode.IntervalSet{{First: f.First, Last: f.Last}}, Stricter: f.Kind == compare.Stricter,
			Reason: fmt.Sprintf("libseccomp compiles the profile's entries into %v where the filter gives %v (when %s)", f.B, f.A, f.When)}
		if f.Syscall != "" {
			a.Syscalls = []string{f.Syscall}
		}
		if strings.HasPrefix(f.Arch, "arch:") {
			a.Arch, a.ArchValues = "other", bytecode.IntervalSet{{First: archValue, Last: archValue}}
		}
		p.Approximations = append(p.Approximations, a)
	}
}
