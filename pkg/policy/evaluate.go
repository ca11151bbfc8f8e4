package policy

import (
	"context"
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
	"github.com/seccomp-attest/seccomp-attest/pkg/score"
	"github.com/seccomp-attest/seccomp-attest/pkg/source"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// Input is what Evaluate judges.
type Input struct {
	// Effective is the filter stack the kernel enforces.
	Effective bytecode.Stack
	// Unconfined says the process has no seccomp filter at all (an empty
	// Effective means the same).
	Unconfined bool
	// Intended is the stack the container's own profile compiles to; nil
	// when unknown.
	Intended bytecode.Stack
	// ContainerName and Annotations select exceptions.
	ContainerName string
	Annotations   map[string]string
	// Runtime compiles profile baselines and the denySyscalls reference:
	// runc (default) or crun.
	Runtime string
	// Capabilities is the container's bounding set, for which builtin
	// baselines are resolved as their engine would (Docker's default with
	// CAP_SYS_ADMIN allows mount); nil means each engine's default set.
	Capabilities []string
}

// Verdict is the outcome of Evaluate.
type Verdict struct {
	// Result is "pass" or "fail".
	Result string `json:"result"`
	Mode   string `json:"mode"`
	// Reasons say why the verdict is not a clean pass: each names the
	// rule, architecture, syscall and a confirmed example input. In audit
	// mode, or with an exception, they are present on a pass.
	Reasons []string `json:"reasons"`
	// Findings are the weaker (and undecided) findings behind the reasons.
	Findings []compare.Finding `json:"-"`
	// Exception is the reason of the exception that turned a fail into a
	// pass.
	Exception string `json:"exception,omitempty"`
	// Notes are rules that were not evaluated and why.
	Notes []string `json:"notes,omitempty"`
}

// Verdict results.
const (
	Pass = "pass"
	Fail = "fail"
)

// Evaluate judges in against the policy.
func (p *Policy) Evaluate(in Input) (*Verdict, error) {
	return p.EvaluateContext(context.Background(), in)
}

// EvaluateContext is Evaluate whose analyses stop when ctx is done; what
// they could not decide by then fails closed, as any analysis past its
// budget does.
func (p *Policy) EvaluateContext(ctx context.Context, in Input) (*Verdict, error) {
	runtime := in.Runtime
	if runtime == "" {
		runtime = spec.RuntimeRunc
	}
	v := &Verdict{Mode: p.Mode, Reasons: []string{}}
	failed := false
	fail := func(reason string, fs ...compare.Finding) {
		failed = true
		v.Reasons = append(v.Reasons, reason)
		v.Findings = append(v.Findings, fs...)
	}

	if in.Unconfined || len(in.Effective) == 0 {
		if p.AllowUnconfined {
			v.Notes = append(v.Notes, "allowUnconfined: the process has no seccomp filter; no other rule applies")
		} else {
			fail("allowUnconfined: the process has no seccomp filter (every syscall is allowed on every architecture)")
		}
		return p.finish(v, failed, in), nil
	}

	// A filter the analysis cannot run within its budget cannot be shown
	// to be as strong as anything: fail closed, once, with the reason.
	if _, err := bytecode.PathsContext(ctx, in.Effective); err != nil {
		fail(fmt.Sprintf("effective filter: the analysis could not decide what it allows (%v): counted as weaker (fail closed)", err))
		return p.finish(v, failed, in), nil
	}

	if p.MinScore != nil {
		checkMinScore(ctx, *p.MinScore, in.Effective, fail, &v.Notes)
	}

	if len(p.Baselines) > 0 {
		if err := p.checkBaselines(ctx, in.Effective, runtime, in.Capabilities, fail, &v.Notes); err != nil {
			return nil, err
		}
	}

	if *p.NotWeakerThanIntended {
		if in.Intended == nil {
			v.Notes = append(v.Notes, "notWeakerThanIntended: not evaluated: the intended profile is unknown")
		} else if len(in.Intended) > 0 {
			// An intended "no seccomp" allows everything: nothing can be
			// weaker than it.
			checkAgainst(ctx, "notWeakerThanIntended", "the intended profile", in.Intended, in.Effective, fail)
		}
	}

	if len(p.DenySyscalls) > 0 {
		ref, err := spec.Compile(denyProfile(p.DenySyscalls), runtime)
		if err != nil {
			return nil, fmt.Errorf("policy %s: denySyscalls: compiling the reference filter: %w", p.source, err)
		}
		checkAgainst(ctx, "denySyscalls", "the deny list", ref, in.Effective, fail)
	}
	return p.finish(v, failed, in), nil
}

// checkMinScore fails an effective filter whose score (package score,
// embedded rules) is below min; a filter that cannot be scored fails
// (fail closed).
func checkMinScore(ctx context.Context, min float64, effective bytecode.Stack, fail func(string, ...compare.Finding), notes *[]string) {
	rep, err := score.ComputeStackContext(ctx, effective, score.Options{})
	if err != nil {
		fail(fmt.Sprintf("minScore: the filter could not be scored (%v): counted as below %g (fail closed)", err, min))
		return
	}
	if rep.Score >= min {
		*notes = append(*notes, fmt.Sprintf("minScore: score %.1f (grade %s), at least %g", rep.Score, rep.Grade, min))
		return
	}
	why := ""
	if rep.ForcedFail {
		why = fmt.Sprintf("; failing grade forced by %s (%.1f before the cap)", strings.Join(rep.Forcing, ", "), rep.RawScore)
	}
	fail(fmt.Sprintf("minScore: score %.1f (grade %s) is below %g%s", rep.Score, rep.Grade, min, why))
}

// finish applies mode and exceptions.
func (p *Policy) finish(v *Verdict, failed bool, in Input) *Verdict {
	v.Result = Pass
	if !failed || p.Mode == ModeAudit {
		return v
	}
	for _, e := range p.Exceptions {
		if e.matches(in.ContainerName, in.Annotations) {
			v.Exception = e.Reason
			return v
		}
	}
	v.Result = Fail
	return v
}

// denyProfile is the reference for denySyscalls: everything allowed except
// the names, on the three x86 ABIs a x86_64 kernel runs.
func denyProfile(names []string) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX32, specs.ArchX86},
		Syscalls:      []specs.LinuxSyscall{{Names: names, Action: specs.ActErrno}},
	}
}

