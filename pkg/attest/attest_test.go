package attest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// testFilter is a valid one-instruction filter: ret ALLOW.
var testFilter = []byte{0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x7f}

// testKey generates a key pair of type kt in a temporary directory.
func testKey(t *testing.T, kt KeyType) (*Signer, *Verifier, string) {
	t.Helper()
	dir := t.TempDir()
	priv, pub, err := GenerateKey(kt, dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	v, err := LoadVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	return s, v, pub
}

func testBundle(t *testing.T) *Bundle {
	t.Helper()
	dir := t.TempDir()
	cfg := `{"ociVersion":"1.2.0","annotations":{"run.oci.seccomp_bpf_data":"AAAA","unrelated":"x"}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := ReadBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testRequest(s *Signer, store string, b *Bundle, id string) Request {
	return Request{
		Signer: s,
		Store:  Store{Dir: store},
		Bundle: b,
		Predicate: Predicate{
			Container: Container{ID: id, PID: 42, Runtime: &Runtime{Name: "runc", Version: "1.1.5"}},
			Host:      Host{ID: "0123456789abcdef", Kernel: "6.1.0-test", Arch: "x86_64"},
			Effective: Effective{Threads: []ThreadGroup{
				NewThreadGroup([]int{42, 43}, "filter", []RawFilter{{BPF: testFilter}, {BPF: testFilter, Log: true}}),
			}},
			Tool: Tool{Name: "seccomp-attest", Version: "test"},
		},
		Now: func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) },
	}
}

func attestOne(t *testing.T, req Request) *Result {
	t.Helper()
	res, err := Attest(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func verifyBytes(v *Verifier, data []byte) *Report {
	return Verify(context.Background(), "test", data, v, VerifyOptions{})
}

func TestRoundTrip(t *testing.T) {
	for _, kt := range []KeyType{KeyECDSAP256, KeyEd25519} {
		t.Run(string(kt), func(t *testing.T) {
			s, v, _ := testKey(t, kt)
			b := testBundle(t)
			res := attestOne(t, testRequest(s, t.TempDir(), b, "ctr1"))
			r := verifyBytes(v, res.Envelope)
			if !r.Valid() || !r.Passing() {
				t.Fatalf("fresh attestation does not verify: %v", r.Problems)
			}
			p := r.Predicate()
			if p.Chain != (Chain{Sequence: 1}) || p.Container.Bundle != b.Dir || p.Time != "2025-01-02T03:04:05Z" {
				t.Errorf("predicate not as requested: chain %+v bundle %q time %q", p.Chain, p.Container.Bundle, p.Time)
			}
			if got := p.Container.Annotations; len(got) != 1 || !strings.HasPrefix(got["run.oci.seccomp_bpf_data"], "sha256:") {
				t.Errorf("annotations = %v, want only a digest of run.oci.seccomp_bpf_data", got)
			}
			if !bytes.Equal(p.Effective.Threads[0].Filters[1].BPF, testFilter) {
				t.Errorf("filter bytes did not survive the round trip")
			}
			// Store copy and bundle copy are the same bytes.
			for _, path := range []string{res.StorePath, res.BundlePath} {
				got, err := os.ReadFile(path)
				if err != nil || !bytes.Equal(got, res.Envelope) {
					t.Errorf("%s does not hold the envelope (err %v)", path, err)
				}
			}
			// Another key does not verify it.
			_, other, _ := testKey(t, kt)
			if r := verifyBytes(other, res.Envelope); r.Valid() {
				t.Errorf("attestation verifies with an unrelated key")
			}
		})
	}
}

// TestSignedBytesAreStored checks that the payload is the statement as
// marshalled once, byte for byte, not a re-encoding.
func TestSignedBytesAreStored(t *testing.T) {
	s, _, _ := testKey(t, KeyECDSAP256)
	req := testRequest(s, t.TempDir(), nil, "c")
	res := attestOne(t, req)
	var env struct{ Payload string }
	if err := json.Unmarshal(res.Envelope, &env); err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	var st Statement
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(&st)
	if !bytes.Equal(again, payload) {
		t.Errorf("payload is not the encoding/json form of the statement:\n%s\n%s", payload, again)
	}
	if len(st.Subject) != 1 || st.Subject[0].Name != "seccomp-filters/42" ||
		st.Subject[0].Digest["sha256"] != sha256Hex(append(append([]byte{}, testFilter...), testFilter...)) {
		t.Errorf("filter subject = %+v", st.Subject)
	}
}

type envelopeJSON struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

func decodeEnvelope(t *testing.T, data []byte) envelopeJSON {
	t.Helper()
	var e envelopeJSON
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e envelopeJSON) encode(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTamperDetected(t *testing.T) {
	for _, kt := range []KeyType{KeyECDSAP256, KeyEd25519} {
		t.Run(string(kt), func(t *testing.T) {
			s, v, _ := testKey(t, kt)
			orig := attestOne(t, testRequest(s, t.TempDir(), nil, "c")).Envelope
			env := decodeEnvelope(t, orig)
			payload, _ := base64.StdEncoding.DecodeString(env.Payload)
			sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)

			expect := func(what string, data []byte, reason string) {
				t.Helper()
				r := verifyBytes(v, data)
				if r.Valid() {
					t.Fatalf("%s: tampered attestation verifies", what)
				}
				if !strings.Contains(strings.Join(r.Problems, "\n"), reason) {
					t.Fatalf("%s: problems %q do not say %q", what, r.Problems, reason)
				}
			}
			for i := range payload {
				e := env
				p := bytes.Clone(payload)
				p[i] ^= 0x01
				e.Payload = base64.StdEncoding.EncodeToString(p)
				expect("payload byte "+strconv.Itoa(i), e.encode(t), "signature does not verify")
			}
			for i := range sig {
				e := env
				e.Signatures = append(e.Signatures[:0:0], env.Signatures...)
				g := bytes.Clone(sig)
				g[i] ^= 0x01
				e.Signatures[0].Sig = base64.StdEncoding.EncodeToString(g)
				expect("signature byte "+strconv.Itoa(i), e.encode(t), "signature does not verify")
			}
			id := env.Signatures[0].KeyID
			for i := range id {
				e := env
				e.Signatures = append(e.Signatures[:0:0], env.Signatures...)
				k := []byte(id)
				k[i] ^= 0x01
				e.Signatures[0].KeyID = string(k)
				expect("keyid byte "+strconv.Itoa(i), e.encode(t), "keyid")
			}
			e := env
			e.PayloadType = "application/json"
			expect("payloadType", e.encode(t), "payloadType")
			// Any byte of the file: whatever the reason, it must not verify.
			for i := range orig {
				data := bytes.Clone(orig)
				data[i] ^= 0x01
				if r := verifyBytes(v, data); r.Valid() {
					t.Fatalf("file byte %d (%q) flipped: still verifies", i, orig[i])
				}
			}
		})
	}
}

func TestPredicateTypeAndSchemaChecked(t *testing.T) {
	s, v, _ := testKey(t, KeyECDSAP256)
	req := testRequest(s, t.TempDir(), nil, "c")
	p := req.Predicate
	p.Host.KeyFingerprint, _ = Fingerprint(s.Public())
	p.Time = "2025-01-02T03:04:05Z"
	p.Chain = Chain{Sequence: 1}

	st := NewStatement(&p, nil)
	st.PredicateType = "https://example.com/other/v1"
	env, err := Sign(context.Background(), st, s)
	if err != nil {
		t.Fatal(err)
	}
	if r := verifyBytes(v, env); r.Valid() || !strings.Contains(r.Problems[0], "predicateType") {
		t.Errorf("wrong predicate type: problems %q", r.Problems)
	}

	// A predicate that Sign would refuse, signed by hand: verify must
	// still name the missing field.
	bad := p
	bad.Container.ID = ""
	payload, _ := json.Marshal(NewStatement(&bad, nil))
	env = signRaw(t, s, payload)
	if r := verifyBytes(v, env); r.Valid() || !strings.Contains(strings.Join(r.Problems, "\n"), "container.id is missing") {
		t.Errorf("missing container.id: problems %q", r.Problems)
	}

	// Subjects that disagree with the predicate's filters.
	st = NewStatement(&p, nil)
	st.Subject[0].Digest["sha256"] = strings.Repeat("0", 64)
	env, err = Sign(context.Background(), st, s)
	if err != nil {
		t.Fatal(err)
	}
	if r := verifyBytes(v, env); r.Valid() || !strings.Contains(strings.Join(r.Problems, "\n"), "does not match the filters") {
		t.Errorf("wrong subject digest: problems %q", r.Problems)
	}
}

func TestVerdictAndPolicy(t *testing.T) {
	s, v, _ := testKey(t, KeyEd25519)
	req := testRequest(s, t.TempDir(), nil, "c")
	pol := strings.Repeat("a", 64)
	req.Predicate.Policy = &Policy{Digest: pol, Mode: "enforce"}
	req.Predicate.Verdict = &Verdict{Result: ResultFail, Reasons: []string{"ptrace allowed"}}
	env := attestOne(t, req).Envelope
	r := Verify(context.Background(), "f", env, v, VerifyOptions{PolicyDigest: pol})
	if !r.Valid() || r.Passing() {
		t.Errorf("failing verdict: valid %v passing %v problems %q", r.Valid(), r.Passing(), r.Problems)
	}
	// Made under another policy: authentic evidence that does not meet
	// the requirement, not tampering.
	r = Verify(context.Background(), "f", env, v, VerifyOptions{PolicyDigest: strings.Repeat("b", 64)})
	if !r.Valid() || r.Passing() || len(r.Unmet) != 1 || !strings.Contains(r.Unmet[0], "policy digest is") {
		t.Errorf("other policy digest: valid %v passing %v unmet %q", r.Valid(), r.Passing(), r.Unmet)
	}
}

func TestBundleConfigChanged(t *testing.T) {
	s, v, _ := testKey(t, KeyECDSAP256)
	b := testBundle(t)
	env := attestOne(t, testRequest(s, t.TempDir(), b, "c")).Envelope
	if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := verifyBytes(v, env); r.Valid() || !strings.Contains(strings.Join(r.Problems, "\n"), "config.json has sha256") {
		t.Errorf("changed config.json: problems %q", r.Problems)
	}
	os.Remove(filepath.Join(b.Dir, "config.json"))
	if r := verifyBytes(v, env); !r.Valid() || len(r.Notes) == 0 {
		t.Errorf("vanished bundle: want valid with a note, got problems %q notes %q", r.Problems, r.Notes)
	}
}

// signRaw signs payload without any of Sign's checks.
func signRaw(t *testing.T, s *Signer, payload []byte) []byte {
	t.Helper()
	sig, err := s.Sign(context.Background(), dsse.PAE(PayloadType, payload))
	if err != nil {
		t.Fatal(err)
	}
	e := envelopeJSON{PayloadType: PayloadType, Payload: base64.StdEncoding.EncodeToString(payload)}
	e.Signatures = append(e.Signatures, struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	}{s.keyID, base64.StdEncoding.EncodeToString(sig)})
	return e.encode(t)
}

// Sign checks the statement's envelope with the in-toto bindings before
// signing: a statement in-toto would reject is never written.
func TestSignRefusesWhatInTotoRejects(t *testing.T) {
	s, _, _ := testKey(t, KeyECDSAP256)
	req := testRequest(s, t.TempDir(), nil, "c")
	fp, err := Fingerprint(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	req.Predicate.Host.KeyFingerprint = fp
	req.Predicate.Time = "2025-01-02T03:04:05Z"
	req.Predicate.Policy = &Policy{Digest: fp, Mode: "enforce"}
	req.Predicate.Verdict = &Verdict{Result: ResultPass, Reasons: []string{}}
	req.Predicate.Chain = Chain{Sequence: 1}
	for name, mutate := range map[string]func(*Statement){
		"no subject": func(st *Statement) { st.Subject = nil },
		"bad digest": func(st *Statement) { st.Subject[0].Digest = map[string]string{"sha256": "xyz"} },
		"wrong type": func(st *Statement) { st.Type = "https://in-toto.io/Statement/v0.9" },
	} {
		st := NewStatement(&req.Predicate, nil)
		mutate(st)
		_, err := Sign(context.Background(), st, s)
		if err == nil || !strings.Contains(err.Error(), "in-toto") {
			t.Errorf("%s: signed, or not for the in-toto reason: %v", name, err)
		}
	}
	if _, err := Sign(context.Background(), NewStatement(&req.Predicate, nil), s); err != nil {
		t.Fatalf("the valid statement: %v", err)
	}
}
