package score

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
	"github.com/seccomp-attest/seccomp-attest/pkg/knowledge"
)

// Rules say how much each permitted syscall costs and how scores become
// grades (rules.yaml, docs/score.md).
type Rules struct {
	// Tiers maps "1".."4" to the tier's weight.
	Tiers     map[string]TierRule     `json:"tiers,omitempty"`
	ForceFail *ForceFail              `json:"forceFail,omitempty"`
	Grades    []Grade                 `json:"grades,omitempty"`
	Syscalls  map[string]*SyscallRule `json:"syscalls,omitempty"`
}

// TierRule is the weight of a permitted syscall of one tier.
type TierRule struct {
	Weight *float64 `json:"weight,omitempty"`
}

// ForceFail names the tiers that force the failing grade and the score
// they cap.
type ForceFail struct {
	Tiers []int    `json:"tiers"`
	Cap   *float64 `json:"cap,omitempty"`
}

// Grade is the letter given from a minimum score on.
type Grade struct {
	Grade string  `json:"grade"`
	Min   float64 `json:"min"`
}

// SyscallRule overrides the knowledge base's tier, the tier's weight, and
// lists dangerous uses of the syscall.
type SyscallRule struct {
	Tier   *int     `json:"tier,omitempty"`
	Weight *float64 `json:"weight,omitempty"`
	Uses   []Use    `json:"uses,omitempty"`
}

// Use is a dangerous way to call a syscall, recognised by probes.
type Use struct {
	Name   string    `json:"name"`
	Tier   int       `json:"tier"`
	Probes [][]Value `json:"probes"`
}

// Value is an argument value; rule files write it as a number or a string
// in any base strconv understands ("0x10000011").
type Value uint64

// UnmarshalJSON accepts a JSON string or a non-negative integer.
func (v *Value) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		s = string(b)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 0, 64)
	if err != nil {
		return fmt.Errorf("argument value %s: want an unsigned 64-bit integer (decimal or 0x...)", b)
	}
	*v = Value(n)
	return nil
}

// MarshalJSON writes the value in hex, as the rule files do.
func (v Value) MarshalJSON() ([]byte, error) {
	return json.Marshal(fmt.Sprintf("%#x", uint64(v)))
}

//go:embed rules.yaml
var defaultRules []byte

var (
	defaultOnce   sync.Once
	defaultParsed *Rules
)

// DefaultRules returns the embedded rules. The value is shared: use Merge
// to derive other rules instead of changing it.
func DefaultRules() *Rules {
	defaultOnce.Do(func() {
		r, err := ParseRules(defaultRules, "embedded rules.yaml")
		if err != nil {
			panic(err)
		}
		defaultParsed = r
	})
	return defaultParsed
}

// LoadRules reads a rules file and merges it over the embedded rules.
func LoadRules(path string) (*Rules, error) {
	data, err := inputfile.Read(path, inputfile.Rules)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	user, err := ParseRules(data, path)
	if err != nil {
		return nil, err
	}
	return DefaultRules().Merge(user), nil
}

// ParseRules parses and checks a rules file (YAML or JSON) on its own,
// without merging it.
func ParseRules(data []byte, name string) (*Rules, error) {
	if int64(len(data)) > inputfile.Rules.Max {
		return nil, fmt.Errorf("rules %s: %d bytes exceeds the limit of %s for a rules file", name, len(data), inputfile.Rules.Limit)
	}
	r := &Rules{}
	if err := yaml.UnmarshalStrict(data, r); err != nil {
		return nil, fmt.Errorf("rules %s: %w", name, err)
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("rules %s: %w", name, err)
	}
	return r, nil
}

func validTier(t int) bool { return t >= knowledge.TierCritical && t <= knowledge.TierOrdinary }

func validWeight(w float64) bool { return w >= 0 && w <= 1e6 && !math.IsNaN(w) }

// maxProbes bounds the work one rules file can ask for.
const maxProbes = 4096

func (r *Rules) check() error {
	for k, t := range r.Tiers {
		n, err := strconv.Atoi(k)
		if err != nil || !validTier(n) {
			return fmt.Errorf("tiers: %q is not a tier (want 1-4)", k)
		}
		if t.Weight == nil || !validWeight(*t.Weight) {
			return fmt.Errorf("tiers: %s: weight must be a number between 0 and 1e6", k)
		}
	}
	if f := r.ForceFail; f != nil {
		for _, t := range f.Tiers {
			if !validTier(t) {
				return fmt.Errorf("forceFail: tier %d out of range 1-4", t)
			}
		}
		if f.Cap != nil && (*f.Cap < 0 || *f.Cap > 100) {
			return fmt.Errorf("forceFail: cap %g out of range 0-100", *f.Cap)
		}
	}
	seen := map[string]bool{}
	for i, g := range r.Grades {
		if g.Grade == "" || seen[g.Grade] {
			return fmt.Errorf("grades[%d]: grade names must be present and distinct", i)
		}
		seen[g.Grade] = true
		if g.Min < 0 || g.Min > 100 || math.IsNaN(g.Min) {
			return fmt.Errorf("grades[%d] %s: min %g out of range 0-100", i, g.Grade, g.Min)
		}
		if i > 0 && g.Min >= r.Grades[i-1].Min {
			return fmt.Errorf("grades[%d] %s: minimums must decrease (best grade first)", i, g.Grade)
		}
	}
	if len(r.Grades) > 0 && r.Grades[len(r.Grades)-1].Min != 0 {
		return fmt.Errorf("grades: the last grade must have min 0 so that every score gets one")
	}
	probes := 0
	for name, s := range r.Syscalls {
		if s == nil {
			return fmt.Errorf("syscalls: %s: empty entry", name)
		}
		if s.Tier != nil && !validTier(*s.Tier) {
			return fmt.Errorf("syscalls: %s: tier %d out of range 1-4", name, *s.Tier)
		}
		if s.Weight != nil && !validWeight(*s.Weight) {
			return fmt.Errorf("syscalls: %s: weight must be a number between 0 and 1e6", name)
		}
		for j, u := range s.Uses {
			if u.Name == "" || !validTier(u.Tier) {
				return fmt.Errorf("syscalls: %s: uses[%d]: want a name and a tier 1-4", name, j)
			}
			if len(u.Probes) == 0 {
				return fmt.Errorf("syscalls: %s: use %q has no probes", name, u.Name)
			}
			for _, p := range u.Probes {
				if len(p) == 0 || len(p) > 6 {
					return fmt.Errorf("syscalls: %s: use %q: a probe has 1 to 6 argument values", name, u.Name)
				}
			}
			if probes += len(u.Probes); probes > maxProbes {
				return fmt.Errorf("syscalls: more than %d probes in all", maxProbes)
			}
		}
	}
	return nil
}

