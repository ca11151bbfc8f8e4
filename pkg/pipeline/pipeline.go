// Package pipeline is the one path from a container to a verdict and a
// signed attestation, shared by the OCI hook and the runtime wrapper:
//
//	bundle config.json --spec--> intended stack --+
//	                                              +--compare/policy--> verdict --attest--> store, bundle
//	process filters ----------> effective stack --+
//
// The hook and the wrapper differ only in how they get the process's
// filters (the hook seizes the running init, the wrapper reads it at its
// exec stop); everything after that is here.
package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/policy"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// ErrAbandoned is the cause of a check whose requester hung up (a hook
// or wrapper-runc that found seccomp-attestd stalled checks in its own
// process): nothing of it may act on the container or be recorded.
var ErrAbandoned = errors.New("the requester hung up (it checks in its own process)")

// ToolName is recorded in every attestation.
const ToolName = "seccomp-attest"

// Pipeline holds what every container check needs: the policy, the signing
// key and the store. It is safe to use for one container at a time.
type Pipeline struct {
	policy       *policy.Policy
	policyDigest string
	signer       *attest.Signer
	store        attest.Store
	sink         *config.Sink
	cache        *verdictCache
	toolVersion  string
	lastBundle   *bundleFiles
}

// Options adjust New.
type Options struct {
	// ToolVersion is recorded in attestations ("(devel)" when empty).
	ToolVersion string
}

// New loads the policy and the signing key named by cfg. A key that does
// not exist is generated when cfg.GenerateKey allows it; a key readable by
// group or others, or unreadable, is an error.
func New(cfg *config.Config, opts Options) (*Pipeline, error) {
	pol, digest, err := policy.Open(cfg.Policy)
	if err != nil {
		return nil, err
	}
	if cfg.Mode != "" {
		// The attestation records the mode next to the policy's digest.
		pol.Mode = cfg.Mode
	}
	p := &Pipeline{
		policy: pol, policyDigest: digest,
		store:       attest.Store{Dir: cfg.Store, OnBreak: attest.BreakPolicy(cfg.StoreBreak)},
		sink:        cfg.CheckpointSink,
		cache:       &verdictCache{dir: filepath.Join(cfg.Store, "cache")},
		toolVersion: opts.ToolVersion,
	}
	if p.toolVersion == "" {
		p.toolVersion = "(devel)"
	}
	// Every stage loads the key, also those that write no attestation:
	// a key problem must refuse a container before it is created.
	if p.signer, err = loadOrCreateKey(cfg); err != nil {
		return nil, err
	}
	return p, nil
}

// Mode is the mode the policy runs in (enforce or audit), after the
// configuration's override.
func (p *Pipeline) Mode() string { return p.policy.Mode }

// Enforcing reports whether a failing verdict refuses the container.
func (p *Pipeline) Enforcing() bool { return p.policy.Mode == policy.ModeEnforce }

// PolicySource names the policy in use.
func (p *Pipeline) PolicySource() string { return p.policy.Source() }

func loadOrCreateKey(cfg *config.Config) (*attest.Signer, error) {
	if _, err := os.Lstat(cfg.Key); errors.Is(err, fs.ErrNotExist) && cfg.GenerateKey != nil && *cfg.GenerateKey {
		dir := filepath.Dir(cfg.Key)
		if filepath.Base(cfg.Key) != attest.PrivateKeyFile {
			return nil, fmt.Errorf("signing key %s does not exist (keys are generated only as %s)", cfg.Key, attest.PrivateKeyFile)
		}
		// Containers starting at once on a new host all get here: one
		// generates the key, the others use it.
		if _, _, err := attest.GenerateKey(attest.KeyECDSAP256, dir); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("generate the host signing key: %w", err)
		}
	}
	return attest.LoadSigner(cfg.Key)
}

// Container is what the runtime says about the container being checked.
type Container struct {
	ID     string
	Bundle string
	PID    int
	// Runtime is the OCI runtime whose compilation of the profile is the
	// intended filter: runc (default) or crun.
	Runtime        string
	RuntimeVersion string
	// Name selects the policy's exceptions; the ID when empty.
	Name string
	// Annotations from the OCI state; the bundle's are used when nil.
	Annotations map[string]string
	// Event is recorded in the attestation: "start" (default) or "stop".
	Event string
}

func (c *Container) runtime() string {
	if c.Runtime == spec.RuntimeCrun {
		return spec.RuntimeCrun
	}
	return spec.RuntimeRunc
}

