// Package score rates the decision table of a seccomp filter stack from 0
// (unconfined) to 100 and reports the bypasses it finds (findings.go). It
// works on bytecode.Table, so a live process, a raw filter and a profile
// compiled by a runtime are scored the same way.
//
// Each syscall the process can call (on every ABI it can use) costs the
// weight of its tier (rules.yaml, the knowledge base) times the share of
// its argument cases the filter lets through; dangerous uses (clone with
// namespace flags, socket(AF_VSOCK)...) are probed with concrete arguments
// and cost their own tier's weight. The score is 100 * (1 - cost/maximum).
// A permitted syscall of a forced tier (tier 1) gives the failing grade and
// caps the score.
package score

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/knowledge"
)

// Options control Compute. The zero value scores with the embedded rules
// and knowledge for the ABIs of the machine the program runs on.
type Options struct {
	Rules     *Rules
	Knowledge *knowledge.Base
	// Arches are the ABIs the process can issue syscalls on, native
	// first; nil means DefaultArches().
	Arches []*arch.Arch
	// Stack, when given, is the filter stack the table was computed from:
	// findings with an input are confirmed on it with the concrete
	// interpreter.
	Stack bytecode.Stack
}

// DefaultArches returns the ABIs a process on this machine can use: on
// x86_64 also x32 and i386, on aarch64 also arm.
func DefaultArches() []*arch.Arch {
	switch runtime.GOARCH {
	case "amd64":
		return []*arch.Arch{arch.X86_64, arch.X32, arch.X86}
	case "arm64":
		return []*arch.Arch{arch.AArch64, arch.ARM}
	}
	if a := arch.Native(); a != nil {
		return []*arch.Arch{a}
	}
	return []*arch.Arch{arch.X86_64, arch.X32, arch.X86}
}

// Report is the score of a filter stack.
type Report struct {
	// Score is 0-100, higher is stricter; capped when ForcedFail.
	Score float64 `json:"score"`
	// RawScore is the score before the cap of a forced failing grade.
	RawScore float64 `json:"rawScore"`
	Grade    string  `json:"grade"`
	// ForcedFail says a syscall of a forced tier is permitted; Forcing
	// names them.
	ForcedFail bool     `json:"forcedFail"`
	Forcing    []string `json:"forcing,omitempty"`
	Unconfined bool     `json:"unconfined"`
	// Cost and MaxCost are the weighted exposure and its maximum.
	Cost    float64  `json:"cost"`
	MaxCost float64  `json:"maxCost"`
	Arches  []string `json:"arches"`
	// Syscalls are the syscalls and uses that cost something, costliest
	// first.
	Syscalls []SyscallScore `json:"syscalls"`
	Findings []Finding      `json:"findings"`
	Baseline *Baseline      `json:"baseline,omitempty"`
}

// SyscallScore is what one syscall costs.
type SyscallScore struct {
	Name string `json:"name"`
	Tier int    `json:"tier"`
	// Exposure is the share of its argument cases permitted (0-1), on the
	// ABI where it is highest (Arch).
	Exposure float64    `json:"exposure"`
	Arch     string     `json:"arch,omitempty"`
	Cost     float64    `json:"cost"`
	Uses     []UseScore `json:"uses,omitempty"`
}

// UseScore says whether a dangerous use is permitted, with the probe that
// got through.
type UseScore struct {
	Name      string  `json:"name"`
	Tier      int     `json:"tier"`
	Permitted bool    `json:"permitted"`
	Cost      float64 `json:"cost"`
	Input     *Input  `json:"input,omitempty"`
}

// Baseline is the score of a reference filter and the difference.
type Baseline struct {
	Source   string  `json:"source"`
	Score    float64 `json:"score"`
	RawScore float64 `json:"rawScore"`
	Grade    string  `json:"grade"`
	// Delta is the report's raw score minus the baseline's: positive means
	// stricter than the baseline. Raw scores, because the cap of a forced
	// failing grade would hide the difference between two filters that
	// both permit ptrace.
	Delta float64 `json:"delta"`
}

// SetBaseline records base as the reference of r.
func (r *Report) SetBaseline(source string, base *Report) {
	r.Baseline = &Baseline{Source: source, Score: base.Score, RawScore: base.RawScore, Grade: base.Grade,
		Delta: round1(r.RawScore - base.RawScore)}
}

func (o *Options) defaults() Options {
	out := *o
	if out.Rules == nil {
		out.Rules = DefaultRules()
	}
	if out.Knowledge == nil {
		out.Knowledge = knowledge.Default()
	}
	if len(out.Arches) == 0 {
		out.Arches = DefaultArches()
	}
	return out
}

// ComputeStack scores a filter stack (oldest first); an empty stack is an
// unconfined process.
func ComputeStack(s bytecode.Stack, opts Options) (*Report, error) {
	return ComputeStackContext(context.Background(), s, opts)
}

