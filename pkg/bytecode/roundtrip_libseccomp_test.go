//go:build cgo && libseccomp

package bytecode

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

// compileWithLibseccomp compiles an OCI profile the way runc does, minus
// runc's ENOSYS patch: the runtimes' own compiler is the oracle.
func compileWithLibseccomp(t testing.TB, p *specs.LinuxSeccomp) *Filter {
	t.Helper()
	toAction := func(a specs.LinuxSeccompAction, errno *uint) libseccomp.ScmpAction {
		var data int16 = 1
		if errno != nil {
			data = int16(*errno)
		}
		switch a {
		case specs.ActKillProcess:
			return libseccomp.ActKillProcess
		case specs.ActKillThread:
			return libseccomp.ActKillThread
		case specs.ActTrap:
			return libseccomp.ActTrap
		case specs.ActErrno:
			return libseccomp.ActErrno.SetReturnCode(data)
		case specs.ActTrace:
			return libseccomp.ActTrace.SetReturnCode(data)
		case specs.ActLog:
			return libseccomp.ActLog
		case specs.ActNotify:
			return libseccomp.ActNotify
		}
		return libseccomp.ActAllow
	}
	filter, err := libseccomp.NewFilter(toAction(p.DefaultAction, p.DefaultErrnoRet))
	if err != nil {
		t.Fatal(err)
	}
	defer filter.Release()
	for _, a := range p.Architectures {
		sa, err := libseccomp.GetArchFromString(string(a)[len("SCMP_ARCH_"):])
		if err != nil {
			t.Fatalf("arch %s: %v", a, err)
		}
		if err := filter.AddArch(sa); err != nil {
			t.Fatalf("add arch %s: %v", a, err)
		}
	}
	ops := map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
		specs.OpEqualTo: libseccomp.CompareEqual, specs.OpNotEqual: libseccomp.CompareNotEqual,
		specs.OpGreaterThan: libseccomp.CompareGreater, specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
		specs.OpLessThan: libseccomp.CompareLess, specs.OpLessEqual: libseccomp.CompareLessOrEqual,
		specs.OpMaskedEqual: libseccomp.CompareMaskedEqual,
	}
	dflt := toAction(p.DefaultAction, p.DefaultErrnoRet)
	for _, s := range p.Syscalls {
		if toAction(s.Action, s.ErrnoRet) == dflt {
			continue // libseccomp refuses it; runc and crun drop it
		}
		for _, name := range s.Names {
			nr, err := libseccomp.GetSyscallFromName(name)
			if err != nil {
				continue // unknown to this libseccomp: runc skips it too
			}
			var conds []libseccomp.ScmpCondition
			for _, a := range s.Args {
				c, err := libseccomp.MakeCondition(a.Index, ops[a.Op], a.Value, a.ValueTwo)
				if err != nil {
					t.Fatal(err)
				}
				conds = append(conds, c)
			}
			if err := filter.AddRuleConditional(nr, toAction(s.Action, s.ErrnoRet), conds); err != nil {
				t.Fatalf("rule %s %+v: %v", name, s, err)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "compiled.bpf")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := filter.ExportBPF(out); err != nil {
		t.Fatal(err)
	}
	out.Close()
	return loadFilter(t, path)
}

// TestDecompileOCIRoundTripConcrete runs each fixture and its decompiled
// profile, compiled by libseccomp alone (as crun does: no ENOSYS stub), on
// inputs around every constant of both programs, with the concrete
// evaluator: wherever the filter denies, the profile must deny too. It is
// an oracle independent of the semantic diff that the bytecode_test round
// trip relies on.
func TestDecompileOCIRoundTripConcrete(t *testing.T) {
	if arch.Native() != arch.X86_64 {
		t.Skip("the fixtures were captured on x86_64")
	}
	for _, path := range realFilters(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			orig := loadFilter(t, path)
			tab, err := Analyze(orig)
			if err != nil {
				t.Fatal(err)
			}
			p, err := tab.OCI()
			if err != nil {
				t.Fatal(err)
			}
			compiled := compileWithLibseccomp(t, &p.Seccomp)
			vals := interestingValues(append(orig.Instructions(), compiled.Instructions()...))
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
								d := Data{Arch: av, Nr: nr | nrBase, Args: args}
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
