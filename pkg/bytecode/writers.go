package bytecode

import "github.com/seccomp-attest/seccomp-attest/pkg/arch"

// What code outside this package needs to write a decision table in
// another form: pkg/spec writes it as an OCI profile.

// MaxErrno is MAX_ERRNO: the kernel caps SECCOMP_RET_ERRNO data at this
// value.
const MaxErrno = maxErrno

// NumberSpace returns the syscall numbers that belong to the table's
// architecture: on x86_64's AUDIT_ARCH value, numbers with X32SyscallBit
// are x32's and the others x86_64's.
func (at *ArchTable) NumberSpace() IntervalSet { return nrSpace(at) }

// AppendNamed adds the rows of iv to out, all with rules, split where the
// syscalls named differ.
func AppendNamed(out []SyscallRules, iv Interval, named []arch.Syscall, rules []Rule) []SyscallRules {
	return appendNamed(out, iv, named, rules)
}

// RulesString is SyscallRules.String for a rule list of its own.
func RulesString(rules []Rule) string { return rulesString(rules) }
