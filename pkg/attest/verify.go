package attest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
)

// Report is the outcome of verifying one attestation file.
type Report struct {
	File string `json:"file"`
	// Digest is the lowercase hex SHA-256 of the whole file, the value the
	// next attestation of the store names as chain.previous.
	Digest string `json:"digest"`
	// Problems make the attestation invalid; Notes are for the reader and
	// change nothing.
	Problems []string `json:"problems"`
	// Unmet are requirements of the verifier that an authentic
	// attestation does not satisfy (made under another policy).
	Unmet []string `json:"unmet,omitempty"`
	Notes []string `json:"notes,omitempty"`
	// Statement is set when the signature verified and the payload
	// decoded, even if other problems were found.
	Statement *Statement `json:"-"`
	// Recording is set instead of Statement for a recording attestation
	// (RecordingPredicateType) whose signature verified.
	Recording *RecordingAttestation `json:"-"`
}

// Valid reports whether the attestation is authentic and well formed.
func (r *Report) Valid() bool { return len(r.Problems) == 0 }

// Predicate returns the verified predicate, or nil.
func (r *Report) Predicate() *Predicate {
	if r.Statement == nil {
		return nil
	}
	return r.Statement.Predicate
}

// Passing reports whether the attestation is valid, meets the verifier's
// requirements and its verdict is not fail or error. An attestation without a verdict (effective filters only)
// passes: nothing was found wrong, and VerifyOptions.PolicyDigest is how
// an auditor insists that a policy was applied.
func (r *Report) Passing() bool {
	if !r.Valid() || len(r.Unmet) > 0 {
		return false
	}
	if r.Recording != nil {
		return true // no verdict: a profile and where it came from
	}
	v := r.Predicate().Verdict
	return v == nil || v.Result == ResultPass
}

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// VerifyOptions tunes Verify.
type VerifyOptions struct {
	// PolicyDigest, when set, requires predicate.policy.digest to equal
	// it: the verdict must come from this policy.
	PolicyDigest string
	// Schema, when set, checks the predicate's JSON against the published
	// schema (package attest/schema's Validate).
	Schema func(predicate json.RawMessage) error
}

// Verify checks one attestation file's bytes: the DSSE envelope and its
// signature by v, the statement and predicate types, the predicate's
// required fields, that the subjects agree with the predicate and with the
// bundle's config.json if it still exists, and that the predicate names
// v's key. Problems go into the report; Verify itself never fails.
func Verify(ctx context.Context, file string, data []byte, v *Verifier, opts VerifyOptions) *Report {
	r := &Report{File: file, Digest: sha256Hex(data), Problems: []string{}}
	payload, ok := verifyEnvelope(ctx, r, data, v)
	if !ok {
		return r
	}
	var st Statement
	if err := json.Unmarshal(payload, &st); err != nil {
		r.problem("payload is not a JSON statement: %v", err)
		return r
	}
	if st.Type != StatementType {
		r.problem("statement _type is %q, want %q", st.Type, StatementType)
	}
	if st.PredicateType == RecordingPredicateType && st.Type == StatementType {
		verifyRecording(r, payload, v)
		return r
	}
	if st.PredicateType != PredicateType {
		r.problem("predicateType is %q, want %q", st.PredicateType, PredicateType)
		return r
	}
	if err := validateInToto(payload); err != nil {
		r.problem("%v", err)
	}
	if st.Predicate == nil {
		r.problem("statement has no predicate")
		return r
	}
	r.Statement = &st
	if opts.Schema != nil {
		var raw struct {
			Predicate json.RawMessage `json:"predicate"`
		}
		if err := json.Unmarshal(payload, &raw); err == nil {
			if err := opts.Schema(raw.Predicate); err != nil {
				r.problem("%v", err)
			}
		}
	}
	for _, p := range st.Predicate.Validate() {
		r.problem("predicate: %s", p)
	}
	checkSubjects(r, &st)
	checkKey(r, st.Predicate, v)
	if opts.PolicyDigest != "" {
		switch pol := st.Predicate.Policy; {
		case st.Predicate.Event == EventBreak:
		case pol == nil:
			r.Unmet = append(r.Unmet, fmt.Sprintf("no policy was applied, want policy %s", opts.PolicyDigest))
		case pol.Digest != opts.PolicyDigest:
			r.Unmet = append(r.Unmet, fmt.Sprintf("policy digest is %s, want %s", pol.Digest, opts.PolicyDigest))
		}
	}
	return r
}