// Merge returns r with o's entries over it: tiers by number, syscalls by
// name and field, grades and forceFail whole.
func (r *Rules) Merge(o *Rules) *Rules {
	out := &Rules{Tiers: map[string]TierRule{}, ForceFail: r.ForceFail, Grades: r.Grades,
		Syscalls: map[string]*SyscallRule{}}
	for k, v := range r.Tiers {
		out.Tiers[k] = v
	}
	for k, v := range o.Tiers {
		out.Tiers[k] = v
	}
	if o.ForceFail != nil {
		out.ForceFail = o.ForceFail
	}
	if len(o.Grades) > 0 {
		out.Grades = o.Grades
	}
	for k, v := range r.Syscalls {
		c := *v
		out.Syscalls[k] = &c
	}
	for k, v := range o.Syscalls {
		cur, ok := out.Syscalls[k]
		if !ok {
			c := *v
			out.Syscalls[k] = &c
			continue
		}
		if v.Tier != nil {
			cur.Tier = v.Tier
		}
		if v.Weight != nil {
			cur.Weight = v.Weight
		}
		if v.Uses != nil {
			cur.Uses = v.Uses
		}
	}
	return out
}

// Effective returns the complete rules as Compute applies them: every
// syscall of the knowledge base with its tier, plus the rules' entries.
// --dump-rules prints it, so users see what to override.
func (r *Rules) Effective(kb *knowledge.Base) *Rules {
	out := r.Merge(&Rules{})
	for _, n := range kb.Names() {
		s, ok := out.Syscalls[n]
		if !ok {
			s = &SyscallRule{}
			out.Syscalls[n] = s
		}
		if s.Tier == nil {
			t := kb.Lookup(n).Tier
			s.Tier = &t
		}
	}
	return out
}

// Dump writes the rules as YAML.
func (r *Rules) Dump() ([]byte, error) {
	body, err := yaml.Marshal(r)
	if err != nil {
		return nil, err
	}
	head := "# seccomp-attest score rules (effective): tiers and weights, forced failing\n" +
		"# grade, grades, and every syscall of the knowledge base with its tier.\n" +
		"# Copy, edit and pass with --rules; see docs/score.md.\n"
	return append([]byte(head), body...), nil
}

// tierOf returns the tier of a syscall: the rules' override, else the
// knowledge base's.
func (r *Rules) tierOf(kb *knowledge.Base, name string) int {
	if s, ok := r.Syscalls[name]; ok && s.Tier != nil {
		return *s.Tier
	}
	return kb.Lookup(name).Tier
}

// tierWeight is the weight of a tier (0 when the rules do not say).
func (r *Rules) tierWeight(tier int) float64 {
	if t, ok := r.Tiers[strconv.Itoa(tier)]; ok && t.Weight != nil {
		return *t.Weight
	}
	return 0
}

// weightOf returns the weight of a permitted syscall.
func (r *Rules) weightOf(kb *knowledge.Base, name string) float64 {
	if s, ok := r.Syscalls[name]; ok && s.Weight != nil {
		return *s.Weight
	}
	return r.tierWeight(r.tierOf(kb, name))
}

func (r *Rules) usesOf(name string) []Use {
	if s, ok := r.Syscalls[name]; ok {
		return s.Uses
	}
	return nil
}

// ForcesFail reports whether a permitted syscall of the tier forces the
// failing grade.
func (r *Rules) ForcesFail(tier int) bool {
	return r.ForceFail != nil && slices.Contains(r.ForceFail.Tiers, tier)
}

// cap is the highest score a forced failing grade allows.
func (r *Rules) cap() float64 {
	if r.ForceFail != nil && r.ForceFail.Cap != nil {
		return *r.ForceFail.Cap
	}
	return 0
}

// grade returns the letter for a score; forced picks the last (failing) one.
func (r *Rules) grade(score float64, forced bool) string {
	if len(r.Grades) == 0 {
		return ""
	}
	if forced {
		return r.Grades[len(r.Grades)-1].Grade
	}
	gs := slices.Clone(r.Grades)
	sort.SliceStable(gs, func(i, j int) bool { return gs[i].Min > gs[j].Min })
	for _, g := range gs {
		if score >= g.Min {
			return g.Grade
		}
	}
	return gs[len(gs)-1].Grade
}
