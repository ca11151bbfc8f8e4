//go:build libseccomp

package policy

import (
	"errors"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/internal/testfixture"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

func fixture(t *testing.T, name string) bytecode.Stack {
	t.Helper()
	f, err := bytecode.ParseFilter(testfixture.Read(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return bytecode.Stack{f}
}

func allowAll(t *testing.T) bytecode.Stack {
	t.Helper()
	f, err := bytecode.NewFilter([]bpf.Instruction{{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActAllow)}})
	if err != nil {
		t.Fatal(err)
	}
	return bytecode.Stack{f}
}

func compileProfile(t *testing.T, path string) bytecode.Stack {
	t.Helper()
	p, err := spec.Load(path, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Stack(spec.RuntimeRunc)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func evaluate(t *testing.T, p *Policy, in Input) *Verdict {
	t.Helper()
	v, err := p.Evaluate(in)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// hasConfirmedWeaker checks that a failing verdict is backed by a confirmed
// example on which the effective stack permits.
func hasConfirmedWeaker(t *testing.T, v *Verdict, eff bytecode.Stack) {
	t.Helper()
	if len(v.Findings) == 0 {
		t.Fatalf("no findings behind %v", v.Reasons)
	}
	for _, f := range v.Findings {
		if f.Example != nil && f.Confirmed && eff.Run(f.Example).Permits() {
			return
		}
	}
	t.Fatalf("no confirmed example the effective filter permits among %d findings", len(v.Findings))
}

func TestDefaultPassesCurrentDockerDefault(t *testing.T) {
	v := evaluate(t, Default(), Input{Effective: fixture(t, "moby-default-v0.2.3.runc.bpf")})
	if v.Result != Pass || len(v.Reasons) != 0 {
		t.Fatalf("result %s, reasons:\n%s", v.Result, strings.Join(v.Reasons, "\n"))
	}
}

// failingSyscalls lists "arch syscall" of the baseline reasons.
func failingSyscalls(v *Verdict) []string {
	var out []string
	for _, f := range v.Findings {
		out = append(out, f.Arch+" "+f.Label())
	}
	return out
}

// The filters captured from the engines Debian 12 ships (dockerd 20.10.24,
// podman 4.3.1; runc and crun) pass the embedded default policy: its
// baselines include those engines' own defaults.
func TestDefaultPassesEngineDefaults(t *testing.T) {
	for _, name := range []string{"docker-default.runc.bpf", "docker-default.crun.bpf",
		"podman-default.runc.bpf", "podman-default.crun.bpf",
		"moby-default-v0.2.3.runc.bpf", "moby-default-v0.2.3.crun.bpf"} {
		t.Run(name, func(t *testing.T) {
			rt := spec.RuntimeRunc
			if strings.Contains(name, ".crun.") {
				rt = spec.RuntimeCrun
			}
			v := evaluate(t, Default(), Input{Effective: fixture(t, name), Runtime: rt})
			if v.Result != Pass || len(v.Reasons) != 0 {
				t.Fatalf("result %s, reasons:\n%s", v.Result, strings.Join(v.Reasons, "\n"))
			}
		})
	}
}

// Without the engine-version baselines, the captured filters of the older
// engines are weaker than both current defaults, with confirmed inputs:
// Docker 20.10's embedded profile allowed io_uring_setup/enter/register,
// which moby/profiles v0.2.3 and containers/common v0.64.2 deny; podman
// 4.3.1's allowed the legacy i386 sigaction, sigsuspend, sigpending and
// readdir, which neither current default allows on x86.
func TestCurrentBaselinesFailOlderCapturedDefaults(t *testing.T) {
	current := mustParse(t, "baselines: [builtin:docker-default, builtin:podman-default]\n")
	for name, want := range map[string][]string{
		"docker-default.runc.bpf": {
			"x86_64 io_uring_setup", "x86_64 io_uring_enter", "x86_64 io_uring_register",
			"x32 io_uring_setup", "x32 io_uring_enter", "x32 io_uring_register",
			"x86 io_uring_setup", "x86 io_uring_enter", "x86 io_uring_register",
		},
		"podman-default.runc.bpf": {"x86 sigaction", "x86 sigsuspend", "x86 sigpending", "x86 readdir"},
	} {
		t.Run(name, func(t *testing.T) {
			eff := fixture(t, name)
			v := evaluate(t, current, Input{Effective: eff})
			if v.Result != Fail {
				t.Fatalf("result %s, want fail", v.Result)
			}
			if got := strings.Join(failingSyscalls(v), ","); got != strings.Join(want, ",") {
				t.Fatalf("failing syscalls\n got %s\nwant %s", got, strings.Join(want, ","))
			}
			hasConfirmedWeaker(t, v, eff)
			for _, r := range v.Reasons {
				if !strings.HasPrefix(r, "baselines: ") || !strings.Contains(r, "e.g. arch ") {
					t.Errorf("reason without rule or example: %s", r)
				}
			}
		})
	}
}

// What is clearly weaker still fails the default policy with all four
// baselines: a LOG default lets through what every engine denies.
func TestDefaultFailsLogDefault(t *testing.T) {
	eff := fixture(t, "log.runc.bpf")
	v := evaluate(t, Default(), Input{Effective: eff})
	if v.Result != Fail {
		t.Fatalf("result %s", v.Result)
	}
	hasConfirmedWeaker(t, v, eff)
	if !strings.Contains(strings.Join(v.Reasons, "\n"), "baselines: x86_64 kexec_load: effective LOG") {
		t.Errorf("no x86_64 kexec_load reason in:\n%s", strings.Join(v.Reasons, "\n"))
	}
}

func TestAllowAllFailsBaselines(t *testing.T) {
	eff := allowAll(t)
	v := evaluate(t, Default(), Input{Effective: eff})
	if v.Result != Fail {
		t.Fatalf("result %s", v.Result)
	}
	hasConfirmedWeaker(t, v, eff)
	if !strings.Contains(strings.Join(v.Reasons, "\n"), "baselines: x86_64 kexec_load: effective ALLOW") {
		t.Errorf("no x86_64 kexec_load reason in:\n%s", strings.Join(v.Reasons, "\n"))
	}
}

func TestUnconfined(t *testing.T) {
	v := evaluate(t, Default(), Input{Unconfined: true})
	if v.Result != Fail || !strings.HasPrefix(v.Reasons[0], "allowUnconfined:") {
		t.Fatalf("%+v", v)
	}
	p, err := Parse([]byte("allowUnconfined: true\n"), "t.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if v := evaluate(t, p, Input{}); v.Result != Pass {
		t.Fatalf("%+v", v)
	}
}

func TestStrictFailsDockerDefaultOnPtrace(t *testing.T) {
	strict, err := Preset("strict")
	if err != nil {
		t.Fatal(err)
	}
	eff := fixture(t, "moby-default-v0.2.3.runc.bpf")
	v := evaluate(t, strict, Input{Effective: eff})
	if v.Result != Fail {
		t.Fatalf("result %s", v.Result)
	}
	hasConfirmedWeaker(t, v, eff)
	found := false
	for _, f := range v.Findings {
		if f.Syscall == "ptrace" && f.Arch == "x86_64" {
			found = true
		}
		if f.Syscall != "ptrace" && f.Syscall != "process_vm_readv" && f.Syscall != "process_vm_writev" {
			t.Errorf("unexpected failing syscall %s %s", f.Arch, f.Label())
		}
	}
	if !found {
		t.Fatalf("ptrace not among %v", failingSyscalls(v))
	}
	// The denylist fixture denies every strict syscall except
	// process_vm_*: only those fail.
	v = evaluate(t, mustParse(t, "baselines: []\ndenySyscalls: [ptrace, bpf]\n"), Input{Effective: fixture(t, "denylist.runc.bpf")})
	if v.Result != Pass {
		t.Fatalf("denylist vs ptrace,bpf: %v", v.Reasons)
	}
}

func mustParse(t *testing.T, s string) *Policy {
	t.Helper()
	p, err := Parse([]byte(s), "test.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExceptions(t *testing.T) {
	p := mustParse(t, `exceptions:
  - name: ^legacy-
    reason: legacy app, ticket 12
  - annotation: seccomp-attest/waiver=granted
    reason: waiver granted
`)
	eff := allowAll(t)
	for _, tc := range []struct {
		in   Input
		want string
	}{
		{Input{Effective: eff, ContainerName: "legacy-db"}, "legacy app, ticket 12"},
		{Input{Effective: eff, ContainerName: "web", Annotations: map[string]string{"seccomp-attest/waiver": "granted"}}, "waiver granted"},
		{Input{Effective: eff, ContainerName: "web", Annotations: map[string]string{"seccomp-attest/waiver": "no"}}, ""},
		{Input{Effective: eff, ContainerName: "my-legacy-db"}, ""},
	} {
		v := evaluate(t, p, tc.in)
		if v.Exception != tc.want {
			t.Errorf("%s %v: exception %q, want %q", tc.in.ContainerName, tc.in.Annotations, v.Exception, tc.want)
		}
		wantResult := Fail
		if tc.want != "" {
			wantResult = Pass
		}
		if v.Result != wantResult || len(v.Reasons) == 0 {
			t.Errorf("%s: result %s with %d reasons", tc.in.ContainerName, v.Result, len(v.Reasons))
		}
	}
}

func TestAuditPassesWithReasons(t *testing.T) {
	v := evaluate(t, mustParse(t, "mode: audit\n"), Input{Effective: allowAll(t)})
	if v.Result != Pass || v.Mode != ModeAudit || len(v.Reasons) == 0 {
		t.Fatalf("%s %s %d reasons", v.Result, v.Mode, len(v.Reasons))
	}
}

func TestNotWeakerThanIntended(t *testing.T) {
	intended := compileProfile(t, testfixture.Path(t, "moby-default-v0.2.3.profile.json"))
	// No baselines, so only the intended profile can fail it.
	p := mustParse(t, "baselines: []\n")
	if v := evaluate(t, p, Input{Effective: fixture(t, "moby-default-v0.2.3.runc.bpf"), Intended: intended}); v.Result != Pass {
		t.Fatalf("captured vs its own profile: %v", v.Reasons)
	}
	for name, eff := range map[string]bytecode.Stack{
		"allow-all": allowAll(t),
		// log.profile.json is the same profile with defaultAction LOG:
		// everything the intended profile denies by default is let
		// through (and logged).
		"log": fixture(t, "log.runc.bpf"),
	} {
		v := evaluate(t, p, Input{Effective: eff, Intended: intended})
		if v.Result != Fail || !strings.HasPrefix(v.Reasons[0], "notWeakerThanIntended: ") {
			t.Fatalf("%s: %s %v", name, v.Result, v.Reasons)
		}
		hasConfirmedWeaker(t, v, eff)
	}
	off := mustParse(t, "baselines: []\nnotWeakerThanIntended: false\n")
	if v := evaluate(t, off, Input{Effective: allowAll(t), Intended: intended}); v.Result != Pass {
		t.Fatalf("rule off: %v", v.Reasons)
	}
}

// craftedTooComplex builds a 4096-instruction filter that branches on a
// different argument word at every step and joins again (changing A on
// one side), so that its paths double with every test: the analysis stops
// at its budget with bytecode.ErrTooComplex.
func craftedTooComplex(t *testing.T) bytecode.Stack {
	t.Helper()
	var prog []bpf.Instruction
	for len(prog) < bpf.MaxInstructions-2 {
		i := len(prog) / 4
		prog = append(prog,
			bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: uint32(bytecode.OffsetArgs + 4*(i%12))},
			bpf.Instruction{Op: bpf.Jump(bpf.JmpJSET, bpf.SrcK), Jt: 0, Jf: 1, K: 1 << (i % 32)},
			bpf.Instruction{Op: bpf.ALU(bpf.AluADD, bpf.SrcK), K: 1},
			bpf.Instruction{Op: bpf.Store, K: uint32(i % bpf.ScratchSlots)},
		)
	}
	prog = append(prog[:bpf.MaxInstructions-2],
		bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: bytecode.OffsetNr},
		bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActErrno) | 1})
	f, err := bytecode.NewFilter(prog)
	if err != nil {
		t.Fatal(err)
	}
	return bytecode.Stack{f}
}

// A filter the analysis cannot finish fails in enforce mode, with a reason
// that says why, and is listed (but passes) in audit mode. Concretely it
// denies everything: failing it is the price of not being able to show it.
func TestFailClosedTooComplex(t *testing.T) {
	eff := craftedTooComplex(t)
	if _, err := bytecode.Paths(eff); !errors.Is(err, bytecode.ErrTooComplex) {
		t.Fatalf("crafted filter: %v, want ErrTooComplex", err)
	}
	v := evaluate(t, Default(), Input{Effective: eff})
	if v.Result != Fail || len(v.Reasons) != 1 {
		t.Fatalf("result %s, reasons %v", v.Result, v.Reasons)
	}
	if r := v.Reasons[0]; !strings.Contains(r, "too complex") || !strings.Contains(r, "counted as weaker (fail closed)") {
		t.Errorf("reason does not say the analysis could not decide: %s", r)
	}
	if v := evaluate(t, mustParse(t, "mode: audit\n"), Input{Effective: eff}); v.Result != Pass || len(v.Reasons) != 1 {
		t.Errorf("audit: %s %v", v.Result, v.Reasons)
	}
}

// approximateKexec denies everything on x86_64 except kexec_load, which it
// allows when arg0 + 1 == 0: arithmetic on an argument that the decision
// table cannot express, so the analysis marks the path approximate.
func approximateKexec(t *testing.T) bytecode.Stack {
	t.Helper()
	ld := func(off uint32) bpf.Instruction {
		return bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: off}
	}
	jeq := func(k uint32, jt, jf uint8) bpf.Instruction {
		return bpf.Instruction{Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), K: k, Jt: jt, Jf: jf}
	}
	ret := func(a bytecode.Action) bpf.Instruction {
		return bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(a)}
	}
	f, err := bytecode.NewFilter([]bpf.Instruction{
		ld(bytecode.OffsetArch),
		jeq(0xc000003e, 1, 0),
		ret(bytecode.ActKillProcess),
		ld(bytecode.OffsetNr),
		jeq(246, 1, 0), // kexec_load
		ret(bytecode.ActErrno | 1),
		ld(bytecode.OffsetArgs),
		{Op: bpf.ALU(bpf.AluADD, bpf.SrcK), K: 1},
		jeq(0, 0, 1),
		ret(bytecode.ActAllow),
		ret(bytecode.ActErrno | 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	return bytecode.Stack{f}
}

// Undecided parts count as weaker in enforce mode for every rule: the
// baselines (where no single input is confirmed), the intended profile and
// the deny list.
func TestFailClosedApproximate(t *testing.T) {
	eff := approximateKexec(t)
	tab, err := bytecode.AnalyzeStack(eff)
	if err != nil || !tab.Approximate {
		t.Fatalf("table approximate=%v, err %v", tab != nil && tab.Approximate, err)
	}
	intended := compileProfile(t, testfixture.Path(t, "denylist.profile.json"))
	for _, tc := range []struct {
		policy string
		in     Input
		prefix string
	}{
		{"mode: enforce\n", Input{Effective: eff}, "baselines: x86_64 kexec_load: undecided"},
		{"baselines: []\n", Input{Effective: eff, Intended: intended}, "notWeakerThanIntended: x86_64 kexec_load: undecided"},
		{"baselines: []\ndenySyscalls: [kexec_load]\n", Input{Effective: eff}, "denySyscalls: x86_64 kexec_load: undecided"},
	} {
		v := evaluate(t, mustParse(t, tc.policy), tc.in)
		if v.Result != Fail {
			t.Errorf("%q: result %s, reasons %v", tc.policy, v.Result, v.Reasons)
			continue
		}
		found := false
		for _, r := range v.Reasons {
			if strings.HasPrefix(r, tc.prefix) && strings.Contains(r, "counted as weaker (fail closed)") {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: no reason %q...fail closed in:\n%s", tc.policy, tc.prefix, strings.Join(v.Reasons, "\n"))
		}
	}
}

// Builtin baselines are resolved for the container's capabilities, as its
// engine would: Docker 20.10's default with CAP_SYS_ADMIN allows bpf, which
// every baseline resolved for default capabilities denies.
func TestBaselinesFollowCapabilities(t *testing.T) {
	caps := append(spec.DockerDefaultCapabilities(), "CAP_SYS_ADMIN")
	prof, err := spec.Builtin("docker-20.10", spec.Options{Capabilities: caps})
	if err != nil {
		t.Fatal(err)
	}
	eff, err := prof.Stack(spec.RuntimeRunc)
	if err != nil {
		t.Fatal(err)
	}
	v := evaluate(t, Default(), Input{Effective: eff})
	if v.Result != Fail || !strings.Contains(strings.Join(failingSyscalls(v), ","), "x86_64 bpf") {
		t.Fatalf("default capabilities: %s %v", v.Result, failingSyscalls(v))
	}
	hasConfirmedWeaker(t, v, eff)
	if v := evaluate(t, Default(), Input{Effective: eff, Capabilities: caps}); v.Result != Pass {
		t.Fatalf("with CAP_SYS_ADMIN: %s %v", v.Result, v.Reasons)
	}
	// For the same capabilities, also fewer: Docker's default for its
	// default set allows chroot, which no engine allows a container
	// without CAP_SYS_CHROOT.
	moby := fixture(t, "moby-default-v0.2.3.runc.bpf")
	v = evaluate(t, Default(), Input{Effective: moby, Capabilities: []string{"CAP_KILL", "CAP_AUDIT_WRITE", "CAP_NET_BIND_SERVICE"}})
	if v.Result != Fail || !strings.Contains(strings.Join(failingSyscalls(v), ","), "x86_64 chroot") {
		t.Fatalf("without CAP_SYS_CHROOT: %s %v", v.Result, failingSyscalls(v))
	}
	hasConfirmedWeaker(t, v, moby)
}

// profileVariant loads a fixture profile, changes it, and compiles it as
// runc would.
func profileVariant(t *testing.T, name string, change func(*specs.LinuxSeccomp)) bytecode.Stack {
	t.Helper()
	p, err := spec.Load(testfixture.Path(t, name), spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	change(p.Seccomp)
	st, err := p.Stack(spec.RuntimeRunc)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Weaker variants of a container's intended profile, as an effective
// filter, fail notWeakerThanIntended on exactly the syscall changed, each
// with an input the concrete interpreter confirms (the effective filter
// permits it, the intended one denies it); a stacked filter that only
// tightens passes.
func TestWeakerVariants(t *testing.T) {
	moby := compileProfile(t, testfixture.Path(t, "moby-default-v0.2.3.profile.json"))
	denylist := compileProfile(t, testfixture.Path(t, "denylist.profile.json"))
	onlyIntended := mustParse(t, "baselines: []\n")
	for _, tc := range []struct {
		name      string
		intended  bytecode.Stack
		effective bytecode.Stack
		syscall   string // "" for a pass
		check     func(*bytecode.Data) bool
	}{
		{"removed deny", denylist, profileVariant(t, "denylist.profile.json", func(p *specs.LinuxSeccomp) {
			p.Syscalls[0].Names = slices.DeleteFunc(slices.Clone(p.Syscalls[0].Names), func(n string) bool { return n == "ptrace" })
		}), "ptrace", nil},
		{"widened argument mask", moby, profileVariant(t, "moby-default-v0.2.3.profile.json", func(p *specs.LinuxSeccomp) {
			for i, c := range p.Syscalls {
				if slices.Equal(c.Names, []string{"clone"}) {
					// 0x7e020000 without CLONE_NEWNS (0x00020000).
					p.Syscalls[i].Args[0].Value = 0x7e000000
				}
			}
		}), "clone", func(d *bytecode.Data) bool { return d.Args[0]&0x7e020000 == 0x00020000 }},
		{"added allow", moby, profileVariant(t, "moby-default-v0.2.3.profile.json", func(p *specs.LinuxSeccomp) {
			p.Syscalls = append(p.Syscalls, specs.LinuxSyscall{Names: []string{"kexec_load"}, Action: specs.ActAllow})
		}), "kexec_load", nil},
		{"LOG default", moby, fixture(t, "log.runc.bpf"), "kexec_load", nil},
		{"stacked filter that only tightens", moby, bytecode.Stack{fixture(t, "stacked.0.bpf")[0], fixture(t, "stacked.1.bpf")[0]}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := evaluate(t, onlyIntended, Input{Effective: tc.effective, Intended: tc.intended})
			if tc.syscall == "" {
				if v.Result != Pass || len(v.Reasons) != 0 {
					t.Fatalf("%s: %v", v.Result, v.Reasons)
				}
				return
			}
			if v.Result != Fail {
				t.Fatalf("result %s", v.Result)
			}
			found := false
			for _, f := range v.Findings {
				if f.Kind != compare.Weaker || !f.Confirmed || f.Example == nil {
					t.Errorf("unconfirmed or not weaker: %+v", f)
					continue
				}
				if !tc.effective.Run(f.Example).Permits() || tc.intended.Run(f.Example).Permits() {
					t.Errorf("%s %s: the example does not show it: %s", f.Arch, f.Label(), Describe(&f))
				}
				if f.Syscall == tc.syscall && f.Arch == "x86_64" {
					found = true
					if tc.check != nil && !tc.check(f.Example) {
						t.Errorf("example %s misses the change", Describe(&f))
					}
				}
				if tc.name != "LOG default" && f.Syscall != tc.syscall {
					t.Errorf("unexpected weaker syscall %s %s", f.Arch, f.Label())
				}
			}
			if !found {
				t.Fatalf("no x86_64 %s finding in %v", tc.syscall, failingSyscalls(v))
			}
			if !strings.HasPrefix(v.Reasons[0], "notWeakerThanIntended: ") {
				t.Errorf("reason %s", v.Reasons[0])
			}
		})
	}
}
