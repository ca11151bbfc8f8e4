// Package policy decides whether a process's effective seccomp filter is
// acceptable: a policy file (YAML or JSON, see docs/policy.md) names
// baselines the filter must not be weaker than, syscalls it must deny, and
// exceptions; Evaluate turns the semantic comparisons of package compare into
// a pass/fail verdict whose every failing reason carries a confirmed input.
package policy

import (
	"bytes"
	"embed"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/source"
)

// Modes of a policy.
const (
	// ModeEnforce fails the verdict on any violation, including parts the
	// analysis could not decide (fail closed).
	ModeEnforce = "enforce"
	// ModeAudit records violations as reasons but always passes.
	ModeAudit = "audit"
)

// Policy is a parsed policy file. The zero values of omitted fields are
// replaced by the defaults of the embedded default policy.
type Policy struct {
	// Mode is enforce (default) or audit.
	Mode string `json:"mode,omitempty"`
	// Baselines are filter sources (builtin:NAME, profile:FILE,
	// bundle:DIR, bpf:FILE[,FILE...]). The effective filter fails only
	// where it is weaker than every baseline at the same input, so that a
	// container under either engine's default passes. Not omitempty:
	// an explicit empty list (no baseline rule) differs from an omitted
	// one (the defaults), and must stay so when the policy is encoded.
	Baselines []string `json:"baselines"`
	// NotWeakerThanIntended fails an effective filter weaker than the
	// container's own intended profile, when that is known.
	NotWeakerThanIntended *bool `json:"notWeakerThanIntended,omitempty"`
	// DenySyscalls must be denied for every argument value on x86_64, x32
	// and x86.
	DenySyscalls []string `json:"denySyscalls,omitempty"`
	// AllowUnconfined lets a process without any seccomp filter pass.
	AllowUnconfined bool `json:"allowUnconfined,omitempty"`
	// MinScore is the lowest acceptable score of the effective filter
	// (package score, 0-100).
	MinScore *float64 `json:"minScore,omitempty"`
	// Exceptions turn a failing verdict into a pass with the recorded
	// reason.
	Exceptions []Exception `json:"exceptions,omitempty"`

	// source names the file (or embedded preset) for error messages;
	// dir resolves relative baseline paths.
	source string
	dir    string

	// baselineCache holds compiled baselines by source, runtime and
	// capabilities (see loadBaseline).
	cacheMu       sync.Mutex
	baselineCache map[string]bytecode.Stack
}

// Exception matches containers by name and/or annotation; every field given
// must match.
type Exception struct {
	// Name is an RE2 regular expression matched against the container
	// name (unanchored: write ^...$ for a whole-name match).
	Name string `json:"name,omitempty"`
	// Annotation is "key=value", matched exactly.
	Annotation string `json:"annotation,omitempty"`
	// Reason is required and recorded in the verdict.
	Reason string `json:"reason"`

	nameRE         *regexp.Regexp
	annKey, annVal string
}

//go:embed default.yaml presets/*.yaml
var embedded embed.FS

// Default returns the embedded default policy.
func Default() *Policy {
	p, err := Preset("default")
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return p
}

// PresetNames lists the shipped policies Preset accepts.
func PresetNames() []string { return []string{"default", "strict"} }

// Preset returns a shipped policy: "default" or "strict".
func Preset(name string) (*Policy, error) {
	path := "presets/" + name + ".yaml"
	if name == "default" {
		path = "default.yaml"
	}
	data, err := embedded.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("unknown policy preset %q (want one of %s)", name, strings.Join(PresetNames(), ", "))
	}
	return Parse(data, "preset:"+name, "")
}

// Load reads a policy file; relative paths in its baselines are resolved
// from the file's directory.
func Load(path string) (*Policy, error) {
	data, err := inputfile.Read(path, inputfile.Policy)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return Parse(data, path, filepath.Dir(path))
}

