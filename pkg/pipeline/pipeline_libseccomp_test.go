//go:build libseccomp

package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/internal/testfixture"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest/schema"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
	"github.com/seccomp-attest/seccomp-attest/pkg/score"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// The filters here are real captures (runc 1.1.5 loading moby/profiles
// v0.2.3's default); only the ptrace read is left out, which the bats
// tests of the hook and the wrapper exercise on live containers.

func readFixture(t testing.TB, name string) *bytecode.Filter {
	t.Helper()
	raw := testfixture.Read(t, name)
	f, err := bytecode.ParseFilter(raw)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// process is a one-process, one-thread ProcessFilters per group of filters.
func process(pid int, groups ...[]*bytecode.Filter) *procfilters.ProcessFilters {
	pf := &procfilters.ProcessFilters{PID: pid}
	for i, fs := range groups {
		t := procfilters.ThreadFilters{TID: pid + i, Mode: procfilters.ModeFilter, Count: len(fs)}
		if len(fs) == 0 {
			t.Mode = procfilters.ModeDisabled
		}
		for j, f := range fs {
			t.Filters = append(t.Filters, procfilters.LoadedFilter{Index: j, Filter: f})
		}
		pf.Threads = append(pf.Threads, t)
	}
	return pf
}

// bundle writes a config.json with profile (a fixture's OCI profile, or
// none) and returns its directory.
func bundle(t testing.TB, profile string, annotations map[string]string) string {
	t.Helper()
	cfg := map[string]any{"ociVersion": "1.0.2", "process": map[string]any{"args": []string{"sh"}}, "linux": map[string]any{}}
	if profile != "" {
		raw := testfixture.Read(t, profile)
		cfg["linux"] = map[string]any{"seccomp": json.RawMessage(raw)}
	}
	if annotations != nil {
		cfg["annotations"] = annotations
	}
	data, _ := json.Marshal(cfg)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func newPipeline(t testing.TB, mode string) (*Pipeline, *config.Config) {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Key = filepath.Join(dir, "keys", attest.PrivateKeyFile)
	cfg.Store = filepath.Join(dir, "store")
	cfg.Mode = mode
	p, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p, cfg
}

func verifyFile(t *testing.T, cfg *config.Config, path string) *attest.Report {
	t.Helper()
	v, err := attest.LoadVerifier(filepath.Join(filepath.Dir(cfg.Key), attest.PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := attest.Verify(context.Background(), path, data, v, attest.VerifyOptions{Schema: schema.Validate})
	if !r.Valid() {
		t.Fatalf("%s does not verify: %v", path, r.Problems)
	}
	return r
}

func TestCapturedDockerDefaultPassesAndIsEquivalentToItsBundle(t *testing.T) {
	p, cfg := newPipeline(t, "")
	b := bundle(t, "moby-default-v0.2.3.profile.json", nil)
	c := Container{ID: "c1", Bundle: b, PID: 4242, Runtime: "runc"}
	o, err := p.AttestEffective(context.Background(), c, process(4242, []*bytecode.Filter{readFixture(t, "moby-default-v0.2.3.runc.bpf")}))
	if err != nil {
		t.Fatal(err)
	}
	if o.Refuse || o.Verdict.Result != attest.ResultPass {
		t.Fatalf("verdict %+v", o.Verdict)
	}
	var diff diffRecord
	if err := json.Unmarshal(o.Predicate.Diff, &diff); err != nil {
		t.Fatal(err)
	}
	if len(diff.Groups) != 1 || !diff.Groups[0].Equivalent {
		t.Fatalf("the capture must be equivalent to its own profile compiled like runc: %s", o.Predicate.Diff)
	}
	r := verifyFile(t, cfg, o.Attestation.StorePath)
	if got := r.Predicate(); got.Intended == nil || got.Policy == nil || got.Policy.Mode != "enforce" || got.Event != EventStart {
		t.Fatalf("predicate: %+v", got)
	}
	// intended.seccompDigest is that of the profile file's linux.seccomp
	// as seccomp-attest loads it: what a recording attestation names.
	prof, err := spec.Load(testfixture.Path(t, "moby-default-v0.2.3.profile.json"), spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := attest.SeccompDigest(prof.Seccomp); r.Predicate().Intended.SeccompDigest != want {
		t.Errorf("intended.seccompDigest %q, want %s", r.Predicate().Intended.SeccompDigest, want)
	}
	// The score is the one `seccomp-attest score` gives the same filter.
	want, err := score.ComputeStack(bytecode.Stack{readFixture(t, "moby-default-v0.2.3.runc.bpf")}, score.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Predicate().Score; got == nil || *got != want.Score {
		t.Fatalf("score %v, want %v", got, want.Score)
	}
	if _, err := os.Stat(filepath.Join(b, attest.BundleFile)); err != nil {
		t.Fatalf("no copy in the bundle: %v", err)
	}
}

func TestWeakerThanIntendedIsRefusedInEnforceAndRecordedInAudit(t *testing.T) {
	// The crun capture of Docker 20.10's default allows io_uring; the
	// intended moby v0.2.3 profile denies it: weaker than intended.
	for _, mode := range []string{"enforce", "audit"} {
		t.Run(mode, func(t *testing.T) {
			p, cfg := newPipeline(t, mode)
			b := bundle(t, "moby-default-v0.2.3.profile.json", nil)
			o, err := p.AttestEffective(context.Background(), Container{ID: "c2", Bundle: b, PID: 7, Runtime: "runc"},
				process(7, []*bytecode.Filter{readFixture(t, "docker-default.runc.bpf")}))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(o.Verdict.Reasons, "\n"), "notWeakerThanIntended") {
				t.Fatalf("reasons %q", o.Verdict.Reasons)
			}
			wantRefuse := mode == "enforce"
			if o.Refuse != wantRefuse || (o.Verdict.Result == attest.ResultPass) == wantRefuse {
				t.Fatalf("%s: refuse %v verdict %+v", mode, o.Refuse, o.Verdict)
			}
			verifyFile(t, cfg, o.Attestation.StorePath)
		})
	}
}

func TestUnconfinedBundleRefusedStatically(t *testing.T) {
	p, _ := newPipeline(t, "")
	o, err := p.CheckIntended(context.Background(), Container{ID: "c3", Bundle: bundle(t, "", nil), Runtime: "runc"})
	if err != nil {
		t.Fatal(err)
	}
	if !o.Refuse || !strings.Contains(o.Verdict.Reasons[0], "allowUnconfined") {
		t.Fatalf("outcome %+v", o)
	}
}

func TestCrunRawFilterAnnotationIsTheIntendedFilter(t *testing.T) {
	// crun loads run.oci.seccomp_bpf_data instead of linux.seccomp: a
	// one-instruction RET ALLOW makes the container unconfined in effect
	// while its config shows Docker's profile.
	allow := bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActAllow)}
	raw := bpf.Encode([]bpf.Instruction{allow})
	ann := map[string]string{"run.oci.seccomp_bpf_data": b64(raw)}
	p, _ := newPipeline(t, "")
	b := bundle(t, "moby-default-v0.2.3.profile.json", ann)
	o, err := p.CheckIntended(context.Background(), Container{ID: "c4", Bundle: b, Runtime: "crun"})
	if err != nil {
		t.Fatal(err)
	}
	if !o.Refuse {
		t.Fatalf("crun with an allow-all raw filter must be refused: %+v", o.Verdict)
	}
	// runc ignores the annotation: the same bundle passes.
	o, err = p.CheckIntended(context.Background(), Container{ID: "c4", Bundle: b, Runtime: "runc"})
	if err != nil || o.Refuse {
		t.Fatalf("runc: %v %+v", err, o)
	}
}

func TestThreadsWithDifferentFiltersAreJudgedApart(t *testing.T) {
	p, _ := newPipeline(t, "")
	docker := readFixture(t, "moby-default-v0.2.3.runc.bpf")
	o, err := p.AttestEffective(context.Background(), Container{ID: "c5", PID: 100},
		process(100, []*bytecode.Filter{docker}, nil))
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(o.Verdict.Reasons, "\n")
	if !o.Refuse || !strings.Contains(all, "threads 101: allowUnconfined") || !strings.Contains(all, "2 groups of threads") {
		t.Fatalf("reasons %q", o.Verdict.Reasons)
	}
	if n := len(o.Predicate.Effective.Threads); n != 2 {
		t.Fatalf("%d thread groups recorded", n)
	}
}

func TestVerdictCacheIsKeyedByEffectiveFilters(t *testing.T) {
	p, cfg := newPipeline(t, "")
	b := bundle(t, "moby-default-v0.2.3.profile.json", nil)
	ctx := context.Background()
	good := process(9, []*bytecode.Filter{readFixture(t, "moby-default-v0.2.3.runc.bpf")})
	weak := process(9, []*bytecode.Filter{readFixture(t, "docker-default.runc.bpf")})
	for i, want := range []string{attest.ResultPass, attest.ResultPass, attest.ResultFail, attest.ResultPass} {
		pf := good
		if want == attest.ResultFail {
			pf = weak
		}
		o, err := p.AttestEffective(ctx, Container{ID: "c6", Bundle: b, PID: 9, Runtime: "runc"}, pf)
		if err != nil {
			t.Fatal(err)
		}
		if o.Verdict.Result != want {
			t.Fatalf("run %d: verdict %s, want %s", i, o.Verdict.Result, want)
		}
	}
	entries, _ := filepath.Glob(filepath.Join(cfg.Store, "cache", "*.json"))
	if len(entries) != 2 {
		t.Fatalf("%d cache entries, want 2 (one per distinct effective filter)", len(entries))
	}
}

func TestRecordStopKeepsTheBundleCopy(t *testing.T) {
	p, cfg := newPipeline(t, "")
	b := bundle(t, "moby-default-v0.2.3.profile.json", nil)
	ctx := context.Background()
	start, err := p.AttestEffective(ctx, Container{ID: "c7", Bundle: b, PID: 11, Runtime: "runc"},
		process(11, []*bytecode.Filter{readFixture(t, "moby-default-v0.2.3.runc.bpf")}))
	if err != nil {
		t.Fatal(err)
	}
	stop, err := p.RecordStop(ctx, Container{ID: "c7", Bundle: b})
	if err != nil {
		t.Fatal(err)
	}
	r := verifyFile(t, cfg, stop.Attestation.StorePath)
	if r.Predicate().Event != EventStop || r.Predicate().Chain.Sequence != 2 {
		t.Fatalf("stop record: %+v", r.Predicate())
	}
	copyInBundle, _ := os.ReadFile(filepath.Join(b, attest.BundleFile))
	if string(copyInBundle) != string(start.Attestation.Envelope) {
		t.Fatal("the stop record replaced the start attestation in the bundle")
	}
}

func TestMissingKeyIsGeneratedOnlyWhenAllowed(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Store = filepath.Join(dir, "store")
	cfg.Key = filepath.Join(dir, "k", attest.PrivateKeyFile)
	no := false
	cfg.GenerateKey = &no
	if _, err := New(cfg, Options{}); err == nil {
		t.Fatal("a missing key must be an error when generateKey is false")
	}
	yes := true
	cfg.GenerateKey = &yes
	if _, err := New(cfg, Options{}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(cfg.Key)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("generated key: %v %v", err, st)
	}
	if err := os.Chmod(cfg.Key, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, Options{}); err == nil || !strings.Contains(err.Error(), cfg.Key) {
		t.Fatalf("a world-readable key must be refused, naming it: %v", err)
	}
}

// Baselines are resolved for the container's own bounding set, as its
// engine would: Docker's default profile for a container with
// CAP_SYS_ADMIN allows sethostname, which no engine's default allows a container
// with the default capabilities.
func TestBaselinesFollowTheBundleCapabilities(t *testing.T) {
	p, _ := newPipeline(t, "")
	withAdmin := append(spec.DockerDefaultCapabilities(), "CAP_SYS_ADMIN")
	prof, err := spec.Builtin("docker-default", spec.Options{Capabilities: withAdmin})
	if err != nil {
		t.Fatal(err)
	}
	adminFilter, err := prof.Stack(spec.RuntimeRunc)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		caps []string
		pass bool
	}{
		{withAdmin, true},
		{spec.DockerDefaultCapabilities(), false},
	} {
		b := t.TempDir()
		cfg := map[string]any{"ociVersion": "1.0.2", "process": map[string]any{"args": []string{"sh"},
			"capabilities": map[string]any{"bounding": tc.caps}}, "linux": map[string]any{"seccomp": prof.Seccomp}}
		data, _ := json.Marshal(cfg)
		if err := os.WriteFile(filepath.Join(b, "config.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		o, err := p.AttestEffective(context.Background(), Container{ID: "caps", Bundle: b, PID: 5, Runtime: "runc"}, process(5, adminFilter))
		if err != nil {
			t.Fatal(err)
		}
		if pass := o.Verdict.Result == attest.ResultPass; pass != tc.pass {
			t.Fatalf("caps %v: verdict %+v", tc.caps, o.Verdict)
		}
		if !tc.pass && !strings.Contains(strings.Join(o.Verdict.Reasons, "\n"), "sethostname") {
			t.Fatalf("reasons do not name sethostname: %q", o.Verdict.Reasons)
		}
	}
}

// A container whose profile asks for a filter but that runs without one is
// diffed like any other: every call the profile denies is a weaker
// finding with an input.
func TestUnconfinedWhereTheProfileAsksForAFilterIsDiffed(t *testing.T) {
	p, _ := newPipeline(t, "audit")
	b := bundle(t, "moby-default-v0.2.3.profile.json", nil)
	o, err := p.AttestEffective(context.Background(), Container{ID: "c8", Bundle: b, PID: 13, Runtime: "runc"}, process(13, nil))
	if err != nil {
		t.Fatal(err)
	}
	var diff diffRecord
	if err := json.Unmarshal(o.Predicate.Diff, &diff); err != nil {
		t.Fatal(err)
	}
	if len(diff.Groups) != 1 || diff.Groups[0].Counts["weaker"] == 0 || diff.Groups[0].Equivalent {
		t.Fatalf("diff %s", o.Predicate.Diff)
	}
	for _, f := range diff.Groups[0].Findings {
		if f.Kind == "weaker" && (f.Example == nil || !f.Confirmed) {
			t.Fatalf("weaker finding without a confirmed input: %+v", f)
		}
	}
	if !strings.Contains(strings.Join(o.Verdict.Reasons, "\n"), "allowUnconfined") {
		t.Fatalf("reasons %q", o.Verdict.Reasons)
	}
}

// A cached verdict serves containers with other pids: what names threads
// (the diff's tids, the reasons of a process whose threads differ) is the
// container's own, not the one that filled the cache.
func TestCachedVerdictNamesTheContainersOwnThreads(t *testing.T) {
	p, _ := newPipeline(t, "")
	b := bundle(t, "moby-default-v0.2.3.profile.json", nil)
	docker := []*bytecode.Filter{readFixture(t, "moby-default-v0.2.3.runc.bpf")}
	for _, pid := range []int{100, 200} {
		o, err := p.AttestEffective(context.Background(), Container{ID: "c", Bundle: b, PID: pid, Runtime: "runc"},
			process(pid, docker, nil))
		if err != nil {
			t.Fatal(err)
		}
		var diff diffRecord
		if err := json.Unmarshal(o.Predicate.Diff, &diff); err != nil {
			t.Fatal(err)
		}
		if len(diff.Groups) != 2 || diff.Groups[0].TIDs[0] != pid || diff.Groups[1].TIDs[0] != pid+1 {
			t.Fatalf("pid %d: diff groups name threads %v and %v", pid, diff.Groups[0].TIDs, diff.Groups[len(diff.Groups)-1].TIDs)
		}
		want := fmt.Sprintf("threads %d: allowUnconfined", pid+1)
		if !strings.Contains(strings.Join(o.Verdict.Reasons, "\n"), want) {
			t.Fatalf("pid %d: reasons %q lack %q", pid, o.Verdict.Reasons, want)
		}
	}
}

// A check whose deadline passed answers with the deadline and leaves no
// cached verdict behind: the next container with the same filters is
// judged afresh, not by a verdict the deadline cut short.
func TestVerdictCutShortByTheDeadlineIsNotCached(t *testing.T) {
	p, cfg := newPipeline(t, "")
	pf := process(9, []*bytecode.Filter{readFixture(t, "moby-default-v0.2.3.runc.bpf")})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.AttestEffective(ctx, Container{ID: "c9", PID: 9, Runtime: "runc"}, pf); err == nil {
		t.Fatal("AttestEffective after its deadline answered without an error")
	}
	// The analysis goroutine stops at its first look at the context; give
	// it the time to return and (wrongly) cache.
	for range 50 {
		if entries, _ := filepath.Glob(filepath.Join(cfg.Store, "cache", "*.json")); len(entries) != 0 {
			t.Fatalf("a verdict cut short was cached: %v", entries)
		}
		time.Sleep(10 * time.Millisecond)
	}
	o, err := p.AttestEffective(context.Background(), Container{ID: "c9", PID: 9, Runtime: "runc"}, pf)
	if err != nil || o.Verdict.Result != attest.ResultPass {
		t.Fatalf("with time: %v %+v", err, o)
	}
}
