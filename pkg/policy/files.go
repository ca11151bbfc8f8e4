package policy

import "github.com/seccomp-attest/seccomp-attest/pkg/source"

// BaselineFiles lists the files the policy's baselines are read from
// (profile:FILE, bundle:DIR's config.json, bpf:FILE[,FILE...]), absolute
// where the policy's own directory is known: a process that keeps the
// policy and its resolved baselines (seccomp-attestd) reloads it when one
// of them changes. Builtins have no file. The files are those
// resolveBaseline reads (source.Resolver.Files).
func (p *Policy) BaselineFiles() []string {
	r := source.Resolver{Dir: p.dir}
	var files []string
	for _, text := range p.Baselines {
		// normalize has parsed every baseline: none fails here.
		if s, err := source.Baseline.Parse(text); err == nil {
			files = append(files, r.Files(s)...)
		}
	}
	return files
}
