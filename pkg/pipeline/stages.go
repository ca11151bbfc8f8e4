package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
	"github.com/seccomp-attest/seccomp-attest/pkg/policy"
	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
	"github.com/seccomp-attest/seccomp-attest/pkg/score"
)

// Events recorded in attestations.
const (
	EventStart = "start"
	EventStop  = "stop"
)

// CheckIntended is the static check before anything of the container runs
// (createRuntime/prestart hook, the wrapper's create and run): the filter
// the bundle's profile compiles to, as the container's runtime compiles
// it, judged by the policy as if it were already loaded.
func (p *Pipeline) CheckIntended(ctx context.Context, c Container) (*Outcome, error) {
	return bounded(ctx, "static check", func(ctx context.Context) (*Outcome, error) {
		in, err := p.loadIntended(&c)
		if err != nil {
			return nil, err
		}
		key := p.cache.key(p, &c, in, nil)
		entry, ok, unlock := p.cache.getOrLock(ctx, key)
		defer unlock()
		if ok {
			v, _, err := entry.verdict(nil)
			if err != nil {
				return nil, err
			}
			return newOutcome(v, p.Enforcing()), nil
		}
		st, err := in.compiled()
		if err != nil {
			return nil, err
		}
		v, err := p.policy.EvaluateContext(ctx, policy.Input{
			Effective: st, Unconfined: len(st) == 0, Intended: nonNil(st),
			ContainerName: c.name(), Annotations: p.annotations(&c, in), Runtime: in.runtime,
			Capabilities: in.profile.Capabilities,
		})
		if err != nil {
			return nil, err
		}
		entry = cached{Result: v.Result, Groups: []groupJudgement{{Reasons: v.Reasons}}}
		if ctx.Err() == nil {
			// A verdict the deadline cut short is not the filter's own:
			// the next container may have the time to decide it.
			p.cache.put(key, entry)
		}
		verdict, _, err := entry.verdict(nil)
		if err != nil {
			return nil, err
		}
		return newOutcome(verdict, p.Enforcing()), nil
	})
}

// AttestEffective judges the filters read from the container's process
// against its intended profile and the policy, and writes the signed
// attestation to the store (and into the bundle). The attestation is
// written whatever the verdict, so a refusal is on record too.
func (p *Pipeline) AttestEffective(ctx context.Context, c Container, pf *procfilters.ProcessFilters) (*Outcome, error) {
	o, err := bounded(ctx, "effective check", func(ctx context.Context) (*Outcome, error) {
		pred := p.basePredicate(&c)
		pred.Effective = attest.EffectiveFromProcess(pf)
		groups := pf.Groups()

		var in *intended
		if c.Bundle != "" {
			var err error
			if in, err = p.loadIntended(&c); err != nil {
				return nil, err
			}
			pred.Intended = in.record()
			if pred.Container.Kubernetes == nil {
				// wrapper-runc reads runc's state without annotations:
				// the bundle's name the pod.
				pred.Container.Kubernetes = attest.KubernetesFromAnnotations(p.annotations(&c, in))
			}
		}
		key := p.cache.key(p, &c, in, groups)
		entry, ok, unlock := p.cache.getOrLock(ctx, key)
		defer unlock()
		if !ok {
			var err error
			if entry, err = p.judge(ctx, &c, in, groups); err != nil {
				return nil, err
			}
			if ctx.Err() == nil {
				p.cache.put(key, entry)
			}
		}
		verdict, diff, err := entry.verdict(groups)
		if err != nil {
			return nil, err
		}
		pred.Verdict, pred.Diff, pred.Score = verdict, diff, entry.Score
		return p.write(ctx, &c, pred)
	})
	p.ship(ctx, o)
	return o, err
}

// RecordFailure attests that the effective filters could not be read or
// judged (the process exited before attach, it is traced by someone else,
// the deadline passed): the verdict is "error" with the cause, so the
// chain shows the container and why nothing more is known. In enforce
// mode such an outcome refuses the container (fail closed).
func (p *Pipeline) RecordFailure(ctx context.Context, c Container, cause error) (*Outcome, error) {
	pred := p.basePredicate(&c)
	pred.Effective = attest.Effective{Threads: []attest.ThreadGroup{}}
	pred.Verdict = &attest.Verdict{Result: attest.ResultError, Reasons: []string{cause.Error()}}
	o, err := p.write(ctx, &c, pred)
	p.ship(ctx, o)
	return o, err
}