// checkAgainst fails every place where effective is weaker than ref, and
// every place the analysis could not decide (fail closed).
func checkAgainst(ctx context.Context, rule, what string, ref, effective bytecode.Stack, fail func(string, ...compare.Finding)) {
	res, err := compare.StacksContext(ctx, ref, effective)
	if err != nil {
		fail(fmt.Sprintf("%s: the analysis could not decide (%v): counted as weaker (fail closed)", rule, err))
		return
	}
	for _, f := range res.Findings {
		switch f.Kind {
		case compare.Weaker:
			fail(fmt.Sprintf("%s: %s %s: effective %s where %s has %s; e.g. %s", rule, f.Arch, f.Label(), f.B, what, f.A, Describe(&f)), f)
		case compare.Undecided:
			fail(fmt.Sprintf("%s: %s %s: undecided (the analysis could not model it exactly): counted as weaker (fail closed); e.g. %s", rule, f.Arch, f.Label(), Describe(&f)), f)
		}
	}
}

// checkBaselines fails where the effective filter is weaker than every
// baseline at the same input. For each syscall region where the effective
// filter is weaker than (or undecided against) every baseline, it solves the
// conjunction of the findings' argument conditions; an input counts only when
// the concrete interpreter shows the effective filter permitting it and
// every baseline denying it. Regions without such an input are noted.
func (p *Policy) checkBaselines(ctx context.Context, effective bytecode.Stack, runtime string, caps []string, fail func(string, ...compare.Finding), notes *[]string) error {
	type base struct {
		src      string
		stack    bytecode.Stack
		findings []compare.Finding
	}
	bases := make([]base, 0, len(p.Baselines))
	for _, src := range p.Baselines {
		st, err := p.loadBaseline(src, runtime, caps)
		if err != nil {
			return err
		}
		if len(st) == 0 {
			// A baseline without seccomp allows everything: nothing is
			// weaker than every baseline.
			return nil
		}
		res, err := compare.StacksContext(ctx, st, effective)
		if err != nil {
			fail(fmt.Sprintf("baselines: %s: the analysis could not decide (%v): counted as weaker (fail closed)", src, err))
			return nil
		}
		b := base{src: src, stack: st}
		for _, f := range res.Findings {
			if f.Kind == compare.Weaker || f.Kind == compare.Undecided {
				b.findings = append(b.findings, f)
			}
		}
		if len(b.findings) == 0 {
			return nil // not weaker than this baseline anywhere
		}
		bases = append(bases, b)
	}

	overlaps := func(f, g *compare.Finding) bool {
		return f.Arch == g.Arch && f.First <= g.Last && g.First <= f.Last
	}
	// confirm runs one input on every filter.
	confirm := func(d *bytecode.Data) (effAct bytecode.Action, baseActs []string, ok bool) {
		effAct = effective.Run(d)
		if !effAct.Permits() {
			return effAct, nil, false
		}
		for _, b := range bases {
			a := b.stack.Run(d)
			if a.Permits() {
				return effAct, nil, false
			}
			baseActs = append(baseActs, fmt.Sprintf("%s: %s", b.src, a))
		}
		return effAct, baseActs, true
	}

	// The search pairs findings of every baseline and tries inputs on all
	// of them: bound it like the analyses it follows. What it cannot finish
	// fails closed.
	budget := bytecode.NewBudget(ctx, "baselines: search for an input weaker than every baseline", compare.Budget)
	for i := range bases[0].findings {
		f := &bases[0].findings[i]
		if err := budget.Spend(1 + len(bases)); err != nil {
			fail(fmt.Sprintf("baselines: %v: counted as weaker (fail closed)", err))
			return nil
		}
		// The overlapping findings of every other baseline: the regions
		// whose intersection with f's region is what fails.
		groups := [][]*compare.Finding{{f}}
		for _, b := range bases[1:] {
			var g []*compare.Finding
			if err := budget.Spend(len(b.findings)); err != nil {
				fail(fmt.Sprintf("baselines: %v: counted as weaker (fail closed)", err))
				return nil
			}
			for j := range b.findings {
				if overlaps(f, &b.findings[j]) {
					g = append(g, &b.findings[j])
				}
			}
			if len(g) == 0 {
				groups = nil
				break
			}
			groups = append(groups, g)
		}
		if groups == nil {
			continue
		}
		ex, acts, ok, err := commonInput(budget, groups, confirm)
		if err != nil {
			fail(fmt.Sprintf("baselines: %v: counted as weaker (fail closed)", err))
			return nil
		}
		if ok {
			fail(fmt.Sprintf("baselines: %s %s: effective %s where every baseline denies (%s); e.g. %s",
				ex.Arch, ex.Label(), ex.B, strings.Join(acts, ", "), Describe(&ex)), ex)
		} else if undecided(groups) {
			// No confirmed input, but the analysis could not model part of
			// the region exactly: what it cannot rule out counts as weaker.
			fail(fmt.Sprintf("baselines: %s %s: undecided (the analysis could not model it exactly) against every baseline: counted as weaker (fail closed); e.g. %s",
				f.Arch, f.Label(), Describe(f)), *f)
		} else {
			// Each baseline denies part of this syscall that the effective
			// filter permits, but under argument conditions no single input
			// was found to meet together (e.g. Docker denies socket(AF_VSOCK)
			// and podman socket(AF_NETLINK, *, NETLINK_AUDIT)): not a
			// failure, but said so.
			*notes = append(*notes, fmt.Sprintf("baselines: %s %s: weaker than each baseline under different argument conditions; no input weaker than all of them was found", f.Arch, f.Label()))
		}
	}
	return nil
}

