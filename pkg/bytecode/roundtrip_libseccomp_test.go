//go:build cgo && libseccomp

package bytecode

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
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
	for _, s := range p.Syscalls {
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

// TestDecompileOCIRoundTrip compiles `decompile --format oci` with
// libseccomp and checks that the result behaves like the original filter
// for every named syscall of every architecture the profile lists, except
// the ones the decompiler itself reported as approximated.
func TestDecompileOCIRoundTrip(t *testing.T) {
	for _, path := range realFilters(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			orig := loadFilter(t, path)
			tab, err := Analyze(orig)
			if err != nil {
				t.Fatal(err)
			}
			p, err := tab.OCI()
			if err != nil {
				t.Skipf("no OCI form: %v", err)
			}
			compiled := compileWithLibseccomp(t, &p.Seccomp)
			vals := interestingValues(append(orig.Instructions(), compiled.Instructions()...))
			checked, skipped, unknown := 0, 0, 0
			for _, at := range tab.Arches {
				if at.Arch == nil {
					continue
				}
				for _, sr := range at.Syscalls {
					if sr.Name == "" {
						continue
					}
					la, _ := libseccomp.GetArchFromString(at.Arch.Name)
					if _, err := libseccomp.GetSyscallFromNameByArch(sr.Name, la); err != nil {
						// Newer than this libseccomp: a profile cannot name it.
						unknown++
						continue
					}
					if p.Inexact[at.Arch.Name+"/"+sr.Name] || p.Inexact[p.Primary.Name+"/"+sr.Name] {
						skipped++
						continue
					}
					checked++
					for i, v := range vals {
						w := vals[(i*7+3)%len(vals)]
						for _, args := range [][6]uint64{
							{uint64(v)}, {uint64(v), uint64(w)}, {uint64(w)<<32 | uint64(v), uint64(v)},
							{uint64(v) << 32, 0, uint64(v)}, {0, 0, 0, uint64(v), uint64(w)},
						} {
							d := Data{Arch: at.Arch.Audit, Nr: sr.First, Args: args}
							if got, want := compiled.Run(&d), orig.Run(&d); got.Effective() != want.Effective() {
								t.Fatalf("%s %s args %#x: libseccomp-compiled profile gives %v, original %v\nprofile approximations: %v",
									at.Arch.Name, sr.Name, args, got, want, p.Approximations)
							}
						}
					}
				}
			}
			t.Logf("%d named syscalls equivalent, %d reported as approximated, %d unknown to libseccomp", checked, skipped, unknown)
			if checked == 0 {
				t.Fatal("nothing compared")
			}
		})
	}
}