// Parse parses a policy in YAML or JSON. name is used in error messages, dir
// resolves relative baseline paths ("" for the working directory).
func Parse(data []byte, name, dir string) (*Policy, error) {
	p := &Policy{source: name, dir: dir}
	// Strict decoding: a misspelt key would otherwise silently disable a
	// rule.
	if err := yaml.UnmarshalStrict(data, p); err != nil {
		return nil, fmt.Errorf("policy %s: %s", name, cleanYAMLError(err))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("policy %s: empty file", name)
	}
	if err := p.normalize(); err != nil {
		return nil, fmt.Errorf("policy %s: %w", name, err)
	}
	return p, nil
}

// cleanYAMLError drops the decoder layers' prefixes so the message names the
// offending key plainly, e.g. `unknown field "denySyscall"`.
func cleanYAMLError(err error) string {
	msg := err.Error()
	for _, prefix := range []string{"error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
		msg = strings.ReplaceAll(msg, prefix, "")
	}
	return msg
}

func (p *Policy) normalize() error {
	switch p.Mode {
	case "":
		p.Mode = ModeEnforce
	case ModeEnforce, ModeAudit:
	default:
		return fmt.Errorf("mode %q: want enforce or audit", p.Mode)
	}
	// An explicit empty list (baselines: []) disables the rule; only an
	// omitted key takes the default.
	if p.Baselines == nil {
		p.Baselines = DefaultBaselines()
	}
	// A misspelt baseline is refused with the policy, not at the first
	// container judged; its files are read then.
	for _, b := range p.Baselines {
		if _, err := source.Baseline.Parse(b); err != nil {
			return fmt.Errorf("baselines: %w", err)
		}
	}
	if p.NotWeakerThanIntended == nil {
		t := true
		p.NotWeakerThanIntended = &t
	}
	// Scores run from 0 to 100: a minimum above 100 would fail every
	// filter and one below 0 none, both surely a typing error.
	if p.MinScore != nil && !(*p.MinScore >= 0 && *p.MinScore <= 100) {
		return fmt.Errorf("minScore %v: want a score from 0 to 100", *p.MinScore)
	}
	seen := map[string]bool{}
	for _, s := range p.DenySyscalls {
		if s == "" || strings.ContainsAny(s, " \t:") {
			return fmt.Errorf("denySyscalls: %q is not a syscall name", s)
		}
		if seen[s] {
			return fmt.Errorf("denySyscalls: %q is listed twice", s)
		}
		seen[s] = true
	}
	for i := range p.Exceptions {
		e := &p.Exceptions[i]
		if e.Reason == "" {
			return fmt.Errorf("exceptions[%d]: reason is required", i)
		}
		if e.Name == "" && e.Annotation == "" {
			return fmt.Errorf("exceptions[%d]: give name and/or annotation", i)
		}
		if e.Name != "" {
			re, err := regexp.Compile(e.Name)
			if err != nil {
				return fmt.Errorf("exceptions[%d].name: %w", i, err)
			}
			e.nameRE = re
		}
		if e.Annotation != "" {
			k, v, ok := strings.Cut(e.Annotation, "=")
			if !ok || k == "" {
				return fmt.Errorf("exceptions[%d].annotation %q: want key=value", i, e.Annotation)
			}
			e.annKey, e.annVal = k, v
		}
	}
	return nil
}

// DefaultBaselines are the baselines of a policy that does not name any:
// the default profiles of current Docker and podman releases and of the
// engines Debian 12 ships (Docker 20.10, podman 4.3.1). Each allows a few
// things the others deny (20.10 allows io_uring, podman 4.3.1 the i386
// sigaction family), and a container under any of them must pass.
func DefaultBaselines() []string {
	return []string{"builtin:docker-default", "builtin:podman-default", "builtin:docker-20.10", "builtin:podman-4.3"}
}

// Source is the file or preset the policy was read from.
func (p *Policy) Source() string { return p.source }

// matches reports whether the exception applies to a container.
func (e *Exception) matches(name string, annotations map[string]string) bool {
	if e.nameRE != nil && !e.nameRE.MatchString(name) {
		return false
	}
	if e.Annotation != "" {
		v, ok := annotations[e.annKey]
		if !ok || v != e.annVal {
			return false
		}
	}
	return true
}