// undecided reports whether any finding of the groups is undecided.
func undecided(groups [][]*compare.Finding) bool {
	for _, g := range groups {
		for _, f := range g {
			if f.Kind == compare.Undecided {
				return true
			}
		}
	}
	return false
}

// maxCombinations bounds the search for a common input over the product of
// overlapping findings.
const maxCombinations = 4096

// commonInput looks for an input in one finding of every group: it solves
// the conjunction of their conditions for argument values, with the syscall
// number in all their ranges, and confirms it concretely.
func commonInput(budget *bytecode.Budget, groups [][]*compare.Finding, confirm func(*bytecode.Data) (bytecode.Action, []string, bool)) (compare.Finding, []string, bool, error) {
	idx := make([]int, len(groups))
	for n := 0; n < maxCombinations; n++ {
		// Each try solves and runs every filter on up to two inputs per
		// finding.
		if err := budget.Spend(32 * len(groups)); err != nil {
			return compare.Finding{}, nil, false, err
		}
		pick := make([]*compare.Finding, len(groups))
		for k, g := range groups {
			pick[k] = g[idx[k]]
		}
		if ex, acts, ok := solve(pick, confirm); ok {
			return ex, acts, true, nil
		}
		// Next combination (odometer).
		k := 0
		for ; k < len(groups); k++ {
			idx[k]++
			if idx[k] < len(groups[k]) {
				break
			}
			idx[k] = 0
		}
		if k == len(groups) {
			break
		}
	}
	return compare.Finding{}, nil, false, nil
}

