package attest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
)

// RecordingPredicateType identifies the attestation of a profile generated
// from recorded workloads (`seccomp-attest record generate --attest`):
// which containers, images and commands were recorded, when, by which
// recorder, and the digest of the profile made from them. Its one subject
// is the profile file, so `cosign verify-blob-attestation` checks the
// profile against it.
const RecordingPredicateType = "https://seccomp-attest.dev/recording/v1"

// RecordingAttestation is the predicate of a recording attestation.
type RecordingAttestation struct {
	// Recordings are the recordings the profile was generated from (more
	// than one when several were merged).
	Recordings []RecordedWorkload `json:"recordings"`
	Profile    GeneratedProfile   `json:"profile"`
	Host       Host               `json:"host"`
	Tool       Tool               `json:"tool"`
	// Time is when the profile was generated, RFC 3339 in UTC.
	Time string `json:"time"`
	// Notes are the generator's statements about the profile (choices a
	// reviewer must know of).
	Notes []string `json:"notes,omitempty"`
}

// RecordedWorkload is one recording as the recorder wrote it.
type RecordedWorkload struct {
	// File and Digest (lowercase hex SHA-256 of the file's bytes) name the
	// recording file.
	File      string   `json:"file"`
	Digest    string   `json:"digest"`
	Container string   `json:"container,omitempty"`
	Runtime   string   `json:"runtime,omitempty"`
	Image     string   `json:"image,omitempty"`
	Command   []string `json:"command,omitempty"`
	Started   string   `json:"started"`
	Ended     string   `json:"ended,omitempty"`
	Recorder  string   `json:"recorder"`
	Complete  bool     `json:"complete"`
	Problem   string   `json:"problem,omitempty"`
}

// GeneratedProfile is the profile file made from the recordings.
type GeneratedProfile struct {
	// Path is where the profile was written (absolute); verify checks
	// the file there while it exists.
	Path string `json:"path"`
	// Format is oci, docker or spo.
	Format string `json:"format"`
	// Digest is the lowercase hex SHA-256 of the file's bytes (the
	// subject's digest).
	Digest string `json:"digest"`
	// SeccompDigest is SeccompDigest of the profile in its OCI form as
	// seccomp-attest loads it: a container started with this profile gets
	// an attestation whose intended.seccompDigest is the same.
	SeccompDigest string `json:"seccompDigest"`
	// Complete is false when a recording was incomplete and the profile
	// was generated anyway.
	Complete bool `json:"complete"`
	// Base is the base profile whose additions this profile holds.
	Base string `json:"base,omitempty"`
}

// SeccompDigest is the lowercase hex SHA-256 of the encoding/json form of
// an OCI linux.seccomp object: independent of the file's layout, key order
// and format (a Docker or SPO profile resolves to the OCI object a
// runtime compiles), so that a profile file and the config.json of a
// container that uses it can be matched.
func SeccompDigest(sc *specs.LinuxSeccomp) (string, error) {
	b, err := json.Marshal(sc)
	if err != nil {
		return "", fmt.Errorf("seccomp digest: %w", err)
	}
	return sha256Hex(b), nil
}

// recordingStatement is an in-toto Statement v1 with a recording predicate.
type recordingStatement struct {
	Type          string                `json:"_type"`
	Subject       []Subject             `json:"subject"`
	PredicateType string                `json:"predicateType"`
	Predicate     *RecordingAttestation `json:"predicate"`
}

// SignRecording signs p with s; the subject is the profile file (its base
// name and the digest of profile, its bytes). p.Profile.Digest and
// p.Host.KeyFingerprint are filled in here.
func SignRecording(ctx context.Context, p *RecordingAttestation, profile []byte, s *Signer) ([]byte, error) {
	fp, err := Fingerprint(s.Public())
	if err != nil {
		return nil, err
	}
	p.Host.KeyFingerprint = fp
	p.Profile.Digest = sha256Hex(profile)
	if probs := p.Validate(); len(probs) > 0 {
		return nil, fmt.Errorf("sign recording: %s", probs[0])
	}
	st := recordingStatement{Type: StatementType, PredicateType: RecordingPredicateType, Predicate: p,
		Subject: []Subject{{Name: filepath.Base(p.Profile.Path), Digest: map[string]string{"sha256": p.Profile.Digest}}}}
	payload, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("sign recording: %w", err)
	}
	if err := validateInToto(payload); err != nil {
		return nil, fmt.Errorf("sign recording: %w", err)
	}
	return signPayload(ctx, payload, s)
}

