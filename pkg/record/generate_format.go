package record

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	mobyseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"sigs.k8s.io/yaml"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

// Format is the form a generated profile is written in.
type Format string

const (
	// FormatOCI is a runtime-spec linux.seccomp object (runc, crun, and
	// what goes into a bundle's config.json).
	FormatOCI Format = "oci"
	// FormatDocker is a Docker/podman profile (moby/profiles' type, with
	// archMap), for `docker run --security-opt seccomp=FILE` and podman.
	FormatDocker Format = "docker"
	// FormatSPO is a Security Profiles Operator SeccompProfile resource
	// (YAML).
	FormatSPO Format = "spo"
)

// ParseFormat reads a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatOCI, FormatDocker, FormatSPO:
		return f, nil
	}
	return "", fmt.Errorf("unknown profile format %q (want oci, docker or spo)", s)
}

// IncompleteAnnotation marks an SPO resource generated from an incomplete
// recording; its value says why.
const IncompleteAnnotation = "seccomp-attest.dev/incomplete-recording"

// Encode writes the profile in format f. name is the SPO resource's
// metadata.name (made a valid Kubernetes name). An incomplete profile is
// marked where the format has room: a comment on every Docker rule, an
// annotation on the SPO resource; the OCI form has no field for it (its
// loaders refuse unknown keys), so the mark there is the attestation's
// recording.complete=false and the warning printed by the CLI.
func (g *Generated) Encode(f Format, name string) ([]byte, error) {
	var out []byte
	var err error
	switch f {
	case FormatOCI:
		out, err = json.MarshalIndent(g.Seccomp, "", "  ")
	case FormatDocker:
		out, err = json.MarshalIndent(g.docker(), "", "  ")
	case FormatSPO:
		out, err = yaml.Marshal(g.spo(name))
	default:
		return nil, fmt.Errorf("unknown profile format %q", f)
	}
	if err != nil {
		return nil, fmt.Errorf("encode %s profile: %w", f, err)
	}
	if f != FormatSPO {
		out = append(out, '\n')
	}
	return out, nil
}

// docker is the profile as moby/profiles writes one: architectures in an
// archMap entry per native architecture (Docker picks the host's entry),
// rules with comments.
func (g *Generated) docker() *mobyseccomp.Seccomp {
	p := &mobyseccomp.Seccomp{}
	p.DefaultAction = g.Seccomp.DefaultAction
	p.DefaultErrnoRet = g.Seccomp.DefaultErrnoRet
	p.ArchMap = archMap(g.Seccomp.Architectures)
	p.Syscalls = []*mobyseccomp.Syscall{}
	for _, s := range g.Seccomp.Syscalls {
		c := &mobyseccomp.Syscall{LinuxSyscall: s}
		switch {
		case s.Action == specs.ActAllow:
			c.Comment = "recorded (or added, as the generator's notes say)"
		case s.Names[0] == "clone3":
			c.Comment = "recorded, answered ENOSYS so that the C library falls back to clone, whose namespace flags the profile tests"
		default:
			c.Comment = "not recorded: named so that runc answers ENOSYS only above the syscalls seccomp-attest knows"
		}
		if g.Incomplete {
			c.Comment = "INCOMPLETE recording (" + g.Problem + "); " + c.Comment
		}
		p.Syscalls = append(p.Syscalls, c)
	}
	return p
}

// compatOf lists the 32-bit ABIs a 64-bit architecture runs, the way
// Docker's default profile groups them.
var compatOf = map[*arch.Arch][]*arch.Arch{
	arch.X86_64:   {arch.X86, arch.X32},
	arch.AArch64:  {arch.ARM},
	arch.S390X:    {arch.S390},
	arch.MIPS64:   {arch.MIPS},
	arch.MIPSEL64: {arch.MIPSEL},
}

