package spec

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	ccseccomp "github.com/containers/common/pkg/seccomp"
)

// The Security Profiles Operator's SeccompProfile custom resource (the
// version this loader reads).
const (
	spoAPIVersion = "security-profiles-operator.x-k8s.io/v1beta1"
	spoKind       = "SeccompProfile"
)

// spoResource is the part of a SeccompProfile this loader reads. SPO's own
// Go types (sigs.k8s.io/security-profiles-operator/api/seccompprofile/
// v1beta1) are not imported: that package pulls in controller-runtime,
// k8s.io/apimachinery and SPO's internal packages, whose module
// requirements would move versions every other package here shares. The
// spec mirrors containers/common's profile type (SPO says so and CRI-O
// loads the installed profile with containers/common), so it is decoded
// here and handed to the same resolver as a podman profile.
type spoResource struct {
	APIVersion string                `json:"apiVersion"`
	Kind       string                `json:"kind"`
	Metadata   struct{ Name string } `json:"metadata"`
	Spec       json.RawMessage       `json:"spec"`
	// Status and the rest of metadata are the cluster's business.
}

type spoSpec struct {
	BaseProfileName  string        `json:"baseProfileName,omitempty"`
	DefaultAction    string        `json:"defaultAction"`
	Architectures    []string      `json:"architectures,omitempty"`
	ListenerPath     string        `json:"listenerPath,omitempty"`
	ListenerMetadata string        `json:"listenerMetadata,omitempty"`
	Syscalls         []*spoSyscall `json:"syscalls,omitempty"`
	Flags            []string      `json:"flags,omitempty"`
}

type spoSyscall struct {
	Names  []string `json:"names"`
	Action string   `json:"action"`
	// ErrnoRet is a string in current SPO releases (a number or a name
	// such as EPERM) and was a number before.
	ErrnoRet json.RawMessage  `json:"errnoRet,omitempty"`
	Args     []*ccseccomp.Arg `json:"args,omitempty"`
}

// isSPO tells a SeccompProfile resource (of any SPO API version, so that
// another version gets a clear error) from the other formats; other
// Kubernetes resources are of an unknown format.
func isSPO(top map[string]json.RawMessage) bool {
	var api, kind string
	_ = json.Unmarshal(top["apiVersion"], &api)
	_ = json.Unmarshal(top["kind"], &kind)
	return strings.HasPrefix(api, "security-profiles-operator.x-k8s.io/") || kind == spoKind
}

// parseSPO reads a SeccompProfile resource (converted from YAML to JSON).
func parseSPO(data []byte, name string, opts Options) (*Profile, error) {
	var res spoResource
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, jsonError(name, data, err)
	}
	if res.APIVersion != spoAPIVersion || res.Kind != spoKind {
		return nil, fmt.Errorf("%s: apiVersion %q kind %q: want a Security Profiles Operator %s %s",
			name, res.APIVersion, res.Kind, spoAPIVersion, spoKind)
	}
	if len(res.Spec) == 0 {
		return nil, fmt.Errorf("%s: SeccompProfile %q has no spec", name, res.Metadata.Name)
	}
	var spec spoSpec
	// Strict: a misspelt key would silently drop a rule or a condition.
	if err := strictUnmarshal(res.Spec, &spec); err != nil {
		return nil, fmt.Errorf("%s: spec: %w", name, jsonError(name, res.Spec, err))
	}
	if spec.BaseProfileName != "" {
		// The operator unions the base profile (another resource, or one
		// of its built-in runc/crun profiles) into this one before it
		// installs it; from a file alone the result is unknown.
		return nil, fmt.Errorf("%s: spec.baseProfileName %q: the operator merges that profile in, which cannot be resolved from this file; "+
			"give the installed profile (the JSON the operator writes on the node) instead", name, spec.BaseProfileName)
	}
	cfg := ccseccomp.Seccomp{
		DefaultAction: ccseccomp.Action(spec.DefaultAction), Flags: spec.Flags,
		ListenerPath: spec.ListenerPath, ListenerMetadata: spec.ListenerMetadata,
		Syscalls: []*ccseccomp.Syscall{},
	}
	for _, a := range spec.Architectures {
		cfg.Architectures = append(cfg.Architectures, ccseccomp.Arch(a))
	}
	for i, c := range spec.Syscalls {
		if c == nil {
			return nil, fmt.Errorf("%s: spec.syscalls[%d]: null rule", name, i)
		}
		sc := &ccseccomp.Syscall{Names: c.Names, Action: ccseccomp.Action(c.Action), Args: c.Args}
		if len(c.ErrnoRet) > 0 {
			errno, err := spoErrno(c.ErrnoRet)
			if err != nil {
				return nil, fmt.Errorf("%s: spec.syscalls[%d] (%s): errnoRet: %w", name, i, strings.Join(c.Names, " "), err)
			}
			sc.Errno = errno
		}
		cfg.Syscalls = append(cfg.Syscalls, sc)
	}
	caps, _ := capsOrDefault(opts.Capabilities, PodmanDefaultCapabilities, "")
	sc, err := resolvePodman(&cfg, caps)
	if err != nil {
		return nil, fmt.Errorf("%s: SeccompProfile %q: %w", name, res.Metadata.Name, err)
	}
	return &Profile{Source: fmt.Sprintf("%s (SeccompProfile %s)", name, res.Metadata.Name), Format: FormatSPO,
		Seccomp: sc, Capabilities: caps}, nil
}

// spoErrno accepts errnoRet as a JSON string or number and returns it in
// containers/common's errno form (a name or a decimal number).
func spoErrno(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n uint64
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("%s: want an errno name or number", raw)
	}
	return strconv.FormatUint(n, 10), nil
}
