package arch

//go:generate go run ./internal/mkargs -tracefs /sys/kernel/tracing -out .

// The parameter order of clone differs by architecture (kernel/fork.c):
// CONFIG_CLONE_BACKWARDS swaps tls and child_tidptr, CONFIG_CLONE_BACKWARDS2
// swaps clone_flags and newsp (arch/*/Kconfig select these). The generated
// table holds x86_64's order.
var (
	cloneBackwards  = []string{"clone_flags", "newsp", "parent_tidptr", "tls", "child_tidptr"}
	cloneBackwards2 = []string{"newsp", "clone_flags", "parent_tidptr", "child_tidptr", "tls"}
	archArgs        = map[*Arch]map[string][]string{
		X86: {"clone": cloneBackwards}, ARM: {"clone": cloneBackwards},
		PPC64: {"clone": cloneBackwards}, PPC64LE: {"clone": cloneBackwards},
		MIPS: {"clone": cloneBackwards}, MIPSEL: {"clone": cloneBackwards},
		MIPS64: {"clone": cloneBackwards}, MIPSEL64: {"clone": cloneBackwards},
		S390: {"clone": cloneBackwards2}, S390X: {"clone": cloneBackwards2},
	}
)

// SyscallArgs returns the parameter names of the named system call on
// this architecture, in order, as the kernel's SYSCALL_DEFINE names them
// (nil for an unknown call). The slice is shared: do not modify it.
func (a *Arch) SyscallArgs(name string) []string {
	if over, ok := archArgs[a][name]; ok {
		return over
	}
	return syscallArgs[name]
}

// ArgName names parameter i of the named system call, or "" if unknown.
func (a *Arch) ArgName(name string, i int) string {
	args := a.SyscallArgs(name)
	if i < 0 || i >= len(args) {
		return ""
	}
	return args[i]
}

// ArgIndex is the position of the named parameter of a system call.
func (a *Arch) ArgIndex(name, arg string) (int, bool) {
	for i, n := range a.SyscallArgs(name) {
		if n == arg {
			return i, true
		}
	}
	return 0, false
}
