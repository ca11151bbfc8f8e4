// Package spec loads intended seccomp profiles as people and runtimes write
// them — an OCI bundle's config.json, a bare OCI linux.seccomp object, a
// Docker (moby) profile, a podman/CRI-O (containers/common) profile, a
// Security Profiles Operator SeccompProfile (YAML), or a built-in default —
// and compiles them into the filters a runtime would
// load (Compile, which needs -tags libseccomp). The other way, FromTable
// writes the decision table of a filter as an OCI profile that is never
// weaker than the filter (see pkg/ociprofile for the profile checked by
// compiling it again).
//
// The loaders use the upstream types and resolvers: specs.LinuxSeccomp from
// runtime-spec, moby/profiles/seccomp for Docker profiles (includes and
// excludes by capability, architecture and minimum kernel) and
// containers/common/pkg/seccomp for podman's types and default profile.
//
// The compiler is not runc's: libcontainer/seccomp exports only loaders
// (InitSeccomp and patchbpf.PatchAndLoad install the filter on the calling
// process and never return it) and keeps its ENOSYS stub generator
// unexported. Compile drives the host's libseccomp as runc and crun do and
// prepends its own stub (enosysStub). Tests hold it to filters captured
// from live runc and crun containers (TestCompileMatchesCapturedFixtures,
// TestEngineBuiltinsMatchCapturedDefaults and others, on the fixtures in
// pkg/bytecode/testdata/fixtures); docs/compile.md has the details.
package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"sigs.k8s.io/yaml"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// Format says how an intended profile was written.
type Format string

const (
	// FormatBundle is an OCI runtime config.json (linux.seccomp,
	// process.capabilities, annotations).
	FormatBundle Format = "oci-config"
	// FormatOCI is a bare OCI linux.seccomp object.
	FormatOCI Format = "oci-seccomp"
	// FormatDocker is a Docker/moby profile (archMap, includes/excludes,
	// minKernel), resolved for a capability set.
	FormatDocker Format = "docker"
	// FormatPodman is a podman/CRI-O profile (containers/common: errno
	// names in "errno"/"defaultErrno"), resolved for a capability set.
	FormatPodman Format = "podman"
	// FormatSPO is a Security Profiles Operator SeccompProfile resource
	// (YAML or JSON), read like the podman/CRI-O profile it installs.
	FormatSPO Format = "spo-seccompprofile"
	// FormatBuiltin is one of the built-in default profiles.
	FormatBuiltin Format = "builtin"
)

// AnnotationBPFData is crun's annotation carrying a raw filter (base64 of
// struct sock_filter bytes). crun loads that filter instead of the
// config's linux.seccomp; runc ignores the annotation.
const AnnotationBPFData = "run.oci.seccomp_bpf_data"

// Profile is an intended seccomp configuration, resolved to the OCI form a
// runtime compiles.
type Profile struct {
	// Source says where the profile came from: a file, a bundle, or a
	// built-in with the pinned upstream module version it comes from.
	Source string
	Format Format
	// Seccomp is the profile a runtime compiles; nil when the
	// configuration asks for no seccomp filter at all.
	Seccomp *specs.LinuxSeccomp
	// Capabilities is the bounding set the profile was resolved for
	// (Docker and podman formats) or the bundle's process bounding set.
	// Nil when unknown (bare OCI profiles).
	Capabilities []string
	// Annotations are the bundle's annotations.
	Annotations map[string]string
	// RawFilter is the filter of the run.oci.seccomp_bpf_data annotation.
	// crun loads it instead of Seccomp, so for crun it is the intended
	// filter and Seccomp is only what the config shows.
	RawFilter *bytecode.Filter
	// Notes are statements about the profile a reviewer must see, such as
	// a raw filter replacing the profile.
	Notes []string
}

// Options control how profiles are resolved.
type Options struct {
	// Capabilities is the bounding set for which Docker and podman
	// profiles are resolved (rules with includes/excludes on caps). Nil
	// means the engine's default set (DockerDefaultCapabilities or
	// PodmanDefaultCapabilities); an empty non-nil slice means none.
	Capabilities []string
}

// Stack returns the filter stack runtime ("runc" or "crun") would load for
// the profile: crun's raw annotation filter when present, nothing when the
// configuration has no seccomp, else the compiled profile.
func (p *Profile) Stack(runtime string) (bytecode.Stack, error) {
	if err := checkRuntime(runtime); err != nil {
		return nil, err
	}
	if runtime == RuntimeCrun && p.RawFilter != nil {
		return bytecode.Stack{p.RawFilter}, nil
	}
	if p.Seccomp == nil {
		return nil, nil
	}
	s, err := Compile(p.Seccomp, runtime)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Source, err)
	}
	return s, nil
}

// MaxRules is the most libseccomp rules (one per syscall name of a rule, or
// per condition where Compile splits them) a profile may compile to.
// libseccomp's time grows with their square: 2048 distinct conditions on
// one syscall take 0.4 s, 4096 take 2 s, 20000 half a minute. Docker's
// default adds about 400, and more than about 2000 distinct conditions do
// not fit the 4096 instructions of a filter anyway.
const MaxRules = 2048

