package report

import (
	"sort"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
)

// Fleet summarises many containers.
type Fleet struct {
	Total, Pass, Fail, Error, None, Invalid int
	// Attestations is the number of files read; Containers holds the
	// latest per container id.
	Attestations int
	Worst        []WorstSyscall
	// MoreWorst counts the syscalls left out of Worst.
	MoreWorst int
}

// WorstSyscall is a syscall weaker than intended in some containers.
type WorstSyscall struct {
	Syscall    string
	Arches     []string
	Containers []string
	Knowledge  string
	tier       int
}

// foldAgreeingArches keeps open, on a fleet page, only the architectures
// with rows weaker than intended: the page stays scannable with many
// containers.
func foldAgreeingArches(cs []*Container) {
	for _, c := range cs {
		for _, g := range c.Groups {
			for _, a := range g.Arches {
				a.Open = false
				for _, r := range a.Rows {
					if r.Status == compare.Weaker.String() || r.Status == compare.Undecided.String() {
						a.Open = true
						break
					}
				}
			}
		}
	}
}

// fullDetailContainers is the largest fleet page that shows every
// container's full table; larger ones show the differences only (a full
// table is about 250 KB of HTML), and the page of one attestation has the
// rest.
const fullDetailContainers = 10

func keepDifferencesOnly(cs []*Container) {
	for _, c := range cs {
		for _, g := range c.Groups {
			for _, a := range g.Arches {
				kept := a.Rows[:0]
				for _, r := range a.Rows {
					if r.Status != "" {
						kept = append(kept, r)
					}
				}
				a.Omitted = len(a.Rows) - len(kept)
				for _, d := range a.Denied {
					a.Omitted += len(d.Names)
				}
				a.Rows, a.Denied = kept, nil
			}
		}
	}
}

// latestPerContainer keeps the last attestation of each container id, in
// the order of their first appearance.
func latestPerContainer(cs []*Container) []*Container {
	index := map[string]int{}
	var out []*Container
	for _, c := range cs {
		if i, ok := index[c.ID]; ok {
			if c.Sequence >= out[i].Sequence {
				out[i] = c
			}
			continue
		}
		index[c.ID] = len(out)
		out = append(out, c)
	}
	return out
}

// unknownTier ranks syscalls the knowledge base does not rate after
// every rated one.
const unknownTier = 99

// maxWorst bounds the fleet's list of worst syscalls; the per-container
// tables have the rest.
const maxWorst = 40

// fleet counts verdicts and collects the named syscalls that are weaker
// than intended, the most widespread first, then the riskiest (unnamed numbers are counted
// per container, not listed: they carry no meaning of their own).
func fleet(cs []*Container, attestations int, kb Knowledge) *Fleet {
	f := &Fleet{Total: len(cs), Attestations: attestations}
	type seen struct{ arches, containers map[string]bool }
	worst := map[string]*seen{}
	for _, c := range cs {
		switch c.Verdict {
		case attest.ResultPass:
			f.Pass++
		case attest.ResultFail:
			f.Fail++
		case attest.ResultError:
			f.Error++
		case "invalid":
			f.Invalid++
		default:
			f.None++
		}
		for _, g := range c.Groups {
			for _, a := range g.Arches {
				for _, r := range a.Rows {
					if r.Status != compare.Weaker.String() && r.Status != compare.Undecided.String() {
						continue
					}
					if strings.HasPrefix(r.Label, "nr ") {
						continue
					}
					w := worst[r.Label]
					if w == nil {
						w = &seen{map[string]bool{}, map[string]bool{}}
						worst[r.Label] = w
					}
					w.arches[a.Name], w.containers[c.ID] = true, true
				}
			}
		}
	}
	for name, s := range worst {
		w := WorstSyscall{Syscall: name, Arches: sortedKeys(s.arches), Containers: sortedKeys(s.containers), tier: unknownTier}
		if kb != nil {
			e := kb(name)
			w.Knowledge = e.Text
			if e.Tier > 0 {
				w.tier = e.Tier
			}
		}
		f.Worst = append(f.Worst, w)
	}
	sort.Slice(f.Worst, func(i, j int) bool {
		a, b := f.Worst[i], f.Worst[j]
		if len(a.Containers) != len(b.Containers) {
			return len(a.Containers) > len(b.Containers)
		}
		if a.tier != b.tier {
			return a.tier < b.tier
		}
		if len(a.Arches) != len(b.Arches) {
			return len(a.Arches) > len(b.Arches)
		}
		return a.Syscall < b.Syscall
	})
	if len(f.Worst) > maxWorst {
		f.MoreWorst = len(f.Worst) - maxWorst
		f.Worst = f.Worst[:maxWorst]
	}
	return f
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
