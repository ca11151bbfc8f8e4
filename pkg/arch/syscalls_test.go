package arch

import (
	"runtime"
	"testing"
)

// Numbers that every table must have, taken from each arch's uapi unistd
// headers. They pin the generator's source and its x32 and ARM additions.
func TestSyscallNumbers(t *testing.T) {
	tests := []struct {
		arch *Arch
		name string
		nr   uint32
	}{
		{X86_64, "read", 0},
		{X86_64, "rt_sigaction", 13},
		{X86_64, "openat", 257},
		{X86_64, "uretprobe", 335},
		{X86_64, "clone3", 435},
		{X86_64, "mseal", 462},
		{X32, "read", X32SyscallBit + 0},
		{X32, "openat", X32SyscallBit + 257},
		{X32, "rt_sigaction", X32SyscallBit + 512}, // x32's own entry
		{X32, "execve", X32SyscallBit + 520},
		{X32, "pwritev2", X32SyscallBit + 547},
		{X32, "uretprobe", X32SyscallBit + 335}, // "common" in syscall_64.tbl
		{X86, "socketcall", 102},
		{X86, "_llseek", 140},
		{X86, "socket", 359},
		{X86, "clock_gettime64", 403},
		{AArch64, "openat", 56},
		{AArch64, "clone3", 435},
		{ARM, "socket", 281},
		{ARM, "arm_fadvise64_64", 270},
		{ARM, "cacheflush", 0x0f0002},
		{ARM, "set_tls", 0x0f0005},
		{ARM, "restart_syscall", 0}, // x/sys also has SYS_SYSCALL_MASK = 0, a mask
		{RISCV64, "riscv_flush_icache", 259},
		{S390X, "socketcall", 102},
		{S390X, "s390_sthyi", 380},
		{PPC64LE, "socketcall", 102},
		{PPC64, "openat", 286},
		{MIPS, "read", 4003},
		{MIPSEL, "read", 4003},
		{MIPS64, "read", 5000},
		{MIPSEL64, "read", 5000},
		{LoongArch64, "openat", 56},
	}
	for _, tt := range tests {
		if nr, ok := tt.arch.SyscallNr(tt.name); !ok || nr != tt.nr {
			t.Errorf("%s.SyscallNr(%q) = %d, %v; want %d", tt.arch, tt.name, nr, ok, tt.nr)
		}
		if name, ok := tt.arch.SyscallName(tt.nr); !ok || name != tt.name {
			t.Errorf("%s.SyscallName(%d) = %q, %v; want %q", tt.arch, tt.nr, name, ok, tt.name)
		}
	}
}

// Numbers that must not be in a table: x32 has no entry where x86_64's
// ABI is "64", and placeholders of the headers are no syscalls.
func TestSyscallAbsent(t *testing.T) {
	tests := []struct {
		arch *Arch
		nr   uint32
	}{
		{X32, X32SyscallBit + 13},  // rt_sigaction is 512 on x32
		{X32, X32SyscallBit + 59},  // execve is 520 on x32
		{X32, X32SyscallBit + 453}, // map_shadow_stack is x86_64 only
		{X32, 0},                   // x32 numbers carry the X32 bit
		{X86_64, X32SyscallBit},    // and x86_64 ones do not
		{X86_64, 512},              // x32's range
		{AArch64, 244},             // __NR_arch_specific_syscall
		{MIPS, 4018},               // __NR_unused18
	}
	for _, tt := range tests {
		if name, ok := tt.arch.SyscallName(tt.nr); ok {
			t.Errorf("%s.SyscallName(%d) = %q, want no syscall", tt.arch, tt.nr, name)
		}
	}
}

func TestTablesConsistent(t *testing.T) {
	for _, a := range All {
		calls := a.Syscalls()
		if a == S390 {
			if len(calls) != 0 {
				t.Errorf("s390 has %d syscalls; the generator has no source for it", len(calls))
			}
			continue
		}
		if len(calls) < 300 {
			t.Errorf("%s has only %d syscalls", a, len(calls))
		}
		var max uint32
		for i, c := range calls {
			if i > 0 && calls[i-1].Nr >= c.Nr {
				t.Errorf("%s: Syscalls not sorted at %d", a, i)
			}
			if nr, ok := a.SyscallNr(c.Name); !ok || nr != c.Nr {
				t.Errorf("%s: %s maps to %d, its number is %d", a, c.Name, nr, c.Nr)
			}
			if c.Nr&X32SyscallBit != a.NrBase {
				t.Errorf("%s: %s (%#x) does not carry the ABI's X32 bit exactly when it should", a, c.Name, c.Nr)
			}
			max = c.Nr
		}
		if a.MaxNr() != max {
			t.Errorf("%s.MaxNr() = %d, want %d", a, a.MaxNr(), max)
		}
		// Every arch table lists the syscalls container runtimes need.
		for _, name := range []string{"execve", "exit_group", "seccomp", "clone3", "io_uring_setup"} {
			if _, ok := a.SyscallNr(name); !ok {
				t.Errorf("%s lacks %s", a, name)
			}
		}
	}
}

func TestAuditName(t *testing.T) {
	for a, want := range map[*Arch]string{X86_64: "X86_64", X32: "X86_64", X86: "I386", AArch64: "AARCH64", PPC64LE: "PPC64LE"} {
		if got := a.AuditName(); got != want {
			t.Errorf("%s.AuditName() = %q, want %q", a, got, want)
		}
	}
}

func TestNative(t *testing.T) {
	a := Native()
	if runtime.GOARCH == "amd64" && a != X86_64 {
		t.Fatalf("Native() = %v on amd64", a)
	}
	if a == nil {
		t.Skipf("GOARCH %s has no seccomp arch", runtime.GOARCH)
	}
	if _, ok := a.SyscallNr("getpid"); !ok {
		t.Errorf("native arch %s lacks getpid", a)
	}
}
