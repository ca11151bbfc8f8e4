//go:build cgo && libseccomp

package spec

import (
	"path/filepath"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/bpftest"
	"github.com/seccomp-attest/seccomp-attest/internal/testfixture"
	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// TestDecompileOCIRoundTripConcrete runs each fixture and its decompiled
// profile, compiled by libseccomp alone (as crun does: no ENOSYS stub), on
// inputs around every constant of both programs, with the concrete
// evaluator: wherever the filter denies, the profile must deny too. It is
// an oracle independent of the semantic diff that the round trip of
// fromtable_roundtrip_libseccomp_test.go relies on.
func TestDecompileOCIRoundTripConcrete(t *testing.T) {
	if arch.Native() != arch.X86_64 {
		t.Skip("the fixtures were captured on x86_64")
	}
	for _, path := range fixtureFilters(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			orig := testfixture.ReadFilter(t, path)
			tab, err := bytecode.Analyze(orig)
			if err != nil {
				t.Fatal(err)
			}
			p, err := FromTable(tab, OCIOptions{})
			if err != nil {
				t.Fatal(err)
			}
			compiled, err := Compile(&p.Seccomp, RuntimeCrun)
			if err != nil {
				t.Fatal(err)
			}
			prog := orig.Instructions()
			for _, f := range compiled {
				prog = append(prog, f.Instructions()...)
			}
			vals := bpftest.InterestingValues(prog)
			arches := []uint32{0, arch.X86.Audit, arch.AArch64.Audit, arch.X86_64.Audit}
			// Every value as a number, a sample of them as arguments.
			argVals := vals
			if len(argVals) > 12 {
				argVals = nil
				for i := 0; i < len(vals); i += len(vals)/12 + 1 {
					argVals = append(argVals, vals[i])
				}
			}
			checked := 0
			for _, av := range arches {
				for _, nr := range vals {
					for _, nrBase := range []uint32{0, arch.X32SyscallBit} {
						if nrBase != 0 && av != arch.X86_64.Audit {
							continue // only x86_64 has x32 numbers
						}
						for i, v := range argVals {
							w := argVals[(i*7+3)%len(argVals)]
							for _, args := range [][6]uint64{
								{uint64(v)}, {uint64(v), uint64(w)}, {uint64(w)<<32 | uint64(v), uint64(v)},
								{uint64(v) << 32, 0, uint64(v)}, {0, 0, 0, uint64(v), uint64(w)},
							} {
								d := bytecode.Data{Arch: av, Nr: nr | nrBase, Args: args}
								want, got := orig.Run(&d).Effective(), compiled.Run(&d).Effective()
								checked++
								if !want.Permits() && got.Permits() {
									t.Fatalf("arch %#x nr %#x args %#x: the filter gives %v, the decompiled profile %v (weaker)", av, d.Nr, args, want, got)
								}
							}
						}
					}
				}
			}
			t.Logf("%d inputs: never weaker", checked)
		})
	}
}
