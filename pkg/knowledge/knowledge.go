// Package knowledge is the project's syscall knowledge base: for each
// syscall what it does, why it matters in a container, notable CVEs or
// escape techniques, its risk tier and which of its arguments the kernel
// reads as 32-bit values; plus the groups of syscalls that can stand in for
// each other (alternatives, in-memory arguments, io_uring). The data is
// embedded YAML (syscalls.yaml), written for this project.
package knowledge

import (
	_ "embed"
	"fmt"
	"slices"
	"sort"
	"sync"

	"sigs.k8s.io/yaml"
)

// Tiers: 1 is the most dangerous.
const (
	TierCritical = 1
	TierHigh     = 2
	TierMedium   = 3
	TierOrdinary = 4
)

// DefaultTier is the tier of a syscall the knowledge base does not list.
const DefaultTier = TierOrdinary

// Syscall is what the knowledge base says about one syscall.
type Syscall struct {
	Name       string   `json:"name"`
	Tier       int      `json:"tier"`
	What       string   `json:"what"`
	Risk       string   `json:"risk"`
	CVEs       []string `json:"cves,omitempty"`
	Capability string   `json:"capability,omitempty"`
	// Args32 are argument positions the kernel reads as 32-bit values.
	Args32 []int `json:"args32,omitempty"`
	// Known is false for syscalls the base does not list (a default entry).
	Known bool `json:"-"`
}

// MemoryArgs is a syscall that takes in memory what the covered syscalls
// take in registers, so seccomp cannot filter it the same way.
type MemoryArgs struct {
	Syscall string   `json:"syscall"`
	Covers  []string `json:"covers"`
}

// Base is the whole knowledge base.
type Base struct {
	Syscalls     []Syscall    `json:"syscalls"`
	Alternatives [][]string   `json:"alternatives"`
	MemoryArgs   []MemoryArgs `json:"memoryArgs"`
	IOUring      []string     `json:"iouring"`

	byName  map[string]*Syscall
	altOnce sync.Once
	alts    map[string][]string
}

//go:embed syscalls.yaml
var embedded []byte

var (
	loadOnce sync.Once
	base     *Base
)

// Default returns the embedded knowledge base.
func Default() *Base {
	loadOnce.Do(func() {
		b, err := parse(embedded)
		if err != nil {
			panic(fmt.Sprintf("embedded knowledge base: %v", err))
		}
		base = b
	})
	return base
}

func parse(data []byte) (*Base, error) {
	b := &Base{}
	if err := yaml.UnmarshalStrict(data, b); err != nil {
		return nil, err
	}
	b.byName = make(map[string]*Syscall, len(b.Syscalls))
	for i := range b.Syscalls {
		s := &b.Syscalls[i]
		if s.Tier < TierCritical || s.Tier > TierOrdinary {
			return nil, fmt.Errorf("syscall %s: tier %d out of range 1-4", s.Name, s.Tier)
		}
		if _, dup := b.byName[s.Name]; dup {
			return nil, fmt.Errorf("syscall %s listed twice", s.Name)
		}
		for _, a := range s.Args32 {
			if a < 0 || a > 5 {
				return nil, fmt.Errorf("syscall %s: args32 position %d out of range 0-5", s.Name, a)
			}
		}
		s.Known = true
		b.byName[s.Name] = s
	}
	return b, nil
}

// Lookup returns the entry for a syscall; unknown names get a default
// entry (tier 4, Known false).
func (b *Base) Lookup(name string) Syscall {
	if s, ok := b.byName[name]; ok {
		return *s
	}
	return Syscall{Name: name, Tier: DefaultTier,
		What: "not described by the knowledge base", Risk: "no known container-specific risk"}
}

// Has reports whether the base describes the syscall.
func (b *Base) Has(name string) bool {
	_, ok := b.byName[name]
	return ok
}

// Is32BitArg reports whether the kernel reads argument i of the syscall as
// a 32-bit value.
func (b *Base) Is32BitArg(name string, i int) bool {
	s, ok := b.byName[name]
	return ok && slices.Contains(s.Args32, i)
}

// Names returns the names the base describes, sorted.
func (b *Base) Names() []string {
	out := make([]string, 0, len(b.byName))
	for n := range b.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// AlternativesOf returns the syscalls that can do the work of name (from
// every group it is in), without name itself.
func (b *Base) AlternativesOf(name string) []string {
	b.altOnce.Do(func() {
		b.alts = map[string][]string{}
		for _, g := range b.Alternatives {
			for _, n := range g {
				b.alts[n] = b.alternativesOf(n)
			}
		}
	})
	return b.alts[name]
}

func (b *Base) alternativesOf(name string) []string {
	var out []string
	for _, g := range b.Alternatives {
		if !slices.Contains(g, name) {
			continue
		}
		for _, o := range g {
			if o != name && !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}
