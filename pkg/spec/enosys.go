package spec

import (
	"fmt"
	"sort"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
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
func enosysStub(maxima []archMax) ([]bpf.Instruction, error) {
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

	var b bpf.Builder
	b.Emit(bpf.Load(bpf.SizeW, bpf.ModeABS), bytecode.OffsetArch)
	for _, audit := range audits {
		sec := fmt.Sprintf("arch%#x", audit)
		b.JumpIf(bpf.JmpJEQ, audit, "", sec+".other")
		b.Goto(sec)
		b.Label(sec + ".other")
	}
	b.Goto("filter")
	for _, audit := range audits {
		ms := byAudit[audit]
		sec := fmt.Sprintf("arch%#x", audit)
		enosys, filter := sec+".enosys", sec+".filter"
		b.Label(sec)
		b.Emit(bpf.Load(bpf.SizeW, bpf.ModeABS), bytecode.OffsetNr)
		switch {
		case len(ms) == 1 && (ms[0].arch == arch.S390 || ms[0].arch == arch.S390X):
			b.JumpIf(bpf.JmpJEQ, 0, enosys, "")
			b.JumpIf(bpf.JmpJGT, ms[0].max, enosys, filter)
		case len(ms) == 1 && ms[0].arch == arch.X86_64:
			// x32 numbers (X32SyscallBit set) are not checked.
			b.JumpIf(bpf.JmpJSET, arch.X32SyscallBit, filter, "")
			b.JumpIf(bpf.JmpJGT, ms[0].max, enosys, filter)
		case len(ms) == 1 && ms[0].arch == arch.X32:
			b.JumpIf(bpf.JmpJSET, arch.X32SyscallBit, "", filter)
			b.JumpIf(bpf.JmpJGT, ms[0].max, enosys, filter)
		case len(ms) == 1:
			b.JumpIf(bpf.JmpJGT, ms[0].max, enosys, filter)
		case len(ms) == 2 && audit == arch.X86_64.Audit:
			var m64, m32 uint32
			for _, m := range ms {
				if m.arch == arch.X32 {
					m32 = m.max
				} else {
					m64 = m.max
				}
			}
			b.JumpIf(bpf.JmpJSET, arch.X32SyscallBit, sec+".x32", "")
			b.JumpIf(bpf.JmpJGT, m64, enosys, filter)
			b.Label(sec + ".x32")
			b.JumpIf(bpf.JmpJGT, m32, enosys, filter)
		default:
			return nil, fmt.Errorf("ENOSYS stub: %d ABIs share AUDIT_ARCH %#x; runc handles only x86_64 with x32", len(ms), audit)
		}
		b.Label(enosys)
		b.Emit(bpf.Ret(bpf.RetK), uint32(bytecode.ActErrno)|errnoENOSYS)
		b.Label(filter)
		b.Goto("filter")
	}
	b.Label("filter")
	prog, err := b.Program()
	if err != nil {
		return nil, fmt.Errorf("ENOSYS stub: %w", err)
	}
	return prog, nil
}
