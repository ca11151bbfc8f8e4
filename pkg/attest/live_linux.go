package attest

import (
	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
)

// EffectiveFromProcess converts the filters read from a live process into
// the predicate's form, one entry per group of threads with the same
// filters.
func EffectiveFromProcess(p *procfilters.ProcessFilters) Effective {
	eff := Effective{Threads: []ThreadGroup{}}
	for _, g := range p.Groups() {
		raw := make([]RawFilter, len(g.Filters))
		for i, lf := range g.Filters {
			raw[i] = RawFilter{BPF: lf.Filter.Bytes(), Log: lf.Log}
		}
		eff.Threads = append(eff.Threads, NewThreadGroup(g.TIDs, g.Mode.String(), raw))
	}
	return eff
}