// Validate returns every problem of the predicate's required fields.
func (p *RecordingAttestation) Validate() []string {
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if len(p.Recordings) == 0 {
		bad("recordings is empty")
	}
	complete := true
	for i, r := range p.Recordings {
		if !hexDigest.MatchString(r.Digest) {
			bad("recordings[%d].digest %q is not a lowercase hex SHA-256", i, r.Digest)
		}
		if r.Recorder == "" {
			bad("recordings[%d].recorder is missing", i)
		}
		if _, err := time.Parse(time.RFC3339, r.Started); err != nil {
			bad("recordings[%d].started %q is not an RFC 3339 time", i, r.Started)
		}
		complete = complete && r.Complete
	}
	if p.Profile.Complete && !complete {
		bad("profile.complete is true but a recording is incomplete")
	}
	if !filepath.IsAbs(p.Profile.Path) {
		bad("profile.path %q is not absolute", p.Profile.Path)
	}
	switch p.Profile.Format {
	case "oci", "docker", "spo":
	default:
		bad("profile.format %q is not oci, docker or spo", p.Profile.Format)
	}
	if !hexDigest.MatchString(p.Profile.Digest) {
		bad("profile.digest %q is not a lowercase hex SHA-256", p.Profile.Digest)
	}
	if !hexDigest.MatchString(p.Profile.SeccompDigest) {
		bad("profile.seccompDigest %q is not a lowercase hex SHA-256", p.Profile.SeccompDigest)
	}
	if p.Host.ID == "" || p.Host.Kernel == "" || p.Host.Arch == "" {
		bad("host.id, host.kernel and host.arch are required")
	}
	if !hexDigest.MatchString(p.Host.KeyFingerprint) {
		bad("host.keyFingerprint %q is not a lowercase hex SHA-256", p.Host.KeyFingerprint)
	}
	if p.Tool.Name == "" || p.Tool.Version == "" {
		bad("tool.name and tool.version are required")
	}
	if _, err := time.Parse(time.RFC3339, p.Time); err != nil {
		bad("time %q is not an RFC 3339 time", p.Time)
	}
	return probs
}

// verifyRecording checks a recording statement whose signature verified:
// the predicate's fields, the one subject against the predicate and the
// profile file while it exists, and the signing key.
func verifyRecording(r *Report, payload []byte, v *Verifier) {
	var st recordingStatement
	if err := json.Unmarshal(payload, &st); err != nil {
		r.problem("payload is not a recording statement: %v", err)
		return
	}
	if err := validateInToto(payload); err != nil {
		r.problem("%v", err)
	}
	p := st.Predicate
	if p == nil {
		r.problem("statement has no predicate")
		return
	}
	r.Recording = p
	for _, prob := range p.Validate() {
		r.problem("predicate: %s", prob)
	}
	if len(st.Subject) != 1 || st.Subject[0].Name != filepath.Base(p.Profile.Path) || st.Subject[0].Digest["sha256"] != p.Profile.Digest {
		r.problem("a recording attestation's one subject must be the profile file %q with profile.digest", filepath.Base(p.Profile.Path))
	}
	data, err := inputfile.Read(p.Profile.Path, inputfile.Profile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.note("%s no longer exists: profile digest not checked", p.Profile.Path)
	case err != nil:
		r.problem("read %s to check the profile: %v", p.Profile.Path, err)
	case sha256Hex(data) != p.Profile.Digest:
		r.problem("%s has sha256 %s, the attestation says %s (the profile was changed)", p.Profile.Path, sha256Hex(data), p.Profile.Digest)
	}
	if !p.Profile.Complete {
		r.note("the profile was generated from an incomplete recording")
	}
	if err := v.checkFingerprint(p.Host.KeyFingerprint); err != nil {
		r.problem("%v", err)
	}
}
