//go:build cgo && libseccomp

package spec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// CompileSupported reports whether Compile works in this build.
const CompileSupported = true

// Compile compiles an OCI profile into the filter stack runtime would load,
// with the host's libseccomp (the runtimes' own compiler):
//
//   - runc (as 1.1.5, the version on these machines): SCMP_ACT_KILL is
//     KILL_THREAD; ERRNO and TRACE without errnoRet use EPERM, errnoRet on
//     other actions is ignored; rules whose action equals the default are
//     dropped; unknown syscall names are skipped; conditions of one rule
//     that test the same argument twice are split into separate rules (OR);
//     seccomp flags are refused; when the default action denies, the
//     ENOSYS stub (see enosysStub) is prepended to libseccomp's program.
//   - crun (1.8): the same compilation without the ENOSYS stub, with
//     defaultErrnoRet honoured and errnoRet on actions other than ERRNO or
//     TRACE refused. crun's run.oci.seccomp_bpf_data annotation is a
//     bundle property: see Profile.Stack.
//
// A nil profile compiles to an empty stack (no filter).
func Compile(p *specs.LinuxSeccomp, runtime string) (bytecode.Stack, error) {
	if err := checkRuntime(runtime); err != nil {
		return nil, err
	}
	if p == nil || (p.DefaultAction == "" && len(p.Syscalls) == 0) {
		// Both runtimes treat this as "no seccomp".
		return nil, nil
	}
	if runtime == RuntimeRunc && len(p.Flags) > 0 {
		return nil, fmt.Errorf("runc: seccomp flags %v are not supported by runc 1.1 (it refuses to start the container)", p.Flags)
	}
	if runtime == RuntimeCrun && p.DefaultErrnoRet != nil && !takesErrno(p.DefaultAction) {
		return nil, fmt.Errorf("crun: defaultErrnoRet is set for default action %s (crun refuses it)", p.DefaultAction)
	}
	defAct, err := toAction(runtime, p.DefaultAction, p.DefaultErrnoRet, "defaultErrnoRet")
	if err != nil {
		return nil, fmt.Errorf("%s: default action: %w", runtime, err)
	}
	if defAct == libseccomp.ActNotify {
		return nil, fmt.Errorf("%s: SCMP_ACT_NOTIFY cannot be the default action", runtime)
	}
	filter, err := libseccomp.NewFilter(defAct)
	if err != nil {
		return nil, fmt.Errorf("libseccomp: new filter: %w", err)
	}
	defer filter.Release()

	var arches []libseccomp.ScmpArch
	for _, a := range p.Architectures {
		sa, err := scmpArch(runtime, a)
		if err != nil {
			return nil, err
		}
		if err := filter.AddArch(sa); err != nil {
			return nil, fmt.Errorf("libseccomp: add architecture %s: %w", a, err)
		}
		arches = append(arches, sa)
	}

	rules := 0
	for i, call := range p.Syscalls {
		if runtime == RuntimeCrun && call.ErrnoRet != nil && !takesErrno(call.Action) {
			return nil, fmt.Errorf("crun: syscalls[%d]: errnoRet is set for action %s (crun refuses it)", i, call.Action)
		}
		act, err := toAction(runtime, call.Action, call.ErrnoRet, "errnoRet")
		if err != nil {
			return nil, fmt.Errorf("%s: syscalls[%d] (%s): %w", runtime, i, strings.Join(call.Names, " "), err)
		}
		if runtime == RuntimeRunc && act == libseccomp.ActNotify && containsName(call.Names, "write") {
			return nil, fmt.Errorf("runc: syscalls[%d]: SCMP_ACT_NOTIFY cannot be used for write", i)
		}
		conds, split, err := conditions(call.Args)
		if err != nil {
			return nil, fmt.Errorf("syscalls[%d] (%s): %w", i, strings.Join(call.Names, " "), err)
		}
		for _, name := range call.Names {
			if name == "" {
				return nil, fmt.Errorf("syscalls[%d]: empty syscall name", i)
			}
			if act == defAct {
				// Both runtimes drop it; libseccomp would refuse it.
				continue
			}
			nr, err := libseccomp.GetSyscallFromName(name)
			if err != nil {
				// Unknown to this libseccomp: both runtimes skip it
				// (crun fails only with run.oci.seccomp_fail_unknown_syscall).
				continue
			}
			if split {
				rules += len(conds)
			} else {
				rules++
			}
			if rules > MaxRules {
				return nil, fmt.Errorf("syscalls[%d] (%s): the profile adds more than %d rules (one per syscall name and split condition); "+
					"refused to bound the compilation time (real profiles add a few hundred)",
					i, name, MaxRules)
			}
			if split {
				for _, c := range conds {
					if err := filter.AddRuleConditional(nr, act, []libseccomp.ScmpCondition{c}); err != nil {
						return nil, fmt.Errorf("libseccomp: rule %s: %w", name, err)
					}
				}
			} else if err := filter.AddRuleConditional(nr, act, conds); err != nil {
				return nil, fmt.Errorf("libseccomp: rule %s: %w", name, err)
			}
		}
	}

	prog, err := export(filter)
	if err != nil {
		return nil, err
	}
	if runtime == RuntimeRunc && !permissive(p.DefaultAction) {
		maxima, err := lastSyscalls(p, arches)
		if err != nil {
			return nil, err
		}
		stub, err := enosysStub(maxima)
		if err != nil {
			return nil, err
		}
		prog = append(stub, prog...)
	}
	f, err := bytecode.NewFilter(prog)
	if err != nil {
		return nil, fmt.Errorf("%s: compiled filter: %w", runtime, err)
	}
	return bytecode.Stack{f}, nil
}

