package attest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// PredicateType identifies the predicate of seccomp-attest attestations.
// The trailing version changes whenever a field changes meaning or a
// required field is added; adding optional fields keeps it. The schema is
// schema/predicate.schema.json (package attest/schema checks predicates against it).
const PredicateType = "https://seccomp-attest.dev/attestation/v1"

// Verdict results.
const (
	ResultPass  = "pass"
	ResultFail  = "fail"
	ResultError = "error"
)

// Predicate is what an attestation says about one container. Field order
// here is the order in the JSON.
type Predicate struct {
	// Event says what the attestation records: "start" (the filters of a
	// started container, the default when absent) or "stop" (the end of a
	// container, recorded in the chain by the poststop hook) or "break"
	// (the store found that attestations its head recorded are gone or
	// altered; Break says what, and Container.ID is BreakContainerID).
	Event     string    `json:"event,omitempty"`
	Container Container `json:"container"`
	Host      Host      `json:"host"`
	// Intended, Diff, Policy, Verdict and Score are absent until a policy
	// pipeline compares the effective filters with an intended profile;
	// an attestation without them records the effective filters only.
	Intended  *Intended       `json:"intended,omitempty"`
	Effective Effective       `json:"effective"`
	Diff      json.RawMessage `json:"diff,omitempty"`
	Policy    *Policy         `json:"policy,omitempty"`
	Verdict   *Verdict        `json:"verdict,omitempty"`
	Score     *float64        `json:"score,omitempty"`
	Tool      Tool            `json:"tool"`
	// Time is when the filters were read, RFC 3339 in UTC.
	Time  string `json:"time"`
	Chain Chain  `json:"chain"`
	// Break is set on break records only.
	Break *StoreBreak `json:"break,omitempty"`
}

// Container identifies the attested container. ID is required; the rest
// is known only when the caller has a bundle or a runtime.
type Container struct {
	ID      string   `json:"id"`
	Bundle  string   `json:"bundle,omitempty"`
	PID     int      `json:"pid"`
	Runtime *Runtime `json:"runtime,omitempty"`
	// Annotations holds the few OCI annotations that change how the
	// filters came to be (see RelevantAnnotations), not all of them.
	Annotations map[string]string `json:"annotations,omitempty"`
	// Kubernetes is the pod of a container a CRI runtime created, absent
	// otherwise (and in attestations made before it existed).
	Kubernetes *Kubernetes `json:"kubernetes,omitempty"`
}

// Runtime is the OCI runtime that created the container.
type Runtime struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// Host identifies the machine and the key that signed.
type Host struct {
	// ID is /etc/machine-id.
	ID string `json:"id"`
	// Kernel is the uname release.
	Kernel string `json:"kernel"`
	// Arch is the uname machine (x86_64, aarch64, ...).
	Arch string `json:"arch"`
	// KeyFingerprint is Fingerprint of the signing key's public half: a
	// signed statement of which host key is expected to sign.
	KeyFingerprint string `json:"keyFingerprint"`
}

// Intended is the profile the effective filters were compared with.
type Intended struct {
	Source      string `json:"source"`
	Digest      string `json:"digest"`
	ResolvedFor string `json:"resolvedFor,omitempty"`
	// SeccompDigest is SeccompDigest of the profile's linux.seccomp, the
	// same for every container with that profile whatever their
	// capabilities and runtime (which Digest covers too): the value a
	// recording attestation names for the profile it generated. Absent
	// without linux.seccomp, and in attestations made before it existed.
	SeccompDigest string `json:"seccompDigest,omitempty"`
}

// Effective is what the kernel enforces, read from the process.
type Effective struct {
	Threads []ThreadGroup `json:"threads"`
}

// ThreadGroup lists threads that enforce identical filters. Most
// processes have one group; a thread that added a filter of its own
// without TSYNC appears apart.
type ThreadGroup struct {
	TIDs []int `json:"tids"`
	// Mode is the seccomp mode: disabled, strict or filter.
	Mode    string         `json:"mode"`
	Filters []LoadedFilter `json:"filters"`
}

// LoadedFilter is one classic BPF filter in a thread's stack.
type LoadedFilter struct {
	// Index is the PTRACE_SECCOMP_GET_FILTER index: 0 is the oldest.
	Index int `json:"index"`
	// Length is the number of BPF instructions (8 bytes each).
	Length int `json:"length"`
	// SHA256 is the lowercase hex digest of BPF.
	SHA256 string `json:"sha256"`
	// Log reports SECCOMP_FILTER_FLAG_LOG.
	Log bool `json:"log"`
	// BPF is the raw filter in the kernel's struct sock_filter layout
	// (host byte order), base64 in JSON.
	BPF []byte `json:"bpf"`
}

