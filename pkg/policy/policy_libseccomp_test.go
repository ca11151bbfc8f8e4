//go:build libseccomp

package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

const fixtures = "../bytecode/testdata/fixtures"

func fixture(t *testing.T, name string) bytecode.Stack {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := bytecode.ParseFilter(raw)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return bytecode.Stack{f}
}

func allowAll(t *testing.T) bytecode.Stack {
	t.Helper()
	f, err := bytecode.NewFilter([]bytecode.Instruction{{Op: bytecode.ClassRET | bytecode.RetK, K: uint32(bytecode.ActAllow)}})
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

// The captured filters of older engines are weaker than both current
// defaults (the pinned builtins), and the default policy says so rather
// than being weakened to let them through: Docker 20.10's embedded profile
// still allowed io_uring_setup/enter/register, which the pinned moby
// default (profiles v0.2.3) and containers-common's default deny; podman
// 4.3.1's profile allowed the legacy i386 sigaction, sigsuspend, sigpending
// and readdir, which neither current default allows on x86.
func TestDefaultFailsOlderCapturedDefaults(t *testing.T) {
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
			v := evaluate(t, Default(), Input{Effective: eff})
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
	intended := compileProfile(t, filepath.Join(fixtures, "moby-default-v0.2.3.profile.json"))
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
