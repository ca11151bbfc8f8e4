//go:build cgo && libseccomp

package spec

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/testfixture"
	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
)

// roundTrip decompiles a stack into an OCI profile for this machine's
// libseccomp, compiles the profile again as runtime would, and diffs the
// original (reference) with the compiled profile.
func decompileRoundTrip(t *testing.T, stack bytecode.Stack, runtime string) (*OCIProfile, bytecode.Stack, *compare.Result) {
	t.Helper()
	tab, err := bytecode.AnalyzeStack(stack)
	if err != nil {
		t.Fatal(err)
	}
	p, err := FromTable(tab, OCIOptions{Known: KnownSyscall, MaxRules: MaxRules})
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := Compile(&p.Seccomp, runtime)
	if err != nil {
		t.Fatalf("%s refuses the decompiled profile: %v\n%s", runtime, err, profileSummary(p))
	}
	res, err := compare.Stacks(stack, compiled)
	if err != nil {
		t.Fatal(err)
	}
	return p, compiled, res
}

func profileSummary(p *OCIProfile) string {
	var b strings.Builder
	fmt.Fprintf(&b, "default %s, architectures %v\n", p.Seccomp.DefaultAction, p.Seccomp.Architectures)
	for _, s := range p.Seccomp.Syscalls {
		fmt.Fprintf(&b, "  %v %s %v %+v\n", s.Names, s.Action, errnoString(s.ErrnoRet), s.Args)
	}
	return b.String()
}

// covered reports whether an approximation the profile reports accounts
// for a finding: same architecture (or arch value), overlapping numbers,
// and "stricter" when the finding is.
func reportedIn(p *OCIProfile, f *compare.Finding) bool {
	for _, a := range p.Approximations {
		if a.Arch == "other" {
			if !strings.HasPrefix(f.Arch, "arch:") || f.Example == nil || !a.ArchValues.Contains(f.Example.Arch) {
				continue
			}
		} else if a.Arch != f.Arch {
			continue
		}
		overlap := false
		for _, iv := range a.Numbers {
			if iv.First <= f.Last && f.First <= iv.Last {
				overlap = true
			}
		}
		if overlap && (f.Kind != compare.Stricter || a.Stricter) {
			return true
		}
	}
	return false
}

func fixtureFilters(t *testing.T) []string {
	files, _ := filepath.Glob("../bytecode/testdata/*.bpf")
	files = append(files, testfixture.Glob(t, "*.bpf")...)
	if len(files) < 15 {
		t.Fatalf("found %d filter fixtures, want every pkg/bytecode/testdata/*.bpf and %s/*.bpf", len(files), testfixture.Dir)
	}
	return files
}

// checkRoundTrip requires the compiled profile to be never weaker than the
// stack, and every difference to be one the decompiler reported.
func checkDecompileRoundTrip(t *testing.T, stack bytecode.Stack, runtime string, requireReported bool) (*OCIProfile, *compare.Result) {
	t.Helper()
	p, _, res := decompileRoundTrip(t, stack, runtime)
	var bad []string
	for i := range res.Findings {
		f := &res.Findings[i]
		switch {
		case f.Kind == compare.Weaker || f.Kind == compare.Undecided:
		case requireReported && !reportedIn(p, f):
		default:
			continue
		}
		if len(bad) < 20 {
			bad = append(bad, fmt.Sprintf("%s %s %s: %v -> %v when %v (example %+v)", f.Kind, f.Arch, f.Label(), f.A, f.B, f.When, f.Example))
		}
	}
	if len(bad) > 0 {
		var approx []string
		for _, a := range p.Approximations {
			approx = append(approx, a.String())
		}
		t.Fatalf("compiled by %s, the decompiled profile differs where it should not:\n  %s\nreported approximations:\n  %s\nprofile:\n%s",
			runtime, strings.Join(bad, "\n  "), strings.Join(approx, "\n  "), profileSummary(p))
	}
	return p, res
}

// TestDecompileOCINeverWeakerOnFixtures: every filter captured from a real
// runtime, decompiled and compiled again as runc would, is never weaker and
// differs only where the decompiler said so; compiled as crun would (no
// ENOSYS stub) it is never weaker either.
func TestDecompileOCINeverWeakerOnFixtures(t *testing.T) {
	if arch.Native() != arch.X86_64 {
		t.Skip("the fixtures were captured on x86_64")
	}
	for _, path := range fixtureFilters(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			stack := bytecode.Stack{testfixture.ReadFilter(t, path)}
			p, res := checkDecompileRoundTrip(t, stack, RuntimeRunc, true)
			checkDecompileRoundTrip(t, stack, RuntimeCrun, false)
			t.Logf("default %s, %d architectures, %d entries; %d approximations (%d stricter); runc findings: %d stricter, %d changed",
				p.Seccomp.DefaultAction, len(p.Listed), len(p.Seccomp.Syscalls), len(p.Approximations), countStricter(p),
				res.Count(compare.Stricter), res.Count(compare.Changed))
			for _, a := range p.Approximations {
				t.Logf("  approximated: %s", a)
			}
		})
	}
}

func countStricter(p *OCIProfile) int {
	n := 0
	for _, a := range p.Approximations {
		if a.Stricter {
			n++
		}
	}
	return n
}
