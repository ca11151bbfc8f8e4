package score

import (
	"slices"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

func findingsOf(r *Report, kind string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

func syscallScore(r *Report, name string) *SyscallScore {
	for i := range r.Syscalls {
		if r.Syscalls[i].Name == name {
			return &r.Syscalls[i]
		}
	}
	return nil
}

func usePermitted(t *testing.T, r *Report, syscall, usePrefix string) bool {
	t.Helper()
	ss := syscallScore(r, syscall)
	if ss == nil {
		return false
	}
	for _, u := range ss.Uses {
		if strings.HasPrefix(u.Name, usePrefix) {
			return u.Permitted
		}
	}
	t.Fatalf("%s has no use %q", syscall, usePrefix)
	return false
}

// An unconfined process scores 0 with the failing grade and nothing else
// to say.
func TestUnconfined(t *testing.T) {
	r := mustScore(t, nil)
	if r.Score != 0 || r.Grade != "F" || !r.Unconfined {
		t.Fatalf("unconfined: score %v grade %s unconfined %v", r.Score, r.Grade, r.Unconfined)
	}
	if len(r.Findings) != 1 || r.Findings[0].Kind != KindUnconfined {
		t.Fatalf("unconfined findings: %+v", r.Findings)
	}
	if !usePermitted(t, r, "clone", "namespace creation") {
		t.Error("unconfined: namespace creation not counted")
	}
}

// Docker 20.10's own default (captured under runc and crun): ptrace is
// permitted (kernel >= 4.8), which forces the failing grade; both runtimes'
// filters score the same; clone is allowed only without namespace flags.
func TestDockerDefaultCaptured(t *testing.T) {
	runc := mustScore(t, fixtureStack(t, "docker-default.runc.bpf"))
	crun := mustScore(t, fixtureStack(t, "docker-default.crun.bpf"))
	for name, r := range map[string]*Report{"runc": runc, "crun": crun} {
		if !r.ForcedFail || r.Grade != "F" || !slices.Equal(r.Forcing, []string{"ptrace"}) {
			t.Errorf("%s: forced %v grade %s forcing %v, want F forced by ptrace alone", name, r.ForcedFail, r.Grade, r.Forcing)
		}
		if r.Score != DefaultRules().cap() || r.RawScore <= r.Score {
			t.Errorf("%s: score %v raw %v: want the cap below the raw score", name, r.Score, r.RawScore)
		}
		if usePermitted(t, r, "clone", "namespace creation") {
			t.Errorf("%s: clone without namespace flags counted as namespace creation", name)
		}
		if f := findingsOf(r, KindForcedTier); len(f) != 1 || !f[0].Confirmed || f[0].Input.Syscall != "ptrace" {
			t.Errorf("%s: forced-tier findings %+v", name, f)
		}
		// Docker 20.10 predates the AF_VSOCK rule: AF_VSOCK is allowed
		// outright, nothing to truncate.
		if f := findingsOf(r, KindTruncatedCompare); len(f) != 0 {
			t.Errorf("%s: unexpected truncation findings %+v", name, f)
		}
		if !usePermitted(t, r, "socket", "AF_VSOCK") {
			t.Errorf("%s: Docker 20.10 allows AF_VSOCK sockets", name)
		}
		if f := findingsOf(r, KindPermissiveDefault); len(f) != 0 {
			t.Errorf("%s: an allow list reported as permissive: %+v", name, f)
		}
	}
	if runc.RawScore != crun.RawScore {
		t.Errorf("runc %v and crun %v filters of one profile score differently", runc.RawScore, crun.RawScore)
	}
}

// Docker's current default (moby/profiles v0.2.3) denies socket(AF_VSOCK)
// with a 64-bit compare: the finding names socket(AF_VSOCK|1<<32, ...) and
// the concrete interpreter confirms it. socketcall on i386 is the other
// way around the rule.
func TestMobyDefaultTruncation(t *testing.T) {
	for _, fx := range []string{"moby-default-v0.2.3.runc.bpf", "moby-default-v0.2.3.crun.bpf"} {
		r := mustScore(t, fixtureStack(t, fx))
		var vsock *Finding
		for _, f := range findingsOf(r, KindTruncatedCompare) {
			if f.Arch == "x86_64" && f.Input.Data().Args[0] == 1<<32|40 {
				vsock = &f
			}
		}
		if vsock == nil {
			t.Fatalf("%s: no truncation finding for socket(AF_VSOCK|1<<32): %+v", fx, r.Findings)
		}
		if !vsock.Confirmed || vsock.Denied.Data().Args[0] != 40 || vsock.Input.Nr != 41 ||
			vsock.Input.Call != "socket(AF_VSOCK|1<<32, 0x1)" || vsock.Input.Args[0] != "0x100000028" {
			t.Errorf("%s: finding %+v input %+v denied %+v", fx, vsock, vsock.Input, vsock.Denied)
		}
		// The use counts as permitted through the bypass.
		if !usePermitted(t, r, "socket", "AF_VSOCK") {
			t.Errorf("%s: AF_VSOCK use not permitted although the bypass exists", fx)
		}
		// x32 compares only the low word: no finding there.
		for _, f := range findingsOf(r, KindTruncatedCompare) {
			if f.Arch != "x86_64" {
				t.Errorf("%s: truncation finding on %s: %+v", fx, f.Arch, f)
			}
		}
		lm := findingsOf(r, KindLegacyMultiplexer)
		if len(lm) != 1 || lm[0].Arch != "x86" || lm[0].Syscalls[0] != "socketcall" || !slices.Contains(lm[0].Syscalls, "socket") {
			t.Errorf("%s: legacy multiplexer findings %+v", fx, lm)
		}
		alt := findingsOf(r, KindAlternativeOpen)
		if len(alt) != 1 || alt[0].Syscalls[0] != "clone3" || alt[0].Severity != SevInfo {
			t.Errorf("%s: clone3 ENOSYS should be the only (info) alternative finding: %+v", fx, alt)
		}
	}
}

// podman 4.3.1's default: allows mount, unshare, clone3 and more (it relies
// on capabilities), so it scores lower than Docker's; its NETLINK_AUDIT
// rule compares 64 bits too.
func TestPodmanDefaultCaptured(t *testing.T) {
	docker := mustScore(t, fixtureStack(t, "docker-default.runc.bpf"))
	for _, fx := range []string{"podman-default.runc.bpf", "podman-default.crun.bpf"} {
		r := mustScore(t, fixtureStack(t, fx))
		if r.Grade != "F" || r.RawScore >= docker.RawScore {
			t.Errorf("%s: grade %s raw %v, want F and below Docker's %v", fx, r.Grade, r.RawScore, docker.RawScore)
		}
		if !usePermitted(t, r, "clone", "namespace creation") {
			t.Errorf("%s: clone3 and unshare are allowed, namespace creation through clone too", fx)
		}
		found := false
		for _, f := range findingsOf(r, KindTruncatedCompare) {
			d := f.Input.Data()
			if f.Confirmed && d.Args[0]&0xffffffff == 16 && d.Args[2]&0xffffffff == 9 {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no confirmed NETLINK_AUDIT truncation finding: %+v", fx, r.Findings)
		}
	}
}

// An allow-by-default deny list: permissive default, every syscall newer
// than the list allowed (io_uring included), ptrace denied but
// process_vm_* open.
func TestDenylist(t *testing.T) {
	r := mustScore(t, fixtureStack(t, "denylist.runc.bpf"))
	docker := mustScore(t, fixtureStack(t, "docker-default.runc.bpf"))
	if r.RawScore >= docker.RawScore || r.Grade != "F" {
		t.Errorf("denylist raw %v grade %s, want below Docker's %v", r.RawScore, r.Grade, docker.RawScore)
	}
	if slices.Contains(r.Forcing, "ptrace") || !slices.Contains(r.Forcing, "process_vm_readv") {
		t.Errorf("forcing %v: ptrace is denied, process_vm_readv is not", r.Forcing)
	}
	pd := findingsOf(r, KindPermissiveDefault)
	if len(pd) == 0 || !strings.Contains(pd[0].Message, "allow by default") {
		t.Errorf("permissive default: %+v", pd)
	}
	var newer *Finding
	for _, f := range findingsOf(r, KindNewerThanProfile) {
		if f.Arch == "x86_64" {
			newer = &f
		}
	}
	if newer == nil || !slices.Contains(newer.Syscalls, "io_uring_setup") || slices.Contains(newer.Syscalls, "bpf") ||
		newer.Severity != SevHigh || !newer.Confirmed {
		t.Errorf("newer than profile: %+v", newer)
	}
	alt := findingsOf(r, KindAlternativeOpen)
	if !slices.ContainsFunc(alt, func(f Finding) bool {
		return f.Syscalls[0] == "ptrace" && slices.Contains(f.Syscalls, "process_vm_writev")
	}) {
		t.Errorf("alternatives: %+v", alt)
	}
}

// An audit profile (default LOG) denies nothing: every tier-1 syscall
// counts and the finding says audit mode.
func TestLogProfile(t *testing.T) {
	r := mustScore(t, fixtureStack(t, "log.runc.bpf"))
	for _, n := range []string{"bpf", "kexec_load", "init_module", "ptrace"} {
		if !slices.Contains(r.Forcing, n) {
			t.Errorf("LOG default: %s not forcing the failing grade (%v)", n, r.Forcing)
		}
	}
	pd := findingsOf(r, KindPermissiveDefault)
	if len(pd) == 0 || !strings.Contains(pd[0].Message, "LOG") {
		t.Errorf("permissive default: %+v", pd)
	}
	if deny := mustScore(t, fixtureStack(t, "denylist.runc.bpf")); r.RawScore >= deny.RawScore {
		t.Errorf("LOG default raw %v not below the deny list's %v", r.RawScore, deny.RawScore)
	}
}

// The i386-only profile: libseccomp still adds x86_64; x32 numbers are
// killed. Nothing is reported missing an arch check.
func TestI386Profile(t *testing.T) {
	r := mustScore(t, fixtureStack(t, "i386.runc.bpf"))
	if f := findingsOf(r, KindMissingArchCheck); len(f) != 0 {
		t.Errorf("missing arch check on a filter that checks: %+v", f)
	}
}

// A filter without an arch check: ptrace (x86_64 number 101) denied by
// number for every ABI; i386's 101 is ioperm, and x86_64's ptrace number on
// i386 is something else entirely.
func TestMissingArchCheck(t *testing.T) {
	prog := []bpf.Instruction{
		{Op: 0x20, K: 0},                 // ld nr
		{Op: 0x15, Jt: 0, Jf: 1, K: 101}, // jeq 101
		{Op: 0x06, K: 0x00050001},        // ERRNO(1)
		{Op: 0x06, K: uint32(bytecode.ActAllow)},
	}
	f, err := bytecode.NewFilter(prog)
	if err != nil {
		t.Fatal(err)
	}
	r := mustScore(t, bytecode.Stack{f})
	got := findingsOf(r, KindMissingArchCheck)
	if len(got) != 2 { // x86_64 and x86 (x32 shares x86_64's check)
		t.Fatalf("missing arch check findings: %+v", got)
	}
	// i386's ptrace (26) is open while x86_64's is denied.
	open := findingsOf(r, KindABIOpen)
	if !slices.ContainsFunc(open, func(f Finding) bool { return f.Arch == "x86" && slices.Contains(f.Syscalls, "ptrace") && f.Confirmed }) {
		t.Errorf("abi-open findings: %+v", open)
	}
}

// x32 left open: the filter denies ptrace on x86_64 numbers only and allows
// x32 numbers (bit 30).
func TestX32Open(t *testing.T) {
	prog := []bpf.Instruction{
		{Op: 0x20, K: 4}, // ld arch
		{Op: 0x15, Jt: 1, Jf: 0, K: arch.X86_64.Audit}, // jeq x86_64
		{Op: 0x06, K: 0},                 // KILL_THREAD
		{Op: 0x20, K: 0},                 // ld nr
		{Op: 0x15, Jt: 0, Jf: 1, K: 101}, // jeq ptrace
		{Op: 0x06, K: 0x00050001},        // ERRNO(1)
		{Op: 0x06, K: uint32(bytecode.ActAllow)},
	}
	f, err := bytecode.NewFilter(prog)
	if err != nil {
		t.Fatal(err)
	}
	r := mustScore(t, bytecode.Stack{f})
	open := findingsOf(r, KindABIOpen)
	if len(open) != 1 || open[0].Arch != "x32" || !open[0].Confirmed || open[0].Input.Nr != 0x40000000|521 ||
		open[0].Severity != SevCritical && open[0].Severity != SevHigh {
		t.Fatalf("x32 findings: %+v", open)
	}
	if !slices.Contains(r.Forcing, "ptrace") {
		t.Errorf("ptrace open on x32 must force the failing grade: %v", r.Forcing)
	}
}

// io_uring allowed while file and network syscalls are filtered.
func TestIOUringMultiplexing(t *testing.T) {
	prog := []bpf.Instruction{
		{Op: 0x20, K: 4},
		{Op: 0x15, Jt: 1, Jf: 0, K: arch.X86_64.Audit},
		{Op: 0x06, K: 0},
		{Op: 0x20, K: 0},
		{Op: 0x15, Jt: 1, Jf: 0, K: 257}, // openat
		{Op: 0x15, Jt: 0, Jf: 1, K: 42},  // connect
		{Op: 0x06, K: 0x00050001},
		{Op: 0x06, K: uint32(bytecode.ActAllow)},
	}
	f, err := bytecode.NewFilter(prog)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ComputeStack(bytecode.Stack{f}, Options{Arches: []*arch.Arch{arch.X86_64}})
	if err != nil {
		t.Fatal(err)
	}
	io := findingsOf(r, KindIOUring)
	if len(io) != 1 || !slices.Equal(io[0].Syscalls, []string{"connect", "openat"}) || !io[0].Confirmed {
		t.Fatalf("io_uring findings: %+v", io)
	}
	// openat denied, openat2 open: the in-memory-arguments finding.
	ma := findingsOf(r, KindMemoryArguments)
	if len(ma) != 1 || ma[0].Syscalls[0] != "openat2" {
		t.Errorf("memory-arguments findings: %+v", ma)
	}
}

// Rules files change the score entry by entry.
func TestRulesOverrideScore(t *testing.T) {
	stack := fixtureStack(t, "docker-default.runc.bpf")
	base := mustScore(t, stack)
	user, err := ParseRules([]byte("syscalls:\n  ptrace: {tier: 3}\n"), "user.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ComputeStack(stack, Options{Rules: DefaultRules().Merge(user)})
	if err != nil {
		t.Fatal(err)
	}
	if r.ForcedFail || r.Score <= base.Score || r.Grade == "F" {
		t.Errorf("ptrace demoted to tier 3: forced %v score %v grade %s (default %v)", r.ForcedFail, r.Score, r.Grade, base.Score)
	}
}

// The knowledge base describes every x86_64 syscall Docker's defaults
// (20.10 and moby/profiles v0.2.3) deny for some argument values.
func TestKnowledgeCoversDockerDenied(t *testing.T) {
	for _, fx := range []string{"docker-default.runc.bpf", "moby-default-v0.2.3.runc.bpf", "moby-default-v0.2.3.crun.bpf"} {
		tab, err := bytecode.AnalyzeStack(fixtureStack(t, fx))
		if err != nil {
			t.Fatal(err)
		}
		sc := &scorer{t: tab}
		sc.o = (&Options{}).defaults()
		sc.r, sc.kb = sc.o.Rules, sc.o.Knowledge
		var missing []string
		for _, s := range arch.X86_64.Syscalls() {
			if sc.denialOf(arch.X86_64, s.Name) != notDenied && !sc.kb.Has(s.Name) {
				missing = append(missing, s.Name)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s denies syscalls the knowledge base does not describe: %v", fx, missing)
		}
	}
}

// A stack scores as the kernel runs it: moby's default plus a filter that
// denies only an unused number scores like moby's default alone, and the
// findings are confirmed on the whole stack.
func TestStackedFilters(t *testing.T) {
	one := mustScore(t, fixtureStack(t, "stacked.0.bpf"))
	both := mustScore(t, fixtureStack(t, "stacked.0.bpf", "stacked.1.bpf"))
	if one.RawScore != both.RawScore || one.Grade != both.Grade || len(one.Findings) != len(both.Findings) {
		t.Errorf("stack %v/%s/%d findings, oldest filter alone %v/%s/%d", both.RawScore, both.Grade, len(both.Findings),
			one.RawScore, one.Grade, len(one.Findings))
	}
	for _, f := range findingsOf(both, KindTruncatedCompare) {
		if !f.Confirmed {
			t.Errorf("unconfirmed on the stack: %+v", f)
		}
	}
}
