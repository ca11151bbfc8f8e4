package policy

import (
	"path/filepath"
	"strings"
)

// BaselineFiles lists the files the policy's baselines are read from
// (profile:FILE, bundle:DIR's config.json, bpf:FILE[,FILE...]), absolute
// where the policy's own directory is known: a process that keeps the
// policy and its resolved baselines (seccomp-attestd) reloads it when one
// of them changes. Builtins have no file.
func (p *Policy) BaselineFiles() []string {
	var files []string
	for _, src := range p.Baselines {
		kind, rest, ok := strings.Cut(src, ":")
		if !ok {
			continue
		}
		switch kind {
		case "profile":
			files = append(files, p.resolvePath(rest))
		case "bundle":
			files = append(files, filepath.Join(p.resolvePath(rest), "config.json"))
		case "bpf":
			for _, f := range strings.Split(rest, ",") {
				files = append(files, p.resolvePath(f))
			}
		}
	}
	return files
}

// resolvePath is a baseline's path as resolveBaseline reads it.
func (p *Policy) resolvePath(path string) string {
	if filepath.IsAbs(path) || p.dir == "" {
		return path
	}
	return filepath.Join(p.dir, path)
}