// archMap groups the recorded architectures under their 64-bit
// architecture. A 32-bit ABI recorded without it gets an entry of its own
// (for a host whose native architecture it is) and is also listed under
// its 64-bit architecture: Docker takes the entry of the host's native
// architecture only, and on a 64-bit host the OCI form (whose native
// architecture libseccomp always adds) allows the 32-bit calls too.
func archMap(arches []specs.Arch) []mobyseccomp.Architecture {
	recorded := map[*arch.Arch]specs.Arch{}
	for _, s := range arches {
		if a, err := arch.ByName(string(s)); err == nil {
			recorded[a] = s
		}
	}
	grouped := map[*arch.Arch]bool{}
	var out []mobyseccomp.Architecture
	for _, a := range arch.All {
		_, isRecorded := recorded[a]
		if grouped[a] {
			continue
		}
		entry := mobyseccomp.Architecture{Arch: specs.Arch("SCMP_ARCH_" + strings.ToUpper(a.Name)), SubArches: []specs.Arch{}}
		if isRecorded {
			entry.Arch = recorded[a]
		}
		for _, c := range arch.All { // in the order of the OCI form
			if cs, ok := recorded[c]; ok && slices.Contains(compatOf[a], c) {
				entry.SubArches = append(entry.SubArches, cs)
				if isRecorded {
					grouped[c] = true
				}
			}
		}
		if isRecorded || len(entry.SubArches) > 0 {
			out = append(out, entry)
		}
	}
	return out
}

// spoProfile is a SeccompProfile resource with the field names of the
// operator's API (security-profiles-operator.x-k8s.io/v1beta1); see
// pkg/spec/spo.go for why the operator's Go types are not imported.
type spoProfile struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Metadata   spoMetadata `json:"metadata"`
	Spec       spoSpec     `json:"spec"`
}

type spoMetadata struct {
	Name        string            `json:"name"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type spoSpec struct {
	DefaultAction specs.LinuxSeccompAction `json:"defaultAction"`
	Architectures []specs.Arch             `json:"architectures,omitempty"`
	Syscalls      []spoSyscall             `json:"syscalls,omitempty"`
}

type spoSyscall struct {
	Names  []string                 `json:"names"`
	Action specs.LinuxSeccompAction `json:"action"`
	// ErrnoRet is a string in the operator's current API.
	ErrnoRet string   `json:"errnoRet,omitempty"`
	Args     []spoArg `json:"args,omitempty"`
}

type spoArg struct {
	Index    uint                       `json:"index"`
	Value    uint64                     `json:"value,omitempty"`
	ValueTwo uint64                     `json:"valueTwo,omitempty"`
	Op       specs.LinuxSeccompOperator `json:"op"`
}

// spo is the profile as a SeccompProfile. The operator's spec has no
// defaultErrnoRet: SCMP_ACT_ERRNO without one is EPERM in every runtime.
func (g *Generated) spo(name string) *spoProfile {
	p := &spoProfile{
		APIVersion: "security-profiles-operator.x-k8s.io/v1beta1",
		Kind:       "SeccompProfile",
		Metadata:   spoMetadata{Name: kubernetesName(name)},
		Spec: spoSpec{DefaultAction: g.Seccomp.DefaultAction, Architectures: g.Seccomp.Architectures,
			Syscalls: []spoSyscall{}},
	}
	if g.Incomplete {
		p.Metadata.Annotations = map[string]string{IncompleteAnnotation: g.Problem}
	}
	for _, s := range g.Seccomp.Syscalls {
		c := spoSyscall{Names: s.Names, Action: s.Action}
		if s.ErrnoRet != nil && *s.ErrnoRet != errnoEPERM {
			c.ErrnoRet = strconv.FormatUint(uint64(*s.ErrnoRet), 10)
		}
		for _, a := range s.Args {
			c.Args = append(c.Args, spoArg{Index: a.Index, Value: a.Value, ValueTwo: a.ValueTwo, Op: a.Op})
		}
		p.Spec.Syscalls = append(p.Spec.Syscalls, c)
	}
	return p
}

var notInName = regexp.MustCompile(`[^a-z0-9.-]+`)

// kubernetesName makes s a DNS subdomain name (lowercase alphanumerics,
// '-' and '.', starting and ending alphanumeric, at most 253 characters).
func kubernetesName(s string) string {
	n := notInName.ReplaceAllString(strings.ToLower(s), "-")
	n = strings.Trim(n, "-.")
	if len(n) > 253 {
		n = strings.Trim(n[:253], "-.")
	}
	if n == "" {
		n = "recorded-profile"
	}
	return n
}