func (c *Container) name() string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// Outcome is the answer for one container.
type Outcome struct {
	Verdict *attest.Verdict
	// Refuse says the runtime must not let the container run: the policy
	// failed in enforce mode.
	Refuse bool
	// Attestation is where the signed attestation went; nil for the
	// static check.
	Attestation *attest.Result
	// Predicate is what was attested (or would have been).
	Predicate *attest.Predicate
	// Warnings are problems that changed nothing about the verdict or
	// the attestation (the checkpoint could not be written or sent), for
	// the operators' log.
	Warnings []string
}

// Summary is one line for logs and runtime errors.
func (o *Outcome) Summary() string {
	s := o.Verdict.Result
	if n := len(o.Verdict.Reasons); n > 0 {
		s += ": " + o.Verdict.Reasons[0]
		if n > 1 {
			s += fmt.Sprintf(" (and %d more reasons)", n-1)
		}
	}
	return s
}

func newOutcome(v *attest.Verdict, enforcing bool) *Outcome {
	return &Outcome{Verdict: v, Refuse: enforcing && v.Result != attest.ResultPass}
}

// intended is the profile a container's bundle asks for, compiled lazily.
type intended struct {
	profile *spec.Profile
	runtime string
	digest  string
	// seccompDigest is attest.SeccompDigest of linux.seccomp alone.
	seccompDigest string
	stack         bytecode.Stack
	built         bool
}

// bundle reads the container's bundle once for the pipeline: the profile
// that is judged and the config.json bytes the attestation names are then
// the same bytes, and a hook does not parse the file again for each use.
func (p *Pipeline) bundle(dir string) (*bundleFiles, error) {
	if p.lastBundle != nil && p.lastBundle.dir == dir {
		return p.lastBundle, nil
	}
	raw, err := attest.ReadBundle(dir)
	if err != nil {
		return nil, err
	}
	prof, err := spec.ParseBundle(raw.Config, filepath.Join(raw.Dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("intended profile: %w", err)
	}
	p.lastBundle = &bundleFiles{dir: dir, raw: raw, profile: prof}
	return p.lastBundle, nil
}

// bundleFiles is a bundle as the pipeline read it.
type bundleFiles struct {
	dir     string
	raw     *attest.Bundle
	profile *spec.Profile
}

// LoadsFilter says whether the container's runtime will load a filter: the
// bundle has linux.seccomp, or crun's raw-filter annotation under crun. A
// hook waits for such a filter before reading.
func (p *Pipeline) LoadsFilter(c Container) (bool, error) {
	b, err := p.bundle(c.Bundle)
	if err != nil {
		return false, err
	}
	return b.profile.Seccomp != nil || (c.runtime() == spec.RuntimeCrun && b.profile.RawFilter != nil), nil
}

func (p *Pipeline) loadIntended(c *Container) (*intended, error) {
	files, err := p.bundle(c.Bundle)
	if err != nil {
		return nil, err
	}
	prof := files.profile
	in := &intended{profile: prof, runtime: c.runtime()}
	// The digest covers what the compiled filter depends on, not the whole
	// config.json (which differs per container in ids and mounts), so
	// that containers with one profile share cached verdicts.
	key := struct {
		Seccomp   any      `json:"seccomp"`
		Caps      []string `json:"capabilities"`
		RawFilter []byte   `json:"rawFilter,omitempty"`
		Runtime   string   `json:"runtime"`
	}{prof.Seccomp, prof.Capabilities, nil, in.runtime}
	if prof.RawFilter != nil {
		key.RawFilter = prof.RawFilter.Bytes()
	}
	b, err := json.Marshal(key)
	if err != nil {
		return nil, fmt.Errorf("intended profile %s: %w", prof.Source, err)
	}
	in.digest = sha256Hex(b)
	if prof.Seccomp != nil {
		if in.seccompDigest, err = attest.SeccompDigest(prof.Seccomp); err != nil {
			return nil, fmt.Errorf("intended profile %s: %w", prof.Source, err)
		}
	}
	return in, nil
}

func (in *intended) compiled() (bytecode.Stack, error) {
	if !in.built {
		st, err := in.profile.Stack(in.runtime)
		if err != nil {
			return nil, fmt.Errorf("intended profile: %w", err)
		}
		in.stack, in.built = st, true
	}
	return in.stack, nil
}

func (in *intended) record() *attest.Intended {
	resolved := "runtime " + in.runtime
	if in.profile.RawFilter != nil && in.runtime == spec.RuntimeCrun {
		resolved += "; " + spec.AnnotationBPFData + " replaces linux.seccomp"
	} else if in.profile.Seccomp == nil {
		resolved += "; no linux.seccomp (unconfined)"
	}
	return &attest.Intended{Source: in.profile.Source, Digest: in.digest, ResolvedFor: resolved, SeccompDigest: in.seccompDigest}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// deadlineError names the stage that ran out of time.
func deadlineError(ctx context.Context, stage string) error {
	return fmt.Errorf("%s: %w", stage, context.Cause(ctx))
}