// Runtimes whose compilation Compile reproduces.
const (
	RuntimeRunc = "runc"
	RuntimeCrun = "crun"
)

func checkRuntime(runtime string) error {
	if runtime != RuntimeRunc && runtime != RuntimeCrun {
		return fmt.Errorf("unknown runtime %q (want %s or %s)", runtime, RuntimeRunc, RuntimeCrun)
	}
	return nil
}

// Load reads an intended profile from path: a bundle directory (with a
// config.json) or a JSON file in any supported format, detected from its
// content.
func Load(path string, opts Options) (*Profile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return LoadBundle(path)
	}
	data, err := inputfile.Read(path, inputfile.Profile)
	if err != nil {
		return nil, err
	}
	return Parse(data, path, opts)
}

// LoadBundle reads the config.json of the OCI bundle directory dir.
func LoadBundle(dir string) (*Profile, error) {
	path := filepath.Join(dir, "config.json")
	data, err := inputfile.Read(path, inputfile.Profile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("bundle %s: no config.json", dir)
		}
		return nil, err
	}
	return ParseBundle(data, path)
}

// ParseBundle parses the bytes of a bundle's config.json read from path,
// for callers that must judge and digest the very same bytes.
func ParseBundle(data []byte, path string) (*Profile, error) {
	return parseConfig(data, path)
}

// Parse detects the format of data (read from name, used in messages and
// as the Source) and loads it. JSON is read as is; anything else is taken
// for YAML (a Kubernetes resource) and converted first.
func Parse(data []byte, name string, opts Options) (*Profile, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] != '{' {
		j, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("%s: not JSON, and invalid YAML: %v", name, err)
		}
		data = j
	}
	top, err := decodeObject(data, name)
	if err != nil {
		return nil, err
	}
	switch f := detect(top); f {
	case FormatSPO:
		return parseSPO(data, name, opts)
	case FormatBundle:
		return parseConfig(data, name)
	case FormatPodman:
		return parsePodman(data, name, opts)
	case FormatDocker:
		return parseDocker(data, name, opts)
	case FormatOCI:
		var sc specs.LinuxSeccomp
		if err := strictUnmarshal(data, &sc); err != nil {
			return nil, jsonError(name, data, err)
		}
		return &Profile{Source: name, Format: FormatOCI, Seccomp: &sc}, nil
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return nil, fmt.Errorf("%s: unknown format: want an OCI config.json (ociVersion, process, linux), "+
		"an OCI linux.seccomp object, a Docker/podman profile (defaultAction, syscalls) "+
		"or a SeccompProfile resource (apiVersion, kind, spec); found keys [%s]",
		name, strings.Join(keys, ", "))
}

// decodeObject decodes the top level of a JSON document, which must be an
// object, with errors that name the file, line and column.
func decodeObject(data []byte, name string) (map[string]json.RawMessage, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, jsonError(name, data, err)
	}
	if top == nil {
		return nil, fmt.Errorf("%s: unknown format: the JSON document is null, want an object", name)
	}
	return top, nil
}

// detect tells the formats apart by their distinguishing keys. Podman and
// Docker profiles share most of their shape; only podman's errno names
// ("defaultErrno", per-rule "errno") mark a podman profile, so a podman
// profile without them is read as a Docker one — the resolution of such a
// profile is the same in both engines.
func detect(top map[string]json.RawMessage) Format {
	if isSPO(top) {
		return FormatSPO
	}
	for _, k := range []string{"ociVersion", "process", "linux", "root"} {
		if _, ok := top[k]; ok {
			return FormatBundle
		}
	}
	_, hasDefault := top["defaultAction"]
	_, hasSyscalls := top["syscalls"]
	if !hasDefault && !hasSyscalls {
		return ""
	}
	if _, ok := top["defaultErrno"]; ok {
		return FormatPodman
	}
	docker := false
	if _, ok := top["archMap"]; ok {
		docker = true
	}
	var calls []map[string]json.RawMessage
	if raw, ok := top["syscalls"]; ok {
		// A shape error is reported by the format's own decoder.
		_ = json.Unmarshal(raw, &calls)
	}
	for _, c := range calls {
		if _, ok := c["errno"]; ok {
			return FormatPodman
		}
		for _, k := range []string{"name", "includes", "excludes", "comment"} {
			if _, ok := c[k]; ok {
				docker = true
			}
		}
	}
	if docker {
		return FormatDocker
	}
	return FormatOCI
}

// strictUnmarshal rejects unknown fields: a bare OCI profile with a
// misspelt key would otherwise silently lose a rule's condition.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// jsonError turns a decoding error into one that names the file and, where
// the decoder knows it, the line and column.
func jsonError(name string, data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset counts the offending byte too.
		line, col := position(data, syn.Offset-1)
		return fmt.Errorf("%s:%d:%d: invalid JSON: %v", name, line, col, syn)
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset)
		field := typ.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Errorf("%s:%d:%d: field %s: JSON %s where %s is expected", name, line, col, field, typ.Value, typ.Type)
	}
	return fmt.Errorf("%s: %v", name, err)
}

// position converts a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	off = max(0, min(off, int64(len(data))))
	line, col = 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