func takesErrno(a specs.LinuxSeccompAction) bool {
	return a == specs.ActErrno || a == specs.ActTrace
}

// permissive are the default actions for which runc adds no ENOSYS stub
// (a tracer is expected to handle unknown syscalls itself). runc 1.1.5 also
// means to skip it when defaultErrnoRet is ENOSYS, but compares that with
// the whole action value, so it never skips for that reason (the podman
// default profile, ERRNO(ENOSYS) by default, gets the stub).
func permissive(a specs.LinuxSeccompAction) bool {
	return a == specs.ActAllow || a == specs.ActLog || a == specs.ActTrace
}

func containsName(names []string, n string) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

// maxErrno is the kernel's MAX_ERRNO, the largest errno a system call can
// return. libseccomp (2.5) accepts an ERRNO action only below it and
// otherwise fails the rule with EINVAL, which libseccomp-golang reports as
// "two checks on same syscall argument"; runc and crun fail the same way.
const maxErrno = 4095

// toAction is the libseccomp action of a, with errnoRet (named field in
// the profile) as its data.
func toAction(runtime string, a specs.LinuxSeccompAction, errnoRet *uint, field string) (libseccomp.ScmpAction, error) {
	errno := int16(unix.EPERM)
	if errnoRet != nil {
		switch {
		case a == specs.ActErrno && *errnoRet > maxErrno:
			return libseccomp.ActInvalid, fmt.Errorf("%s %d is beyond the kernel's maximum errno %d (MAX_ERRNO): %s refuses the profile",
				field, *errnoRet, maxErrno, runtime)
		case a == specs.ActErrno && *errnoRet == maxErrno:
			return libseccomp.ActInvalid, fmt.Errorf("%s %d is the kernel's MAX_ERRNO, which libseccomp refuses (it takes 0 to %d): %s refuses the profile",
				field, *errnoRet, maxErrno-1, runtime)
		case *errnoRet > 0xffff:
			return libseccomp.ActInvalid, fmt.Errorf("%s %d does not fit the 16-bit action data", field, *errnoRet)
		}
		errno = int16(*errnoRet)
	}
	switch a {
	case specs.ActKill, specs.ActKillThread:
		return libseccomp.ActKillThread, nil
	case specs.ActKillProcess:
		return libseccomp.ActKillProcess, nil
	case specs.ActTrap:
		return libseccomp.ActTrap, nil
	case specs.ActErrno:
		return libseccomp.ActErrno.SetReturnCode(errno), nil
	case specs.ActTrace:
		return libseccomp.ActTrace.SetReturnCode(errno), nil
	case specs.ActAllow:
		return libseccomp.ActAllow, nil
	case specs.ActLog:
		return libseccomp.ActLog, nil
	case specs.ActNotify:
		return libseccomp.ActNotify, nil
	}
	return libseccomp.ActInvalid, fmt.Errorf("unknown action %q", a)
}