// RecordStop appends the end of a container to the host chain (poststop),
// so that the store, which outlives the bundle, shows when it went away.
func (p *Pipeline) RecordStop(ctx context.Context, c Container) (*Outcome, error) {
	c.Event = EventStop
	pred := p.basePredicate(&c)
	pred.Effective = attest.Effective{Threads: []attest.ThreadGroup{}}
	pred.Policy = nil
	o, err := p.write(ctx, &c, pred)
	p.ship(ctx, o)
	return o, err
}

func (p *Pipeline) basePredicate(c *Container) *attest.Predicate {
	pred := &attest.Predicate{
		Event: c.Event,
		Container: attest.Container{ID: c.ID, Bundle: c.Bundle, PID: c.PID, Annotations: attest.RelevantAnnotations(c.Annotations),
			Kubernetes: attest.KubernetesFromAnnotations(c.Annotations)},
		Policy: &attest.Policy{Digest: p.policyDigest, Mode: p.policy.Mode},
		Tool:   attest.Tool{Name: ToolName, Version: p.toolVersion},
	}
	if pred.Event == "" {
		pred.Event = EventStart
	}
	if c.Runtime != "" {
		pred.Container.Runtime = &attest.Runtime{Name: c.Runtime, Version: c.RuntimeVersion}
	}
	return pred
}

func (p *Pipeline) write(ctx context.Context, c *Container, pred *attest.Predicate) (*Outcome, error) {
	if p.signer == nil {
		return nil, fmt.Errorf("attestation of %s: no signing key loaded", c.ID)
	}
	if ctx.Err() != nil {
		// Whoever asked gave up (a hook that found the daemon stalled
		// checks in its own process): one record per container.
		return nil, fmt.Errorf("attestation of %s not written: %w", c.ID, context.Cause(ctx))
	}
	req := attest.Request{Signer: p.signer, Store: p.store, Predicate: *pred, Commit: commitCheck(ctx)}
	if c.Bundle != "" {
		b, err := p.bundle(c.Bundle)
		switch {
		case err != nil && pred.Event == EventStop && errors.Is(err, fs.ErrNotExist):
			// The end of a container is recorded even when its bundle is
			// already gone (removed by the engine, or by whoever wants
			// no record): the container's id is then its subject.
			pred.Container.Bundle = c.Bundle
		case err != nil:
			return nil, err
		default:
			req.Bundle, req.NoBundleCopy = b.raw, pred.Event == EventStop
		}
	}
	res, err := attest.Attest(ctx, req)
	if err != nil {
		return nil, err
	}
	v := pred.Verdict
	if v == nil {
		v = &attest.Verdict{Result: attest.ResultPass}
	}
	o := newOutcome(v, p.Enforcing())
	o.Attestation, o.Predicate = res, pred
	if res.CheckpointErr != nil {
		o.Warnings = append(o.Warnings, res.CheckpointErr.Error())
	}
	return o, nil
}

// judge runs the policy on every group of threads with distinct filters
// (almost always one) and diffs each group against the intended filter.
func (p *Pipeline) judge(ctx context.Context, c *Container, in *intended, groups []procfilters.ThreadGroup) (cached, error) {
	var intendedStack bytecode.Stack
	// Baselines are resolved for the container's bounding set, as its
	// engine would generate them; unknown without a bundle.
	var caps []string
	runtime := c.runtime()
	if in != nil {
		st, err := in.compiled()
		if err != nil {
			return cached{}, err
		}
		intendedStack = nonNil(st)
		runtime = in.runtime
		caps = in.profile.Capabilities
	}
	entry := cached{Result: attest.ResultPass}
	if in != nil {
		entry.Reference = in.profile.Source
	}
	for _, g := range groups {
		effective := groupStack(g)
		v, err := p.policy.EvaluateContext(ctx, policy.Input{
			Effective: effective, Unconfined: g.Mode == procfilters.ModeDisabled || len(effective) == 0,
			Intended: intendedStack, ContainerName: c.name(), Annotations: p.annotations(c, in), Runtime: runtime,
			Capabilities: caps,
		})
		if err != nil {
			return cached{}, err
		}
		if v.Result != policy.Pass {
			entry.Result = attest.ResultFail
		}
		gj := groupJudgement{Reasons: v.Reasons}
		rep, err := score.ComputeStackContext(ctx, effective, score.Options{})
		if err != nil {
			// Recorded, not fatal: the policy's minScore, if any, has
			// already failed closed on the same error.
			gj.Reasons = append(gj.Reasons, "score: "+err.Error())
		} else if entry.Score == nil || rep.Score < *entry.Score {
			// The weakest group of threads is the container's score.
			s := rep.Score
			entry.Score = &s
		}
		if intendedStack != nil {
			res, err := compare.StacksContext(ctx, intendedStack, effective)
			if err != nil {
				return cached{}, fmt.Errorf("diff intended and effective: %w", err)
			}
			report := res.Report()
			gj.Diff = &report
		}
		entry.Groups = append(entry.Groups, gj)
	}
	return entry, nil
}