func solve(pick []*compare.Finding, confirm func(*bytecode.Data) (bytecode.Action, []string, bool)) (compare.Finding, []string, bool) {
	lo, hi := pick[0].First, pick[0].Last
	conds := make([]bytecode.Condition, 0, len(pick))
	for _, f := range pick {
		lo, hi = max(lo, f.First), min(hi, f.Last)
		conds = append(conds, f.When)
	}
	if lo > hi {
		return compare.Finding{}, nil, false
	}
	// Try each finding's own example first (already a witness of its
	// region), then a solution of all conditions together.
	for _, base := range pick {
		if base.Example == nil {
			continue
		}
		d := *base.Example
		if d.Nr < lo || d.Nr > hi {
			d.Nr = lo
		}
		tries := []bytecode.Data{d}
		if w := d; bytecode.Witness(&w, conds...) {
			tries = append(tries, w)
		}
		for _, t := range tries {
			if effAct, acts, ok := confirm(&t); ok {
				ex := *pick[0]
				ex.Example = &t
				ex.B = effAct
				ex.Confirmed = true
				return ex, acts, true
			}
		}
	}
	return compare.Finding{}, nil, false
}

// loadBaseline resolves a baseline source to the stack runtime would load,
// builtins for the capability set caps. Results are cached in the policy:
// compiling a profile with libseccomp costs milliseconds per container.
func (p *Policy) loadBaseline(src, runtime string, caps []string) (bytecode.Stack, error) {
	key := fmt.Sprintf("%s\x00%s\x00%t\x00%s", src, runtime, caps == nil, strings.Join(caps, ","))
	p.cacheMu.Lock()
	defer p.cacheMu.Unlock()
	if st, ok := p.baselineCache[key]; ok {
		return st, nil
	}
	st, err := p.resolveBaseline(src, runtime, caps)
	if err != nil {
		return nil, err
	}
	if p.baselineCache == nil {
		p.baselineCache = map[string]bytecode.Stack{}
	}
	p.baselineCache[key] = st
	return st, nil
}

// resolveBaseline resolves a baseline (package source, syntax
// source.Baseline) with relative paths read from the policy's directory.
// Only builtins follow the container's capabilities: a Docker or podman
// profile file is resolved for its engine's default set.
func (p *Policy) resolveBaseline(text, runtime string, caps []string) (bytecode.Stack, error) {
	src, err := source.Baseline.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("policy %s: baseline %w", p.source, err)
	}
	r := source.Resolver{Runtime: runtime, Dir: p.dir}
	if src.Kind == source.Builtin {
		r.Capabilities = caps
	}
	res, err := r.Resolve(src)
	if err != nil {
		return nil, fmt.Errorf("policy %s: baseline %w", p.source, err)
	}
	return res.Stack, nil
}

// Describe writes a finding's example input as a call with its
// architecture value and number, e.g. "arch 0xc000003e nr 101: ptrace(...)".
func Describe(f *compare.Finding) string {
	if f.Example == nil {
		return f.Call()
	}
	return fmt.Sprintf("arch %#08x nr %d: %s", f.Example.Arch, f.Example.Nr, f.Call())
}