// runcArches are the architectures runc 1.1.5 accepts (its seccomp
// config.go); it refuses a profile naming any other.
var runcArches = map[specs.Arch]bool{
	specs.ArchX86: true, specs.ArchX86_64: true, specs.ArchX32: true, specs.ArchARM: true,
	specs.ArchAARCH64: true, specs.ArchMIPS: true, specs.ArchMIPS64: true, specs.ArchMIPS64N32: true,
	specs.ArchMIPSEL: true, specs.ArchMIPSEL64: true, specs.ArchMIPSEL64N32: true, specs.ArchPPC: true,
	specs.ArchPPC64: true, specs.ArchPPC64LE: true, specs.ArchS390: true, specs.ArchS390X: true,
}

func scmpArch(runtime string, a specs.Arch) (libseccomp.ScmpArch, error) {
	if runtime == RuntimeRunc && !runcArches[a] {
		return libseccomp.ArchInvalid, fmt.Errorf("runc: architecture %s is not supported by runc 1.1", a)
	}
	name := strings.ToLower(strings.TrimPrefix(string(a), "SCMP_ARCH_"))
	sa, err := libseccomp.GetArchFromString(name)
	if err != nil {
		return libseccomp.ArchInvalid, fmt.Errorf("%s: unknown architecture %s: %w", runtime, a, err)
	}
	return sa, nil
}

var operators = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpEqualTo: libseccomp.CompareEqual, specs.OpNotEqual: libseccomp.CompareNotEqual,
	specs.OpGreaterThan: libseccomp.CompareGreater, specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpLessThan: libseccomp.CompareLess, specs.OpLessEqual: libseccomp.CompareLessOrEqual,
	specs.OpMaskedEqual: libseccomp.CompareMaskedEqual,
}

// conditions converts a rule's arguments; split reports that one argument
// is tested more than once, in which case both runtimes add every
// condition as a rule of its own (OR instead of AND), because libseccomp
// cannot AND two comparisons of the same argument.
func conditions(args []specs.LinuxSeccompArg) (conds []libseccomp.ScmpCondition, split bool, err error) {
	var count [6]int
	for j, a := range args {
		if a.Index >= 6 {
			return nil, false, fmt.Errorf("args[%d]: index %d (a syscall has 6 arguments)", j, a.Index)
		}
		op, ok := operators[a.Op]
		if !ok {
			return nil, false, fmt.Errorf("args[%d]: unknown operator %q", j, a.Op)
		}
		c, err := libseccomp.MakeCondition(a.Index, op, a.Value, a.ValueTwo)
		if err != nil {
			return nil, false, fmt.Errorf("args[%d]: %w", j, err)
		}
		count[a.Index]++
		if count[a.Index] > 1 {
			split = true
		}
		conds = append(conds, c)
	}
	return conds, split, nil
}

// lastSyscalls finds, per listed architecture, the highest number among
// all the names the profile mentions (whatever their action, as runc does).
func lastSyscalls(p *specs.LinuxSeccomp, arches []libseccomp.ScmpArch) ([]archMax, error) {
	var out []archMax
	seen := map[libseccomp.ScmpArch]bool{}
	for _, sa := range arches {
		if seen[sa] {
			continue
		}
		seen[sa] = true
		var largest libseccomp.ScmpSyscall
		for _, call := range p.Syscalls {
			for _, name := range call.Names {
				nr, err := libseccomp.GetSyscallFromNameByArch(name, sa)
				if err != nil {
					continue
				}
				if nr > largest {
					largest = nr
				}
			}
		}
		if largest == 0 {
			// runc only warns: this architecture gets no stub.
			continue
		}
		a, err := arch.ByName(sa.String())
		if err != nil {
			return nil, fmt.Errorf("runc ENOSYS stub: architecture %s: %w", sa, err)
		}
		out = append(out, archMax{arch: a, max: uint32(largest)})
	}
	return out, nil
}

// export writes libseccomp's program to a memfd (libseccomp 2.5 has no
// in-memory export) and decodes it.
func export(filter *libseccomp.ScmpFilter) ([]bpf.Instruction, error) {
	fd, err := unix.MemfdCreate("seccomp-attest-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "seccomp-attest-bpf")
	defer f.Close()
	if err := filter.ExportBPF(f); err != nil {
		return nil, fmt.Errorf("libseccomp: export BPF: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, errors.New("libseccomp exported an empty program")
	}
	return bpf.Decode(raw)
}