// verdict assembles the judgement for the container's own threads:
// reasons name the threads when groups differ, the diff names each
// group's threads. groups is nil for the static check.
func (j *cached) verdict(groups []procfilters.ThreadGroup) (*attest.Verdict, json.RawMessage, error) {
	v := &attest.Verdict{Result: j.Result, Reasons: []string{}}
	diff := diffRecord{Reference: j.Reference, Groups: []groupDiff{}}
	hasDiff := false
	for i, gj := range j.Groups {
		prefix := ""
		var tids []int
		if i < len(groups) {
			tids = groups[i].TIDs
			if len(groups) > 1 {
				prefix = fmt.Sprintf("threads %s: ", tidList(tids))
			}
		}
		for _, r := range gj.Reasons {
			v.Reasons = append(v.Reasons, prefix+r)
		}
		if gj.Diff != nil {
			hasDiff = true
			diff.Groups = append(diff.Groups, groupDiff{TIDs: tids, Report: *gj.Diff})
		}
	}
	if len(groups) > 1 {
		v.Reasons = append(v.Reasons, fmt.Sprintf("note: %d groups of threads run different filters", len(groups)))
	}
	if !hasDiff {
		return v, nil, nil
	}
	b, err := json.Marshal(diff)
	return v, b, err
}

// diffRecord is the predicate's "diff": intended (A) against effective (B)
// for each group of threads (docs/attestation.md).
type diffRecord struct {
	Reference string      `json:"reference,omitempty"`
	Groups    []groupDiff `json:"groups"`
}

type groupDiff struct {
	TIDs []int `json:"tids"`
	compare.Report
}

func groupStack(g procfilters.ThreadGroup) bytecode.Stack {
	st := bytecode.Stack{}
	for _, lf := range g.Filters {
		st = append(st, lf.Filter)
	}
	return st
}

// nonNil turns "no filter" into an empty stack: policy reads a nil
// intended stack as unknown, an empty one as "allows everything".
func nonNil(st bytecode.Stack) bytecode.Stack {
	if st == nil {
		return bytecode.Stack{}
	}
	return st
}

func (p *Pipeline) annotations(c *Container, in *intended) map[string]string {
	if c.Annotations != nil || in == nil {
		return c.Annotations
	}
	return in.profile.Annotations
}

func tidList(tids []int) string {
	s := slices.Clone(tids)
	sort.Ints(s)
	parts := make([]string, len(s))
	for i, t := range s {
		parts[i] = fmt.Sprint(t)
	}
	return strings.Join(parts, ",")
}

// bounded runs f but answers no later than ctx's deadline: a hook must
// never hold up a container start. f gets ctx too, and every analysis in it
// stops at the deadline (as too complex), so the work ends with the answer
// instead of running on in the background. An attestation f writes after
// the answer went out would contradict it: f's write asks the stage's
// commit gate under the store's lock, and once the write has begun the
// answer is f's (the write is short; waiting for the lock is not part of
// it).
func bounded(ctx context.Context, stage string, f func(context.Context) (*Outcome, error)) (*Outcome, error) {
	type result struct {
		o   *Outcome
		err error
	}
	gate := &commitGate{}
	done := make(chan result, 1)
	go func() {
		o, err := f(context.WithValue(ctx, commitGateKey{}, gate))
		done <- result{o, err}
	}()
	select {
	case r := <-done:
		return r.o, r.err
	case <-ctx.Done():
		if gate.close() {
			r := <-done
			return r.o, r.err
		}
		return nil, deadlineError(ctx, stage)
	}
}

// commitGate lets exactly one of a stage's answer and its attestation's
// write go first: a write that has begun is waited for; one that has not
// is refused.
type commitGate struct {
	mu              sync.Mutex
	entered, closed bool
}

type commitGateKey struct{}

// enter lets the write begin, unless the answer went out.
func (g *commitGate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.entered = true
	return true
}

// close shuts the gate for the answer; it reports whether a write has
// already begun.
func (g *commitGate) close() (entered bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.entered {
		return true
	}
	g.closed = true
	return false
}

// commitCheck is the store's Commit for a write under ctx: refused once
// ctx is done (the requester hung up, the deadline passed) or the stage
// answered.
func commitCheck(ctx context.Context) func() error {
	return func() error {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if g, ok := ctx.Value(commitGateKey{}).(*commitGate); ok && !g.enter() {
			return errors.New("the check was answered without it (deadline)")
		}
		return nil
	}
}
