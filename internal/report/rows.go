package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
)

// Row classes.
const (
	classAllow = "allow"
	classDeny  = "deny"
	classCond  = "cond"
)

// statusRank orders rows: weaker first, then what policies treat as
// weaker (undecided), then other differences, then agreement.
var statusRank = map[string]int{
	compare.Weaker.String():    0,
	compare.Undecided.String(): 1,
	compare.Changed.String():   2,
	compare.Stricter.String():  3,
	"":                         4,
}

var classRank = map[string]int{classCond: 0, classAllow: 1, classDeny: 2}

// archViews lays out the decision table next to the diff findings of
// one group. hostArch (uname machine) decides which architecture is shown
// open.
func archViews(tab *bytecode.Table, findings []compare.FindingReport, hostArch string, kb Knowledge) []*ArchView {
	var out []*ArchView
	anyOpen := false
	for i := range tab.Arches {
		at := &tab.Arches[i]
		av := &ArchView{Name: at.Name()}
		denied := map[string][]string{}
		var deniedOrder []string
		for j := range at.Syscalls {
			sr := &at.Syscalls[j]
			r := newRow(sr, at.Arch)
			for _, f := range findings {
				if f.Arch == av.Name && f.First <= sr.Last && sr.First <= f.Last {
					r.addFinding(f)
				}
			}
			if r.Status == "" && r.Class == classDeny && len(r.Effective) == 1 {
				a := r.Effective[0].Action
				if _, ok := denied[a]; !ok {
					deniedOrder = append(deniedOrder, a)
				}
				denied[a] = append(denied[a], r.Label)
				continue
			}
			if kb != nil && sr.Name != "" {
				r.Knowledge = kb(sr.Name).Text
			}
			if r.Status == compare.Weaker.String() || r.Status == compare.Undecided.String() {
				av.Open = true
			}
			av.Rows = append(av.Rows, r)
		}
		slices.SortStableFunc(av.Rows, func(a, b *Row) int {
			if a.sortKey != b.sortKey {
				if a.sortKey[0] != b.sortKey[0] {
					return a.sortKey[0] - b.sortKey[0]
				}
				return a.sortKey[1] - b.sortKey[1]
			}
			switch {
			case a.first < b.first:
				return -1
			case a.first > b.first:
				return 1
			}
			return 0
		})
		for _, a := range deniedOrder {
			av.Denied = append(av.Denied, DeniedGroup{Action: a, Names: denied[a]})
		}
		if av.Name == archName(hostArch) {
			av.Open = true
		}
		anyOpen = anyOpen || av.Open
		out = append(out, av)
	}
	if !anyOpen && len(out) > 0 {
		out[0].Open = true
	}
	return out
}

// archName maps a uname machine to the name the tables use.
func archName(machine string) string {
	switch machine {
	case "i386", "i486", "i586", "i686":
		return "x86"
	case "armv7l", "armv6l":
		return "arm"
	}
	return machine
}

// newRow lays out one syscall. Named syscalls show their number within
// the architecture (x32's without __X32_SYSCALL_BIT, as its tables list
// them); unnamed ranges show the raw seccomp_data.nr values.
func newRow(sr *bytecode.SyscallRules, a *arch.Arch) *Row {
	r := &Row{Label: sr.Name, first: sr.First}
	switch {
	case sr.Name != "":
		base := uint32(0)
		if a != nil {
			base = a.NrBase
		}
		r.Nr = fmt.Sprint(sr.First - base)
	case sr.First == sr.Last:
		r.Label, r.Nr = fmt.Sprintf("nr %#x", sr.First), fmt.Sprintf("%#x", sr.First)
	default:
		r.Label, r.Nr = fmt.Sprintf("nr %#x-%#x", sr.First, sr.Last), fmt.Sprintf("%#x-%#x", sr.First, sr.Last)
	}
	classes := map[string]bool{}
	for _, rule := range sr.Rules {
		v := ruleView(rule)
		classes[v.Class] = true
		r.Effective = append(r.Effective, v)
	}
	r.Class = mergeClasses(classes)
	r.sortKey = [2]int{statusRank[""], classRank[r.Class]}
	return r
}

func mergeClasses(classes map[string]bool) string {
	if len(classes) == 1 {
		for c := range classes {
			return c
		}
	}
	return classCond
}

func ruleView(rule bytecode.Rule) Rule {
	v := Rule{}
	if len(rule.When) > 0 {
		v.When = rule.When.String()
	}
	if !rule.Approximate {
		v.Action = rule.Action.Effective().String()
		v.Class = actionClass(rule.Action)
		return v
	}
	if rule.AnyAction {
		v.Action, v.Class = "any action (not modelled exactly)", classCond
		return v
	}
	names := make([]string, len(rule.Actions))
	classes := map[string]bool{}
	for i, a := range rule.Actions {
		names[i] = a.Effective().String()
		classes[actionClass(a)] = true
	}
	v.Action = strings.Join(names, " or ") + " (not modelled exactly)"
	v.Class = mergeClasses(classes)
	return v
}

func actionClass(a bytecode.Action) string {
	if a.Permits() {
		return classAllow
	}
	return classDeny
}

// actionNameClass classifies an action as the diff writes it ("ALLOW",
// "ERRNO(1)", "USER_NOTIF").
func actionNameClass(s string) string {
	name, _, _ := strings.Cut(s, "(")
	switch name {
	case "ALLOW", "LOG", "TRACE", "USER_NOTIF":
		return classAllow
	}
	return classDeny
}

// addFinding records a difference on the row: the intended side gets the
// finding's A action under its condition, the status the worst kind.
func (r *Row) addFinding(f compare.FindingReport) {
	fv := FindingView{Kind: f.Kind, Intended: f.A, Effective: f.B, When: f.When, Call: exampleCall(f)}
	r.Findings = append(r.Findings, fv)
	r.Intended = append(r.Intended, Rule{When: f.When, Action: f.A, Class: actionNameClass(f.A)})
	classes := map[string]bool{}
	for _, in := range r.Intended {
		classes[in.Class] = true
	}
	r.IntendedClass = mergeClasses(classes)
	rank, ok := statusRank[f.Kind]
	if !ok {
		rank = statusRank[compare.Undecided.String()]
	}
	if r.Status == "" || rank < statusRank[r.Status] {
		r.Status = f.Kind
		r.sortKey[0] = rank
	}
}

// exampleCall writes the finding's confirmed input as a call.
func exampleCall(f compare.FindingReport) string {
	ex := f.Example
	if ex == nil {
		return ""
	}
	name := f.Syscall
	if name == "" {
		name = fmt.Sprintf("syscall %#x", ex.Nr)
	}
	s := fmt.Sprintf("%s(%s)", name, strings.Join(ex.Args, ", "))
	if ex.IP != "" && ex.IP != "0x0" {
		s += " at ip " + ex.IP
	}
	if !f.Confirmed {
		s += " (not confirmed by the evaluator)"
	}
	return s
}
