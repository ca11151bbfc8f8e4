package bytecode

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

// String formats the rule list of one syscall on one line, for example
// "args[0] == 0x28 -> ERRNO(1); ALLOW".
func (sr *SyscallRules) String() string { return rulesString(sr.Rules) }

// NamedString is String with the parameter names and constants of the
// syscall on architecture a: "family == AF_VSOCK -> ERRNO(1); ALLOW".
func (sr *SyscallRules) NamedString(a *arch.Arch) string {
	return namedRules(sr.Rules, namerFor(a, sr))
}

func rulesString(rules []Rule) string { return namedRules(rules, argNamer{}) }

func namedRules(rules []Rule, n argNamer) string {
	if rowApproximate(rules) {
		// Approximate rules over-approximate their conditions: read in
		// order they can name the wrong action. Say what is known.
		return "undecided: one of {" + strings.Join(actionNames(PossibleActions(rules)), ", ") + "} (not modelled exactly)"
	}
	parts := make([]string, len(rules))
	for i, r := range rules {
		parts[i] = r.format(n)
	}
	return strings.Join(parts, "; ")
}

// PossibleActions returns every action a rule list may give, nil when it
// may give any action.
func PossibleActions(rules []Rule) []Action {
	var out []Action
	for _, r := range rules {
		if r.AnyAction {
			return nil
		}
		acts := r.Actions
		if !r.Approximate {
			acts = []Action{r.Action}
		}
		for _, a := range acts {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

func actionNames(acts []Action) []string {
	if acts == nil {
		return []string{"ANY ACTION"}
	}
	names := make([]string, len(acts))
	for i, a := range acts {
		names[i] = a.String()
	}
	return names
}

func (r Rule) String() string { return r.format(argNamer{}) }

func (r Rule) format(n argNamer) string {
	action := r.Action.String()
	if r.Approximate {
		switch {
		case r.AnyAction:
			action = "ANY ACTION (approximate)"
		default:
			names := make([]string, len(r.Actions))
			for i, a := range r.Actions {
				names[i] = a.String()
			}
			action = "one of {" + strings.Join(names, ", ") + "} (approximate)"
		}
	}
	if len(r.When) == 0 {
		return action
	}
	return n.condition(r.When) + " -> " + action
}

// Label names the numbers of an entry: the syscall name, or the range.
func (sr *SyscallRules) Label() string {
	if sr.Name != "" {
		return sr.Name
	}
	if sr.First == sr.Last {
		return fmt.Sprintf("%#x", sr.First)
	}
	return fmt.Sprintf("%#x-%#x", sr.First, sr.Last)
}

// WriteText prints the table for people: per architecture, the action most
// numbers get, then the syscalls grouped by unconditional action, then each
// syscall whose decision depends on its arguments on a line of its own.
func (t *Table) WriteText(w io.Writer) error {
	var b strings.Builder
	if t.Approximate {
		b.WriteString("note: parts of this filter could not be modelled exactly; their rows say \"undecided\" and list every action they may give\n")
	}
	for i := range t.Arches {
		at := &t.Arches[i]
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s\n", at.heading())
		groups, order, dflt := at.groups()
		if dflt != "" {
			fmt.Fprintf(&b, "  default: %s (%s)\n", dflt, groups[dflt].summary())
		}
		for _, key := range order {
			if key == dflt {
				continue
			}
			g := groups[key]
			if g.conditional {
				for _, sr := range g.entries {
					label := sr.Label()
					if n := namerFor(at.Arch, sr); len(n.params) > 0 {
						label = n.signature()
					}
					fmt.Fprintf(&b, "  %-20s %s\n", label, sr.NamedString(at.Arch))
				}
				continue
			}
			fmt.Fprintf(&b, "  %s:\n", key)
			wrap(&b, g.labels(), "    ", 100)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (at *ArchTable) heading() string {
	if at.Arch != nil {
		return fmt.Sprintf("arch %s (AUDIT_ARCH %#08x)", at.Arch.Name, at.Arch.Audit)
	}
	if v, ok := at.Values.Single(); ok {
		return fmt.Sprintf("arch value %#08x (unknown architecture)", v)
	}
	return fmt.Sprintf("any other arch value %s", at.Values)
}

type ruleGroup struct {
	conditional bool
	entries     []*SyscallRules
}

func (g *ruleGroup) labels() []string {
	out := make([]string, len(g.entries))
	for i, sr := range g.entries {
		out[i] = sr.Label()
	}
	return out
}

func (g *ruleGroup) summary() string {
	named, numbers := 0, uint64(0)
	for _, sr := range g.entries {
		if sr.Name != "" {
			named++
		}
		numbers += uint64(sr.Last-sr.First) + 1
	}
	return fmt.Sprintf("%d named syscalls, %d numbers in all", named, numbers)
}

// groups buckets entries by their rule list and picks the most common
// unconditional one as the default.
func (at *ArchTable) groups() (map[string]*ruleGroup, []string, string) {
	groups := map[string]*ruleGroup{}
	var order []string
	for i := range at.Syscalls {
		sr := &at.Syscalls[i]
		key := sr.String()
		g, ok := groups[key]
		if !ok {
			g = &ruleGroup{conditional: len(sr.Rules) > 1 || sr.Rules[0].Approximate}
			groups[key] = g
			order = append(order, key)
		}
		g.entries = append(g.entries, sr)
	}
	dflt, most := "", uint64(0)
	for _, key := range order {
		g := groups[key]
		if g.conditional {
			continue
		}
		var n uint64
		for _, sr := range g.entries {
			n += uint64(sr.Last-sr.First) + 1
		}
		if n > most {
			dflt, most = key, n
		}
	}
	// Unconditional groups first, by action strength, then conditional ones.
	sort.SliceStable(order, func(i, j int) bool {
		return !groups[order[i]].conditional && groups[order[j]].conditional
	})
	return groups, order, dflt
}

func wrap(b *strings.Builder, words []string, indent string, width int) {
	line := indent
	for i, w := range words {
		sep := ", "
		if i == len(words)-1 {
			sep = ""
		}
		if len(line)+len(w)+len(sep) > width && line != indent {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = indent
		}
		line += w + sep
	}
	if line != indent {
		b.WriteString(line + "\n")
	}
}

// JSON form of the table; documented in docs/decision-table.md.
type jsonTable struct {
	Approximate bool       `json:"approximate"`
	Arches      []jsonArch `json:"arches"`
}

type jsonArch struct {
	Name     string        `json:"name"`
	Audit    string        `json:"audit,omitempty"`
	Values   [][2]string   `json:"values"`
	Syscalls []jsonSyscall `json:"syscalls"`
}

type jsonSyscall struct {
	Name  string     `json:"name,omitempty"`
	First uint32     `json:"first"`
	Last  uint32     `json:"last"`
	Rules []jsonRule `json:"rules"`
	// Undecided rows have approximate rules, which must not be read in
	// order: Actions lists every action the row may give (absent: any).
	Undecided bool     `json:"undecided,omitempty"`
	Actions   []string `json:"actions,omitempty"`
}

type jsonRule struct {
	When        []jsonCmp `json:"when,omitempty"`
	Action      string    `json:"action"`
	Value       string    `json:"value"`
	Approximate bool      `json:"approximate,omitempty"`
	AnyAction   bool      `json:"anyAction,omitempty"`
	Actions     []string  `json:"actions,omitempty"`
}

type jsonCmp struct {
	Arg   int    `json:"arg"` // -1: instruction pointer
	Half  string `json:"half"`
	Op    string `json:"op"`
	Mask  string `json:"mask"`
	Value string `json:"value"`
}

// MarshalJSON encodes the table in the documented JSON form.
func (t *Table) MarshalJSON() ([]byte, error) {
	out := jsonTable{Approximate: t.Approximate, Arches: []jsonArch{}}
	for i := range t.Arches {
		at := &t.Arches[i]
		ja := jsonArch{Name: at.Name()}
		if at.Arch != nil {
			ja.Audit = fmt.Sprintf("%#08x", at.Arch.Audit)
		}
		for _, iv := range at.Values {
			ja.Values = append(ja.Values, [2]string{fmt.Sprintf("%#x", iv.First), fmt.Sprintf("%#x", iv.Last)})
		}
		for _, sr := range at.Syscalls {
			js := jsonSyscall{Name: sr.Name, First: sr.First, Last: sr.Last}
			if rowApproximate(sr.Rules) {
				js.Undecided = true
				if acts := PossibleActions(sr.Rules); acts != nil {
					js.Actions = actionNames(acts)
				}
			}
			for _, r := range sr.Rules {
				jr := jsonRule{Action: r.Action.String(), Value: fmt.Sprintf("%#08x", uint32(r.Action)),
					Approximate: r.Approximate, AnyAction: r.AnyAction}
				for _, a := range r.Actions {
					jr.Actions = append(jr.Actions, a.String())
				}
				for _, c := range r.When {
					jr.When = append(jr.When, jsonCmp{Arg: c.Operand.Arg, Half: [...]string{"full", "low", "high"}[c.Operand.Half],
						Op: c.Op.String(), Mask: fmt.Sprintf("%#x", c.Mask), Value: fmt.Sprintf("%#x", c.Value)})
				}
				js.Rules = append(js.Rules, jr)
			}
			ja.Syscalls = append(ja.Syscalls, js)
		}
		out.Arches = append(out.Arches, ja)
	}
	return json.Marshal(out)
}
