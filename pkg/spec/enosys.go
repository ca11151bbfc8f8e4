package spec

import (
	"fmt"
	"sort"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// errnoENOSYS is the errno runc's stub returns (ENOSYS on every Linux
// architecture this project knows).
const errnoENOSYS = 38

// archMax is the highest syscall number (as in seccomp_data.nr, so with
// X32SyscallBit for x32) a profile names on one architecture.
type archMax struct {
	arch *arch.Arch
	max  uint32
}

// enosysStub builds the prefix runc (1.1 and later, libcontainer/seccomp/
// patchbpf) puts in front of libseccomp's program when the default action
// denies: for each architecture the profile lists, a syscall number above
// the highest one the profile names returns ERRNO(ENOSYS) instead of the
// default action, so that programs probing for new syscalls fall back
// (e.g. clone3 -> clone). On s390/s390x number 0 (the multiplexer that
// unknown large numbers end up as) returns ENOSYS too. Everything else
// falls through to the start of libseccomp's program, which follows the
// stub; jumps in that program are relative, so prepending keeps them valid.
//
// The stub is the same decision procedure as runc's, not the same bytes:
// runc orders architectures by Go map iteration (so its own bytes differ
// between runs) and this one sorts them, and every architecture section
// here ends in its own long jumps instead of runc's shared tail, so no
// conditional jump ever needs more than 255 instructions.
//
// Post-processing (one filter, as runc loads it) is used rather than a
// second stacked filter: a stacked filter would make ENOSYS compete with
// the profile's own actions by precedence (ERRNO beats ALLOW), while runc's
// stub runs first and decides alone.
func enosysStub(maxima []archMax) ([]bytecode.Instruction, error) {
	if len(maxima) == 0 {
		return nil, nil
	}
	byAudit := map[uint32][]archMax{}
	var audits []uint32
	for _, m := range maxima {
		if _, ok := byAudit[m.arch.Audit]; !ok {
			audits = append(audits, m.arch.Audit)
		}
		byAudit[m.arch.Audit] = append(byAudit[m.arch.Audit], m)
	}
	sort.Slice(audits, func(i, j int) bool { return audits[i] < audits[j] })

	var a asm
	a.emit(bytecode.Instruction{Op: bytecode.ClassLD | bytecode.SizeW | bytecode.ModeABS, K: 4}) // arch
	for _, audit := range audits {
		a.jump(bytecode.JmpJEQ, audit, "", skip1)
		a.ja(fmt.Sprintf("arch%#x", audit))
	}
	a.ja("filter")
	for _, audit := range audits {
		ms := byAudit[audit]
		sec := fmt.Sprintf("arch%#x", audit)
		enosys, filter := sec+".enosys", sec+".filter"
		a.label(sec)
		a.emit(bytecode.Instruction{Op: bytecode.ClassLD | bytecode.SizeW | bytecode.ModeABS, K: 0}) // nr
		switch {
		case len(ms) == 1 && (ms[0].arch == arch.S390 || ms[0].arch == arch.S390X):
			a.jump(bytecode.JmpJEQ, 0, enosys, "")
			a.jump(bytecode.JmpJGT, ms[0].max, enosys, filter)
		case len(ms) == 1 && ms[0].arch == arch.X86_64:
			// x32 numbers (X32SyscallBit set) are not checked.
			a.jump(bytecode.JmpJSET, arch.X32SyscallBit, filter, "")
			a.jump(bytecode.JmpJGT, ms[0].max, enosys, filter)
		case len(ms) == 1 && ms[0].arch == arch.X32:
			a.jump(bytecode.JmpJSET, arch.X32SyscallBit, "", filter)
			a.jump(bytecode.JmpJGT, ms[0].max, enosys, filter)
		case len(ms) == 1:
			a.jump(bytecode.JmpJGT, ms[0].max, enosys, filter)
		case len(ms) == 2 && audit == arch.X86_64.Audit:
			var m64, m32 uint32
			for _, m := range ms {
				if m.arch == arch.X32 {
					m32 = m.max
				} else {
					m64 = m.max
				}
			}
			a.jump(bytecode.JmpJSET, arch.X32SyscallBit, sec+".x32", "")
			a.jump(bytecode.JmpJGT, m64, enosys, filter)
			a.label(sec + ".x32")
			a.jump(bytecode.JmpJGT, m32, enosys, filter)
		default:
			return nil, fmt.Errorf("ENOSYS stub: %d ABIs share AUDIT_ARCH %#x; runc handles only x86_64 with x32", len(ms), audit)
		}
		a.label(enosys)
		a.emit(bytecode.Instruction{Op: bytecode.ClassRET | bytecode.RetK, K: uint32(bytecode.ActErrno) | errnoENOSYS})
		a.label(filter)
		a.ja("filter")
	}
	a.label("filter")
	return a.assemble()
}

// skip1 is a jump target meaning "skip the next instruction".
const skip1 = "\x00skip1"

// asm is a tiny forward-only assembler with symbolic jump targets.
type asm struct {
	prog   []bytecode.Instruction
	fixups []fixup
	labels map[string]int
}

type fixup struct {
	pc     int
	jt, jf string // conditional targets ("" = next instruction)
	ja     string // JA target
}

func (a *asm) emit(in bytecode.Instruction) { a.prog = append(a.prog, in) }

func (a *asm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.prog)
}

func (a *asm) jump(op uint16, k uint32, jt, jf string) {
	a.fixups = append(a.fixups, fixup{pc: len(a.prog), jt: jt, jf: jf})
	a.emit(bytecode.Instruction{Op: bytecode.ClassJMP | op | bytecode.SrcK, K: k})
}

func (a *asm) ja(target string) {
	a.fixups = append(a.fixups, fixup{pc: len(a.prog), ja: target})
	a.emit(bytecode.Instruction{Op: bytecode.ClassJMP | bytecode.JmpJA})
}

func (a *asm) assemble() ([]bytecode.Instruction, error) {
	offset := func(pc int, target string) (uint32, error) {
		switch target {
		case "":
			return 0, nil
		case skip1:
			return 1, nil
		}
		t, ok := a.labels[target]
		if !ok || t <= pc {
			return 0, fmt.Errorf("ENOSYS stub: bad jump target %q at %d", target, pc)
		}
		return uint32(t - pc - 1), nil
	}
	for _, f := range a.fixups {
		in := &a.prog[f.pc]
		if f.ja != "" {
			k, err := offset(f.pc, f.ja)
			if err != nil {
				return nil, err
			}
			in.K = k
			continue
		}
		jt, err := offset(f.pc, f.jt)
		if err != nil {
			return nil, err
		}
		jf, err := offset(f.pc, f.jf)
		if err != nil {
			return nil, err
		}
		if jt > 255 || jf > 255 {
			return nil, fmt.Errorf("ENOSYS stub: conditional jump at %d too long", f.pc)
		}
		in.Jt, in.Jf = uint8(jt), uint8(jf)
	}
	return a.prog, nil
}
