//go:build cgo && libseccomp

package ociprofile

import (
	"path/filepath"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/testfixture"
	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// Every captured filter, and a filter whose profile libseccomp 2.5.4
// miscompiles, comes back never weaker, compiled as runc and as crun
// would, with every difference of runc's compilation reported.
func TestWriteNeverWeaker(t *testing.T) {
	if arch.Native() != arch.X86_64 {
		t.Skip("the filters were captured on x86_64")
	}
	files := testfixture.Glob(t, "*.bpf")
	files = append(files, "testdata/libseccomp-drops-write.bpf")
	if len(files) < 15 {
		t.Fatalf("%d filters", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			stack := bytecode.Stack{testfixture.ReadFilter(t, path)}
			tab, err := bytecode.AnalyzeStack(stack)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Write(stack, tab, spec.OCIOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, runtime := range []string{spec.RuntimeRunc, spec.RuntimeCrun} {
				compiled, err := spec.Compile(&p.Seccomp, runtime)
				if err != nil {
					t.Fatalf("%s: %v", runtime, err)
				}
				res, err := compare.Stacks(stack, compiled)
				if err != nil {
					t.Fatal(err)
				}
				for i := range res.Findings {
					f := &res.Findings[i]
					var archValue uint32
					if f.Example != nil {
						archValue = f.Example.Arch
					}
					if f.Kind == compare.Weaker || f.Kind == compare.Undecided ||
						runtime == spec.RuntimeRunc && !p.Reports(f.Arch, archValue, f.First, f.Last, f.Kind == compare.Stricter) {
						t.Errorf("%s: %s %s %s: %v -> %v when %v", runtime, f.Kind, f.Arch, f.Label(), f.A, f.B, f.When)
					}
				}
			}
		})
	}
}