// verifyEnvelope checks the envelope and returns the signed payload.
func verifyEnvelope(ctx context.Context, r *Report, data []byte, v *Verifier) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var env dsse.Envelope
	if err := dec.Decode(&env); err != nil {
		r.problem("not a DSSE envelope: %v", err)
		return nil, false
	}
	if dec.More() {
		r.problem("file holds more than one JSON value: one envelope per file is expected")
		return nil, false
	}
	if env.PayloadType != PayloadType {
		r.problem("payloadType is %q, want %q", env.PayloadType, PayloadType)
		return nil, false
	}
	if len(env.Signatures) != 1 {
		r.problem("envelope has %d signatures, want exactly 1", len(env.Signatures))
		return nil, false
	}
	// DSSE decoders accept URL-safe and non-canonical base64. Insisting on
	// the canonical standard encoding that Sign writes means any change of
	// the file changes the decoded bytes, so nothing can be altered
	// without breaking the signature.
	payload, err := canonicalBase64(env.Payload)
	if err != nil {
		r.problem("payload: %v", err)
		return nil, false
	}
	sig := env.Signatures[0]
	if _, err := canonicalBase64(sig.Sig); err != nil {
		r.problem("signature: %v", err)
		return nil, false
	}
	if sig.KeyID != v.keyID {
		r.problem("signature keyid %q is not the id of key %s (%q)", sig.KeyID, v.name(), v.keyID)
		return nil, false
	}
	ev, err := dsse.NewEnvelopeVerifier(v)
	if err != nil {
		r.problem("verifier: %v", err)
		return nil, false
	}
	if _, _, err := ev.VerifyAndDecode(ctx, &env); err != nil {
		r.problem("signature does not verify with key %s", v.name())
		return nil, false
	}
	return payload, true
}

func canonicalBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not standard base64: %v", err)
	}
	if base64.StdEncoding.EncodeToString(b) != s {
		return nil, errors.New("not canonical standard base64")
	}
	return b, nil
}

func (v *Verifier) name() string {
	if v.path != "" {
		return v.path
	}
	return v.keyID
}

// checkSubjects ties the subjects, which cosign checks, to the predicate,
// which only seccomp-attest reads: each thread group's filters must hash to
// its subject, and config.json to the file in the bundle when it exists.
func checkSubjects(r *Report, st *Statement) {
	p := st.Predicate
	if p.Event == EventBreak {
		checkBreakSubject(r, st)
		return
	}
	want := map[string]bool{}
	for _, g := range p.Effective.Threads {
		s := FilterSubject(g)
		want[s.Name] = true
		got, ok, err := st.subjectDigest(s.Name)
		switch {
		case err != nil:
			r.problem("%v", err)
		case !ok:
			r.problem("no subject %q for the filters of threads %v", s.Name, g.TIDs)
		case got != s.Digest["sha256"]:
			r.problem("subject %q digest %s does not match the filters in the predicate (%s)", s.Name, got, s.Digest["sha256"])
		}
	}
	if cs := ContainerSubject(p.Container.ID); len(st.Subject) == 1 && st.Subject[0].Name == cs.Name {
		if len(p.Effective.Threads) > 0 || st.Subject[0].Digest["sha256"] != cs.Digest["sha256"] {
			r.problem("subject %q: only a record without bundle or filters has it, with the digest of the id", cs.Name)
		}
		r.note("no config.json subject: the bundle was gone when the record was made")
		return
	}
	for _, s := range st.Subject {
		if s.Name != ConfigSubjectName && !want[s.Name] {
			r.problem("unexpected subject %q", s.Name)
		}
	}
	cfg, ok, err := st.subjectDigest(ConfigSubjectName)
	if err != nil {
		r.problem("%v", err)
		return
	}
	if !ok {
		r.note("no config.json subject: the attestation was made without a bundle")
		return
	}
	if p.Container.Bundle == "" {
		r.problem("config.json subject without container.bundle")
		return
	}
	path := filepath.Join(p.Container.Bundle, "config.json")
	data, err := inputfile.Read(path, inputfile.Profile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.note("%s no longer exists: config.json digest not checked", path)
	case err != nil:
		r.problem("read %s to check the config.json subject: %v", path, err)
	case sha256Hex(data) != cfg:
		r.problem("%s has sha256 %s, the attestation says %s", path, sha256Hex(data), cfg)
	}
}

// checkBreakSubject: a break record's one subject is the attestation the
// head expected (or, without a head, the newest one found).
func checkBreakSubject(r *Report, st *Statement) {
	b := st.Predicate.Break
	if b == nil {
		return // Validate reported it
	}
	want := sha256Hex(nil)
	switch {
	case b.Expected != nil:
		want = b.Expected.SHA256
	case b.Found != nil:
		want = b.Found.SHA256
	}
	if len(st.Subject) != 1 || st.Subject[0].Name != BreakSubjectName || st.Subject[0].Digest["sha256"] != want {
		r.problem("a break record's one subject must be %q with the digest of the attestation it expected", BreakSubjectName)
	}
}

func checkKey(r *Report, p *Predicate, v *Verifier) {
	if err := v.checkFingerprint(p.Host.KeyFingerprint); err != nil {
		r.problem("%v", err)
	}
}

// checkFingerprint says why fingerprint, the host.keyFingerprint of an
// attestation or a checkpoint, is not that of the verifying key.
func (v *Verifier) checkFingerprint(fingerprint string) error {
	fp, err := Fingerprint(v.pub)
	if err != nil {
		return err
	}
	if fingerprint != fp {
		return fmt.Errorf("host.keyFingerprint %s is not the fingerprint of key %s (%s)", fingerprint, v.name(), fp)
	}
	return nil
}
