package knowledge

import (
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

func TestEmbeddedBaseLoads(t *testing.T) {
	b := Default()
	if len(b.Syscalls) < 100 {
		t.Fatalf("knowledge base has %d syscalls, want at least 100", len(b.Syscalls))
	}
	for _, s := range b.Syscalls {
		if s.What == "" || s.Risk == "" {
			t.Errorf("%s: what and risk must be written", s.Name)
		}
		for _, c := range s.CVEs {
			if !strings.HasPrefix(c, "CVE-") {
				t.Errorf("%s: %q is not a CVE id", s.Name, c)
			}
		}
	}
}

// Every name the base uses must be a syscall of some architecture: a typo
// would silently never match a filter.
func TestNamesAreSyscalls(t *testing.T) {
	b := Default()
	known := func(name string) bool {
		for _, a := range arch.All {
			if _, ok := a.SyscallNr(name); ok {
				return true
			}
		}
		return false
	}
	check := func(where, name string) {
		if !known(name) {
			t.Errorf("%s: %q is not a syscall of any known architecture", where, name)
		}
	}
	for _, s := range b.Syscalls {
		check("syscalls", s.Name)
	}
	for _, g := range b.Alternatives {
		for _, n := range g {
			check("alternatives", n)
		}
	}
	for _, m := range b.MemoryArgs {
		check("memoryArgs", m.Syscall)
		for _, n := range m.Covers {
			check("memoryArgs "+m.Syscall, n)
		}
	}
	for _, n := range b.IOUring {
		check("iouring", n)
	}
}

func TestTier1AsTheIssueLists(t *testing.T) {
	b := Default()
	for _, n := range []string{"bpf", "ptrace", "kexec_load", "kexec_file_load", "init_module",
		"finit_module", "delete_module", "process_vm_readv", "process_vm_writev"} {
		if got := b.Lookup(n).Tier; got != TierCritical {
			t.Errorf("%s: tier %d, want 1", n, got)
		}
	}
	if s := b.Lookup("getpid"); s.Known || s.Tier != DefaultTier {
		t.Errorf("getpid: got %+v, want the default entry", s)
	}
	if !b.Is32BitArg("socket", 0) || b.Is32BitArg("clone", 0) {
		t.Error("socket's family is 32-bit, clone's flags are not")
	}
}

func TestParseRejectsBadEntries(t *testing.T) {
	for _, in := range []string{
		"syscalls: [{name: a, tier: 0, what: x, risk: y}]",
		"syscalls: [{name: a, tier: 2, what: x, risk: y}, {name: a, tier: 2, what: x, risk: y}]",
		"syscalls: [{name: a, tier: 2, args32: [6]}]",
		"syscalls: [{name: a, tier: 2, colour: red}]",
	} {
		if _, err := parse([]byte(in)); err == nil {
			t.Errorf("parse(%q) accepted", in)
		}
	}
}
