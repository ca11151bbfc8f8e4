// Package arch describes the system call architectures seccomp filters
// distinguish: their AUDIT_ARCH values and their syscall tables.
package arch

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Arch is one system call ABI as seen by seccomp: an AUDIT_ARCH value and,
// for x32, the X32_SYSCALL_BIT that its syscall numbers carry.
type Arch struct {
	Name   string // libseccomp's name: x86_64, x32, x86, aarch64, arm, riscv64, s390x, ppc64le, ...
	Audit  uint32 // AUDIT_ARCH_* value found in seccomp_data.arch
	NrBase uint32 // added to every syscall number of the table (X32_SYSCALL_BIT for x32)

	// The lookup tables are built from entries on first use: every
	// program of the project links all tables, and building them at
	// start-up cost each run (a runtime wrapper, a hook) milliseconds.
	entries []Syscall
	once    sync.Once
	byNr    map[uint32]string
	byName  map[string]uint32
	sorted  []Syscall
	maxNr   uint32
}

// X32SyscallBit marks x32 system call numbers on x86_64 (__X32_SYSCALL_BIT).
const X32SyscallBit = 0x40000000

// The architectures this project knows, in the order they are listed.
var (
	X86_64      = &Arch{Name: "x86_64", Audit: 0xc000003e}
	X32         = &Arch{Name: "x32", Audit: 0xc000003e, NrBase: X32SyscallBit}
	X86         = &Arch{Name: "x86", Audit: 0x40000003}
	AArch64     = &Arch{Name: "aarch64", Audit: 0xc00000b7}
	ARM         = &Arch{Name: "arm", Audit: 0x40000028}
	RISCV64     = &Arch{Name: "riscv64", Audit: 0xc00000f3}
	S390X       = &Arch{Name: "s390x", Audit: 0x80000016}
	PPC64LE     = &Arch{Name: "ppc64le", Audit: 0xc0000015}
	PPC64       = &Arch{Name: "ppc64", Audit: 0x80000015}
	S390        = &Arch{Name: "s390", Audit: 0x00000016}
	MIPS        = &Arch{Name: "mips", Audit: 0x00000008}
	MIPSEL      = &Arch{Name: "mipsel", Audit: 0x40000008}
	MIPS64      = &Arch{Name: "mips64", Audit: 0x80000008}
	MIPSEL64    = &Arch{Name: "mipsel64", Audit: 0xc0000008}
	LoongArch64 = &Arch{Name: "loongarch64", Audit: 0xc0000102}
)

// All lists every known architecture.
var All = []*Arch{X86_64, X32, X86, AArch64, ARM, RISCV64, S390X, PPC64LE, PPC64, S390, MIPS, MIPSEL, MIPS64, MIPSEL64, LoongArch64}

func (a *Arch) String() string { return a.Name }

// ByAudit returns the architectures that share an AUDIT_ARCH value (x86_64
// and x32 share one), or nil.
func ByAudit(audit uint32) []*Arch {
	var out []*Arch
	for _, a := range All {
		if a.Audit == audit {
			out = append(out, a)
		}
	}
	return out
}

// ForNr returns the architecture a syscall with this AUDIT_ARCH value and
// number belongs to: x32 for x86_64 numbers carrying X32SyscallBit.
func ForNr(audit, nr uint32) *Arch {
	if audit == X86_64.Audit {
		if nr&X32SyscallBit != 0 {
			return X32
		}
		return X86_64
	}
	if as := ByAudit(audit); len(as) > 0 {
		return as[0]
	}
	return nil
}

// ByName finds an architecture by libseccomp name, OCI name
// (SCMP_ARCH_X86_64) or common alias (amd64, i386, arm64, ppc64el).
func ByName(name string) (*Arch, error) {
	n := strings.ToLower(strings.TrimPrefix(strings.ToUpper(name), "SCMP_ARCH_"))
	switch n {
	case "amd64":
		n = "x86_64"
	case "i386", "i686", "386":
		n = "x86"
	case "arm64":
		n = "aarch64"
	case "ppc64el":
		n = "ppc64le"
	}
	for _, a := range All {
		if a.Name == n {
			return a, nil
		}
	}
	return nil, fmt.Errorf("unknown architecture %q", name)
}

// SyscallName returns the name of syscall number nr (as seen in
// seccomp_data.nr, so including X32SyscallBit for x32).
func (a *Arch) SyscallName(nr uint32) (string, bool) {
	a.once.Do(a.build)
	name, ok := a.byNr[nr]
	return name, ok
}

// SyscallNr returns the number of the named syscall as seen in
// seccomp_data.nr.
func (a *Arch) SyscallNr(name string) (uint32, bool) {
	a.once.Do(a.build)
	nr, ok := a.byName[name]
	return nr, ok
}

// MaxNr returns the highest syscall number in the table (0 if none).
func (a *Arch) MaxNr() uint32 {
	a.once.Do(a.build)
	return a.maxNr
}

// Syscall is one entry of a syscall table.
type Syscall struct {
	Name string
	Nr   uint32
}

// Syscalls returns the table sorted by number. The slice is shared: do not
// modify it.
func (a *Arch) Syscalls() []Syscall {
	a.once.Do(a.build)
	return a.sorted
}

// register records an architecture's table from generated data; numbers
// are relative to NrBase. Architectures of one ABI share the slice (mips
// and mipsel, ...): build only reads it.
func (a *Arch) register(entries []Syscall) { a.entries = entries }

// build makes the lookup tables from the registered entries.
func (a *Arch) build() {
	a.byNr = make(map[uint32]string, len(a.entries))
	a.byName = make(map[string]uint32, len(a.entries))
	for _, e := range a.entries {
		nr := e.Nr + a.NrBase
		a.byNr[nr] = e.Name
		a.byName[e.Name] = nr
		if nr > a.maxNr {
			a.maxNr = nr
		}
	}
	a.sorted = make([]Syscall, 0, len(a.byNr))
	for nr, name := range a.byNr {
		a.sorted = append(a.sorted, Syscall{Name: name, Nr: nr})
	}
	sort.Slice(a.sorted, func(i, j int) bool { return a.sorted[i].Nr < a.sorted[j].Nr })
}