// Policy says which policy decided the verdict.
type Policy struct {
	Digest string `json:"digest"`
	Mode   string `json:"mode"`
}

// Verdict is the policy's answer.
type Verdict struct {
	Result  string   `json:"result"`
	Reasons []string `json:"reasons,omitempty"`
}

// Tool names the program that wrote the attestation.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Chain links the attestation to the previous one of the same host store.
type Chain struct {
	// Sequence starts at 1 and grows by one per attestation in the store.
	Sequence uint64 `json:"sequence"`
	// Previous is the lowercase hex SHA-256 of the previous attestation
	// file (the whole envelope file), empty for sequence 1.
	Previous string `json:"previous"`
}

var hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Validate checks the fields that the schema requires and the formats
// verify relies on. It returns every problem, not just the first.
func (p *Predicate) Validate() []string {
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	switch p.Event {
	case "", "start", "stop":
		if p.Break != nil {
			bad("break is set on a %q event", p.Event)
		}
	case EventBreak:
		if p.Break == nil || p.Break.Reason == "" {
			bad("a break event without break.reason")
		}
		if p.Container.ID != BreakContainerID {
			bad("a break event for container %q, want %q", p.Container.ID, BreakContainerID)
		}
	default:
		bad("event %q is not start, stop or break", p.Event)
	}
	if p.Container.ID == "" {
		bad("container.id is missing")
	}
	if p.Container.Kubernetes != nil {
		probs = append(probs, p.Container.Kubernetes.problems()...)
	}
	if p.Host.ID == "" {
		bad("host.id is missing")
	}
	if p.Host.Kernel == "" {
		bad("host.kernel is missing")
	}
	if p.Host.Arch == "" {
		bad("host.arch is missing")
	}
	if !hexDigest.MatchString(p.Host.KeyFingerprint) {
		bad("host.keyFingerprint %q is not a lowercase hex SHA-256", p.Host.KeyFingerprint)
	}
	if p.Intended != nil {
		if p.Intended.Source == "" {
			bad("intended.source is missing")
		}
		if !hexDigest.MatchString(p.Intended.Digest) {
			bad("intended.digest %q is not a lowercase hex SHA-256", p.Intended.Digest)
		}
		if p.Intended.SeccompDigest != "" && !hexDigest.MatchString(p.Intended.SeccompDigest) {
			bad("intended.seccompDigest %q is not a lowercase hex SHA-256", p.Intended.SeccompDigest)
		}
	}
	if p.Effective.Threads == nil {
		bad("effective.threads is missing")
	}
	for i, g := range p.Effective.Threads {
		if len(g.TIDs) == 0 {
			bad("effective.threads[%d].tids is empty", i)
		}
		switch g.Mode {
		case "disabled", "strict", "filter":
		default:
			bad("effective.threads[%d].mode %q is not disabled, strict or filter", i, g.Mode)
		}
		for j, f := range g.Filters {
			where := fmt.Sprintf("effective.threads[%d].filters[%d]", i, j)
			if f.Index != j {
				bad("%s.index is %d, want %d", where, f.Index, j)
			}
			if len(f.BPF) == 0 || len(f.BPF)%8 != 0 || f.Length != len(f.BPF)/8 {
				bad("%s: bpf is %d bytes, not length %d instructions of 8 bytes", where, len(f.BPF), f.Length)
			}
			if f.SHA256 != sha256Hex(f.BPF) {
				bad("%s.sha256 does not match its bpf", where)
			}
		}
	}
	if p.Policy != nil {
		if !hexDigest.MatchString(p.Policy.Digest) {
			bad("policy.digest %q is not a lowercase hex SHA-256", p.Policy.Digest)
		}
		if p.Verdict == nil {
			bad("policy is present but verdict is missing")
		}
	}
	if p.Verdict != nil {
		switch p.Verdict.Result {
		case ResultPass, ResultFail, ResultError:
		default:
			bad("verdict.result %q is not pass, fail or error", p.Verdict.Result)
		}
	}
	if p.Tool.Name == "" {
		bad("tool.name is missing")
	}
	if t, err := time.Parse(time.RFC3339Nano, p.Time); err != nil {
		bad("time %q is not RFC 3339", p.Time)
	} else if _, off := t.Zone(); off != 0 {
		bad("time %q is not UTC", p.Time)
	}
	if p.Chain.Sequence == 0 {
		bad("chain.sequence is missing (it starts at 1)")
	}
	switch {
	case p.Chain.Sequence == 1 && p.Chain.Previous != "":
		bad("chain.previous must be empty for sequence 1")
	case p.Chain.Sequence > 1 && !hexDigest.MatchString(p.Chain.Previous):
		bad("chain.previous %q is not a lowercase hex SHA-256", p.Chain.Previous)
	}
	return probs
}