// ComputeStackContext is ComputeStack whose analysis stops, as too
// complex, when ctx is done.
func ComputeStackContext(ctx context.Context, s bytecode.Stack, opts Options) (*Report, error) {
	if len(s) == 0 {
		return Compute(nil, opts)
	}
	t, err := bytecode.AnalyzeStackContext(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	opts.Stack = s
	return Compute(t, opts)
}

// Compute scores a decision table; a nil table is an unconfined process.
func Compute(t *bytecode.Table, opts Options) (*Report, error) {
	o := opts.defaults()
	sc := &scorer{t: t, o: o, r: o.Rules, kb: o.Knowledge}
	rep := &Report{Unconfined: t == nil, Syscalls: []SyscallScore{}, Findings: []Finding{}}
	for _, a := range o.Arches {
		rep.Arches = append(rep.Arches, a.Name)
	}
	for _, n := range sc.names() {
		name := n.name
		ss, maxCost := sc.syscall(n)
		rep.MaxCost += maxCost
		rep.Cost += ss.Cost
		if ss.Cost > 0 || slices.ContainsFunc(ss.Uses, func(u UseScore) bool { return u.Permitted }) ||
			(ss.Exposure > 0 && sc.r.ForcesFail(ss.Tier)) {
			rep.Syscalls = append(rep.Syscalls, ss)
		}
		if ss.Exposure > 0 && sc.r.ForcesFail(ss.Tier) {
			rep.Forcing = append(rep.Forcing, name)
		}
		for _, u := range ss.Uses {
			if u.Permitted && sc.r.ForcesFail(u.Tier) {
				rep.Forcing = append(rep.Forcing, name+": "+u.Name)
			}
		}
	}
	sort.SliceStable(rep.Syscalls, func(i, j int) bool { return rep.Syscalls[i].Cost > rep.Syscalls[j].Cost })
	raw := 100.0
	switch {
	case rep.Unconfined:
		raw = 0 // whatever the rules weigh
	case rep.MaxCost > 0:
		raw = 100 * (1 - rep.Cost/rep.MaxCost)
	}
	rep.RawScore = round1(math.Max(0, raw))
	rep.Score = rep.RawScore
	rep.ForcedFail = len(rep.Forcing) > 0
	if rep.ForcedFail {
		rep.Score = math.Min(rep.Score, o.Rules.cap())
	}
	rep.Cost, rep.MaxCost = round1(rep.Cost), round1(rep.MaxCost)
	rep.Grade = o.Rules.grade(rep.Score, rep.ForcedFail)
	rep.Findings = sc.findings(rep)
	return rep, nil
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// scorer holds what Compute and the findings share.
type scorer struct {
	t  *bytecode.Table
	o  Options
	r  *Rules
	kb *knowledge.Base
	// tops caches profileTop per ABI.
	tops map[*arch.Arch]arch.Syscall
}

// scopeName is a syscall name with its number on each ABI in scope
// (noNr where the ABI lacks it).
type scopeName struct {
	name string
	nrs  []uint32
}

const noNr = ^uint32(0)

// namesCache holds names() per set of ABIs (keyed by their names).
var namesCache sync.Map

// names lists the syscalls of every ABI in scope, once each, sorted.
func (sc *scorer) names() []scopeName {
	var key strings.Builder
	for _, a := range sc.o.Arches {
		key.WriteString(a.Name + ",")
	}
	if v, ok := namesCache.Load(key.String()); ok {
		return v.([]scopeName)
	}
	out := sc.computeNames()
	namesCache.Store(key.String(), out)
	return out
}

func (sc *scorer) computeNames() []scopeName {
	seen := map[string]bool{}
	var names []string
	for _, a := range sc.o.Arches {
		for _, s := range a.Syscalls() {
			if !seen[s.Name] {
				seen[s.Name] = true
				names = append(names, s.Name)
			}
		}
	}
	sort.Strings(names)
	out := make([]scopeName, len(names))
	for i, n := range names {
		out[i] = scopeName{name: n, nrs: make([]uint32, len(sc.o.Arches))}
		for j, a := range sc.o.Arches {
			out[i].nrs[j] = noNr
			if nr, ok := a.SyscallNr(n); ok {
				out[i].nrs[j] = nr
			}
		}
	}
	return out
}

// syscall scores one syscall over the ABIs in scope and returns the most it
// could cost.
func (sc *scorer) syscall(n scopeName) (SyscallScore, float64) {
	name := n.name
	ss := SyscallScore{Name: name, Tier: sc.r.tierOf(sc.kb, name)}
	w := sc.r.weightOf(sc.kb, name)
	maxCost := w
	// A syscall that costs nothing and forces nothing (most of tier 4)
	// needs no exposure: only its uses count.
	needExposure := w > 0 || sc.r.ForcesFail(ss.Tier) || len(sc.r.usesOf(name)) > 0
	for i, a := range sc.o.Arches {
		if n.nrs[i] == noNr || !needExposure {
			continue
		}
		if e := sc.exposure(a, n.nrs[i]); e > ss.Exposure {
			ss.Exposure, ss.Arch = e, a.Name
		}
	}
	ss.Cost = w * ss.Exposure
	for _, u := range sc.r.usesOf(name) {
		uw := sc.r.tierWeight(u.Tier)
		maxCost += uw
		us := UseScore{Name: u.Name, Tier: u.Tier}
		for i, a := range sc.o.Arches {
			if n.nrs[i] == noNr {
				continue
			}
			if in := sc.probeUse(a, n.nrs[i], name, u); in != nil {
				us.Permitted, us.Input = true, in
				break
			}
		}
		if us.Permitted {
			us.Cost = uw
			ss.Cost += uw
		}
		ss.Uses = append(ss.Uses, us)
	}
	// Two decimals for people, rounded up so that a permitted sliver
	// never shows as 0.
	ss.Exposure = math.Ceil(ss.Exposure*100) / 100
	ss.Cost = round1(ss.Cost)
	return ss, maxCost
}

// rulesFor returns the rules of a syscall number on an ABI, nil when the
// table does not cover it (counted as permitted: fail closed).
func (sc *scorer) rulesFor(a *arch.Arch, nr uint32) []bytecode.Rule {
	if sc.t == nil {
		return nil
	}
	_, sr := sc.t.Lookup(a.Audit, nr)
	if sr == nil {
		return nil
	}
	return sr.Rules
}

// permits says whether the table lets d through (approximate rules: if
// they may). It follows Table.Decide without collecting the actions.
func (sc *scorer) permits(d *bytecode.Data) bool {
	if sc.t == nil {
		return true
	}
	_, sr := sc.t.Lookup(d.Arch, d.Nr)
	if sr == nil {
		return true
	}
	for i := range sr.Rules {
		r := &sr.Rules[i]
		if !r.When.Holds(d) {
			continue
		}
		if !r.Approximate {
			return r.Action.Permits()
		}
		if rulePermits(r) {
			return true
		}
	}
	return false
}

// rulePermits says whether a rule may let the call through.
func rulePermits(r *bytecode.Rule) bool {
	if !r.Approximate {
		return r.Action.Permits()
	}
	if r.AnyAction {
		return true
	}
	return slices.ContainsFunc(r.Actions, bytecode.Action.Permits)
}

// exposure is the share of a syscall's argument cases the filter permits on
// one ABI: 0 or 1 for unconditional rules; otherwise each rule's region of
// the argument space, found by a witness, is one case, plus all-zero
// arguments.
func (sc *scorer) exposure(a *arch.Arch, nr uint32) float64 {
	rules := sc.rulesFor(a, nr)
	if rules == nil {
		return 1
	}
	permitting := 0
	for i := range rules {
		if rulePermits(&rules[i]) {
			permitting++
		}
	}
	switch permitting {
	case 0:
		return 0
	case len(rules):
		return 1
	}
	cases, through := 0, 0
	try := func(d *bytecode.Data) {
		cases++
		if sc.permits(d) {
			through++
		}
	}
	try(&bytecode.Data{Arch: a.Audit, Nr: nr})
	for i := range rules {
		d := bytecode.Data{Arch: a.Audit, Nr: nr}
		if bytecode.Witness(&d, rules[i].When) {
			try(&d)
		}
	}
	return float64(through) / float64(cases)
}

// probeUse returns the first probe of u (or its high-bits variant on a
// 32-bit-typed argument) the filter permits on ABI a, nil if none.
func (sc *scorer) probeUse(a *arch.Arch, nr uint32, name string, u Use) *Input {
	for _, p := range u.Probes {
		d := bytecode.Data{Arch: a.Audit, Nr: nr}
		for i, v := range p {
			d.Args[i] = uint64(v)
		}
		if sc.permits(&d) {
			return sc.input(a, name, &d)
		}
		if !is64Bit(a) {
			continue
		}
		for i := range p {
			if !sc.kb.Is32BitArg(name, i) {
				continue
			}
			for _, hi := range []uint64{1, 0xffffffff} {
				v := d
				v.Args[i] = v.Args[i]&0xffffffff | hi<<32
				if sc.permits(&v) {
					return sc.input(a, name, &v)
				}
			}
		}
	}
	return nil
}

// is64Bit reports whether the ABI passes 64-bit arguments (so the kernel
// truncates 32-bit-typed ones).
func is64Bit(a *arch.Arch) bool {
	switch a {
	case arch.X86, arch.ARM, arch.MIPS, arch.MIPSEL, arch.S390:
		return false
	}
	return true
}
