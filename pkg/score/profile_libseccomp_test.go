//go:build libseccomp

package score

import (
	"slices"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/testfixture"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

func kinds(r *Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Kind+" "+f.Arch)
	}
	slices.Sort(out)
	return out
}

// A profile, compiled the way runc compiles it, scores exactly like the
// filter runc loaded for it in a real container (the captured fixture).
func TestProfileScoresLikeItsCapturedFilter(t *testing.T) {
	for profile, captured := range map[string]string{
		"moby-default-v0.2.3.profile.json": "moby-default-v0.2.3.runc.bpf",
		"denylist.profile.json":            "denylist.runc.bpf",
		"log.profile.json":                 "log.runc.bpf",
		"kill-process.profile.json":        "kill-process.runc.bpf",
		"i386.profile.json":                "i386.runc.bpf",
	} {
		p, err := spec.Load(testfixture.Path(t, profile), spec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		stack, err := p.Stack(spec.RuntimeRunc)
		if err != nil {
			t.Fatal(err)
		}
		fromProfile := mustScore(t, stack)
		fromKernel := mustScore(t, fixtureStack(t, captured))
		if fromProfile.Score != fromKernel.Score || fromProfile.RawScore != fromKernel.RawScore ||
			fromProfile.Grade != fromKernel.Grade {
			t.Errorf("%s: profile %v/%v/%s, captured filter %v/%v/%s", profile,
				fromProfile.Score, fromProfile.RawScore, fromProfile.Grade, fromKernel.Score, fromKernel.RawScore, fromKernel.Grade)
		}
		if a, b := kinds(fromProfile), kinds(fromKernel); !slices.Equal(a, b) {
			t.Errorf("%s: findings differ:\nprofile  %v\ncaptured %v", profile, a, b)
		}
	}
}

// The built-in Docker default scores like the filters runc and crun loaded
// for it, and Docker 20.10's like dockerd's captured containers.
func TestBuiltinsScoreLikeCapturedFilters(t *testing.T) {
	for _, c := range []struct{ builtin, runtime, captured string }{
		{"docker-default", spec.RuntimeRunc, "moby-default-v0.2.3.runc.bpf"},
		{"docker-default", spec.RuntimeCrun, "moby-default-v0.2.3.crun.bpf"},
		{"docker-20.10", spec.RuntimeRunc, "docker-default.runc.bpf"},
		{"docker-20.10", spec.RuntimeCrun, "docker-default.crun.bpf"},
		{"podman-4.3", spec.RuntimeRunc, "podman-default.runc.bpf"},
		{"podman-4.3", spec.RuntimeCrun, "podman-default.crun.bpf"},
	} {
		p, err := spec.Builtin(c.builtin, spec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		stack, err := p.Stack(c.runtime)
		if err != nil {
			t.Fatal(err)
		}
		a, b := mustScore(t, stack), mustScore(t, fixtureStack(t, c.captured))
		if a.RawScore != b.RawScore || a.Grade != b.Grade || !slices.Equal(kinds(a), kinds(b)) {
			t.Errorf("%s under %s: %v %s %v; captured %s: %v %s %v", c.builtin, c.runtime, a.RawScore, a.Grade, kinds(a),
				c.captured, b.RawScore, b.Grade, kinds(b))
		}
	}
}

// Docker's default allows bpf only with CAP_BPF (or CAP_SYS_ADMIN): the
// same profile resolved with CAP_BPF gets bpf forcing the failing grade
// and a lower score; the delta against the default-capability baseline is
// negative (weaker).
func TestBPFOnlyWithCapBPF(t *testing.T) {
	score := func(caps string) *Report {
		set, err := spec.ParseCapabilities(caps)
		if err != nil {
			t.Fatal(err)
		}
		p, err := spec.Builtin("docker-default", spec.Options{Capabilities: set})
		if err != nil {
			t.Fatal(err)
		}
		stack, err := p.Stack(spec.RuntimeRunc)
		if err != nil {
			t.Fatal(err)
		}
		return mustScore(t, stack)
	}
	without, with := score("docker-default"), score("docker-default,BPF")
	if slices.Contains(without.Forcing, "bpf") || !slices.Contains(with.Forcing, "bpf") {
		t.Errorf("forcing without CAP_BPF %v, with %v", without.Forcing, with.Forcing)
	}
	if with.RawScore >= without.RawScore {
		t.Errorf("raw score with CAP_BPF %v not below without %v", with.RawScore, without.RawScore)
	}
	if ss := syscallScore(with, "bpf"); ss == nil || ss.Exposure != 1 || ss.Tier != 1 {
		t.Errorf("bpf with CAP_BPF: %+v", ss)
	}
	with.SetBaseline("builtin:docker-default", without)
	if with.Baseline.Delta >= 0 || with.Baseline.Delta != round1(with.RawScore-without.RawScore) {
		t.Errorf("delta %v: CAP_BPF must be weaker than the baseline", with.Baseline.Delta)
	}
}
