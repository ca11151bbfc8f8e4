package spec

import (
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// planSyscall writes the rules of one syscall as OCI entries against the
// profile's default action: each non-default action gets entries whose
// comparisons accept exactly the inputs where the filter takes it. What
// has no OCI form is approximated toward the stricter side:
//
//   - under a deny default, a rule that cannot be written is left out, so
//     its inputs get the default (a deny);
//   - under a permit default, such a rule that denies makes the whole
//     syscall deny (an over-approximated deny argRegion could overlap other
//     entries, which libseccomp refuses or resolves arbitrarily).
//
// The entries of different actions never overlap.
func planSyscall(name string, rules []bytecode.Rule, w uint8, dflt bytecode.Action) *syscallPlan {
	sp := &syscallPlan{regions: map[bytecode.Action]argRegion{}, exact: true}
	for _, r := range rules {
		if r.Approximate {
			return planApproximate(name, rules, w, dflt)
		}
	}
	denyDefault := !dflt.Permits()
	conds, final := rules[:len(rules)-1], rules[len(rules)-1]
	boxes := make([]box, len(conds))
	writable := make([]bool, len(conds))
	for i, r := range conds {
		var exact bool
		boxes[i], exact = conditionBox(r.When, w)
		writable[i] = exact && !boxes[i].broken()
	}
	addRegion := func(a bytecode.Action, r argRegion) {
		if cur, ok := sp.regions[a]; ok {
			r = cur.union(r)
		}
		sp.regions[a] = r
	}
	unwritable := false
	for i, r := range conds {
		a := representable(r.Action, name)
		if a != r.Action {
			sp.inexact(r.Action.Permits() && !a.Permits(), "%s has no OCI form: written as %s", r.Action, a)
		}
		if !writable[i] {
			unwritable = true
			if a == dflt {
				continue
			}
			if !denyDefault && !a.Permits() {
				return denyAll(name, rules, w, fmt.Sprintf("condition %q cannot be written as OCI comparisons", r.When.String()))
			}
			sp.inexact(denyDefault && a.Permits(), "condition %q cannot be written as OCI comparisons: left to the default %s", r.When.String(), dflt)
			continue
		}
		if a != dflt {
			addRegion(a, emptyRegion(w).add(boxes[i]))
		}
	}
	fa := representable(final.Action, name)
	if fa != final.Action {
		sp.inexact(final.Action.Permits() && !fa.Permits(), "%s has no OCI form: written as %s", final.Action, fa)
	}
	if fa != dflt {
		if unwritable {
			// The final rule's inputs are bounded by the unwritable
			// conditions: under a deny default it gets fewer, under a
			// permit default more.
			sp.inexact(denyDefault == fa.Permits(), "the inputs where the filter gives %s are bounded by conditions without an OCI form", fa)
		}
		// The final rule takes every input no earlier rule takes. Under
		// a deny default the complement of the over-approximated earlier
		// conditions is an under-approximation (safe for a permit); under
		// a permit default unwritable earlier rules all permit (denying
		// ones gave up above), so leaving them out over-approximates.
		covered := emptyRegion(w)
		for i := range conds {
			if denyDefault || writable[i] {
				covered = covered.add(boxes[i])
			}
		}
		rest := covered.complement()
		switch {
		case !rest.ok && !denyDefault && !fa.Permits():
			return denyAll(name, rules, w, "the inputs of the final rule are too complex to write")
		case !rest.ok:
			sp.inexact(denyDefault && fa.Permits(), "the inputs where the filter gives %s are too complex to write: left to the default %s", fa, dflt)
		default:
			addRegion(fa, rest)
		}
	}
	if !regionsDisjoint(sp.regions) {
		// Exact rules of one syscall are disjoint; if the table says
		// otherwise, do not let libseccomp choose between them.
		if denyDefault {
			return &syscallPlan{regions: map[bytecode.Action]argRegion{}, why: []string{"its rules overlap: left to the default " + dflt.String()}, stricter: mayPermit(rules)}
		}
		return denyAll(name, rules, w, "its rules overlap")
	}
	written := writeEntries(sp, name, rules, w, dflt, false)
	if w == 64 && !libseccompCompiles(written.rules) {
		// Without order comparisons libseccomp gets it right: try the
		// same sets as masked equalities only.
		if cubes := writeEntries(sp, name, rules, w, dflt, true); libseccompCompiles(cubes.rules) {
			return cubes
		}
		why := "libseccomp 2.5 compiles order comparisons of 64-bit arguments in several of one syscall's entries wrongly (or never finishes), and masked equalities need too many entries"
		if !denyDefault && mayDeny(rules) {
			return denyAll(name, rules, w, why)
		}
		return &syscallPlan{regions: map[bytecode.Action]argRegion{}, why: []string{why + ": left to the default " + dflt.String()}, stricter: denyDefault && mayPermit(rules)}
	}
	return written
}

// writeEntries turns the regions of a plan into OCI entries, each region
// in at most maxRulesPerSyscall entries altogether; cubesOnly writes every
// set as masked equalities, without order comparisons.
func writeEntries(sp *syscallPlan, name string, rules []bytecode.Rule, w uint8, dflt bytecode.Action, cubesOnly bool) *syscallPlan {
	out := &syscallPlan{regions: map[bytecode.Action]argRegion{}, exact: sp.exact, stricter: sp.stricter, why: slices.Clone(sp.why)}
	denyDefault := !dflt.Permits()
	total := 0
	for _, a := range sortedActions(sp.regions) {
		var written []ociRule
		ok := sp.regions[a].ok
		for _, b := range sp.regions[a].boxes {
			argLists, fits := b.argRules(cubesOnly)
			if !fits {
				ok = false
				break
			}
			for _, args := range argLists {
				written = append(written, ociRule{action: a, args: args})
			}
		}
		if ok && total+len(written) > maxRulesPerSyscall {
			ok = false
		}
		if !ok {
			if !denyDefault && !a.Permits() {
				return denyAll(name, rules, w, fmt.Sprintf("the inputs where the filter gives %s need more than %d OCI entries", a, maxRulesPerSyscall))
			}
			out.inexact(denyDefault && a.Permits(), "the inputs where the filter gives %s need more than %d OCI entries: left to the default %s", a, maxRulesPerSyscall, dflt)
			continue
		}
		total += len(written)
		out.rules = append(out.rules, written...)
		out.regions[a] = sp.regions[a]
	}
	return out
}

// libseccompCompiles reports whether libseccomp 2.5.4 compiles the entries
// of one syscall on a 64-bit architecture as they say. Outside the shapes
// below it may not: with order comparisons (NE, LT, LE, GT, GE) in several
// entries it tests a low word where it means the high one ("LT
// 0x2900000000" next to "GT 0x28ffffffff" sends 0x2900000028 to the
// default action; "arg0 EQ 0, arg1 EQ 0xfffffffe, arg2 EQ 0xffffffff" next
// to "arg1 NE 0xfffffffe" with the same action drops the first), or never
// returns ("arg0 GT 5, arg2 EQ 0" next to "arg0 GT 5, arg2 EQ
// 0x100000000"). The shapes were found safe by compiling thousands of
// random entry sets of each and running them against the evaluator
// (found by the round trip of generated filters):
//
//   - one entry;
//   - no order comparison at all (EQ and MASKED_EQ only);
//   - one comparison per entry, all of the same argument, and no two
//     order comparisons when one of them has a value of 2^32 or more
//     (Docker's socket rules);
//   - "X when a == A && b == B", with "Y when a != A" and "Y when b != B"
//     (podman's socket rule).
func libseccompCompiles(rules []ociRule) bool {
	if len(rules) <= 1 {
		return true
	}
	isOrder := func(c specs.LinuxSeccompArg) bool { return c.Op != specs.OpEqualTo && c.Op != specs.OpMaskedEqual }
	orders, oneArg, high := 0, true, false
	for _, r := range rules {
		if len(r.args) != 1 || r.args[0].Index != rules[0].args[0].Index {
			oneArg = false
		}
		for _, c := range r.args {
			if isOrder(c) {
				orders++
				high = high || c.Value>>32 != 0
			}
		}
	}
	return orders == 0 || oneArg && !(orders > 1 && high) || complementOfBox(rules)
}

// complementOfBox matches one entry of equalities with, for each of its
// comparisons at most once, an entry "arg != value" of one other action.
func complementOfBox(rules []ociRule) bool {
	var box *ociRule
	for i := range rules {
		if len(rules[i].args) > 1 || rules[i].args[0].Op == specs.OpEqualTo {
			if box != nil {
				return false
			}
			box = &rules[i]
		}
	}
	if box == nil {
		return false
	}
	for _, c := range box.args {
		if c.Op != specs.OpEqualTo {
			return false
		}
	}
	var other bytecode.Action
	used := map[specs.LinuxSeccompArg]bool{}
	for i := range rules {
		r := &rules[i]
		if r == box {
			continue
		}
		ne := r.args[0]
		eq := ne
		eq.Op = specs.OpEqualTo
		if len(r.args) != 1 || ne.Op != specs.OpNotEqual || !slices.Contains(box.args, eq) || used[eq] ||
			r.action == box.action || other != 0 && r.action != other {
			return false
		}
		used[eq], other = true, r.action
	}
	return true
}

// denyAll writes a syscall as one unconditional entry with the strongest
// deny its rules may return.
func denyAll(name string, rules []bytecode.Rule, w uint8, why string) *syscallPlan {
	deny := bytecode.Action(0)
	found := false
	for _, r := range rules {
		acts := r.Actions
		if !r.Approximate {
			acts = []bytecode.Action{r.Action}
		}
		if r.AnyAction {
			acts = append(slices.Clone(acts), bytecode.ActKillProcess)
		}
		for _, a := range acts {
			a = representable(a, name)
			if !a.Permits() && (!found || a.Stronger(deny)) {
				deny, found = a, true
			}
		}
	}
	if !found {
		deny = bytecode.ActErrno | 1
	}
	sp := &syscallPlan{regions: map[bytecode.Action]argRegion{deny: emptyRegion(w).add(allBox(w))}, rules: []ociRule{{action: deny}}}
	sp.inexact(mayPermit(rules), "%s; the whole syscall is written as %s", why, deny)
	return sp
}

// planApproximate writes a syscall whose rules the analysis could not
// model exactly: the filter may return any of their actions anywhere.
func planApproximate(name string, rules []bytecode.Rule, w uint8, dflt bytecode.Action) *syscallPlan {
	why := fmt.Sprintf("the filter's rules could not be modelled exactly (%s)", bytecode.RulesString(rules))
	if mayDeny(rules) {
		if !dflt.Permits() {
			sp := &syscallPlan{regions: map[bytecode.Action]argRegion{}}
			sp.inexact(mayPermit(rules), "%s; left to the default %s", why, dflt)
			return sp
		}
		return denyAll(name, rules, w, why)
	}
	// Every input is let through, one way or another.
	final := representable(rules[len(rules)-1].Action, name)
	sp := &syscallPlan{regions: map[bytecode.Action]argRegion{}}
	if final != dflt {
		sp.rules = []ociRule{{action: final}}
		sp.regions[final] = emptyRegion(w).add(allBox(w))
	}
	sp.inexact(false, "%s; written as %s", why, final)
	return sp
}

func sortedActions(m map[bytecode.Action]argRegion) []bytecode.Action {
	out := make([]bytecode.Action, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

func regionsDisjoint(m map[bytecode.Action]argRegion) bool {
	acts := sortedActions(m)
	for i, a := range acts {
		for _, b := range acts[i+1:] {
			if !m[a].disjoint(m[b]) {
				return false
			}
		}
	}
	return true
}

func sameRules(a, b []ociRule) bool {
	return slices.EqualFunc(a, b, func(x, y ociRule) bool { return x.action == y.action && slices.Equal(x.args, y.args) })
}

// ruleCheck is what a list of entries does on one architecture, against
// what the profile would write from that architecture's own rules.
type ruleCheck struct {
	sound    bool // never weaker than the filter there, and no two actions overlap
	exact    bool // the same as the filter there
	stricter bool // denies some input the filter lets through there
}

// checkRules interprets entries written for one architecture on another
// (width w) and compares them with own, the plan from that architecture's
// rules: the entries must permit only where own permits (deny default) or
// deny wherever own denies (permit default). own is never weaker than the
// filter, so neither are sound entries.
func checkRules(rules []ociRule, own *syscallPlan, w uint8, dflt bytecode.Action) ruleCheck {
	if w == 64 && !libseccompCompiles(rules) {
		// Written for a 32-bit architecture, not compilable here.
		return ruleCheck{}
	}
	if sameRules(rules, own.rules) {
		return ruleCheck{sound: true, exact: own.exact, stricter: own.stricter}
	}
	got := map[bytecode.Action]argRegion{}
	for _, r := range rules {
		cur, ok := got[r.action]
		if !ok {
			cur = emptyRegion(w)
		}
		got[r.action] = cur.add(argsBox(r.args, w))
	}
	want := own.regions
	if !regionsDisjoint(got) {
		return ruleCheck{}
	}
	union := func(m map[bytecode.Action]argRegion, permit bool) argRegion {
		u := emptyRegion(w)
		for a, r := range m {
			if a.Permits() == permit {
				u = u.union(r)
			}
		}
		return u
	}
	var c ruleCheck
	if !dflt.Permits() {
		gotPermit, wantPermit := union(got, true), union(want, true)
		c.sound = gotPermit.subsetOf(wantPermit)
		c.stricter = !wantPermit.subsetOf(gotPermit)
	} else {
		gotDeny, wantDeny := union(got, false), union(want, false)
		c.sound = wantDeny.subsetOf(gotDeny)
		c.stricter = !gotDeny.subsetOf(wantDeny)
	}
	if !c.sound {
		return ruleCheck{}
	}
	c.exact = own.exact
	same := func(x, y map[bytecode.Action]argRegion) bool {
		for a, r := range x {
			o, ok := y[a]
			if !ok {
				o = emptyRegion(w)
			}
			if !r.equal(o) {
				return false
			}
		}
		return true
	}
	c.exact = c.exact && same(got, want) && same(want, got)
	c.stricter = c.stricter || own.stricter
	return c
}
