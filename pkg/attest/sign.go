package attest

import (
	"context"
	"encoding/json"
	"fmt"

	ita "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// Sign serializes st once, checks the result against the in-toto
// Statement v1 bindings and the predicate rules, and returns the DSSE
// envelope that signs exactly those bytes, as one line of JSON ending in a
// newline (the .intoto.jsonl form cosign reads).
func Sign(ctx context.Context, st *Statement, s *Signer) ([]byte, error) {
	if st.Predicate == nil {
		return nil, fmt.Errorf("sign: statement has no predicate")
	}
	if probs := st.Predicate.Validate(); len(probs) > 0 {
		return nil, fmt.Errorf("sign: invalid predicate: %s", probs[0])
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("sign: encode statement: %w", err)
	}
	if err := st.validateInToto(); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return signPayload(ctx, payload, s)
}

// signPayload signs an in-toto statement's bytes and returns the DSSE
// envelope as one line of JSON ending in a newline.
func signPayload(ctx context.Context, payload []byte, s *Signer) ([]byte, error) {
	es, err := dsse.NewEnvelopeSigner(s)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	env, err := es.SignPayload(ctx, PayloadType, payload)
	if err != nil {
		return nil, fmt.Errorf("sign with %s: %w", s.path, err)
	}
	out, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("sign: encode envelope: %w", err)
	}
	return append(out, '\n'), nil
}

// validateInToto checks the statement's envelope (type, subjects,
// predicate type) with the in-toto bindings' own rules, without decoding
// the predicate again, which Validate has checked and Verify's schema
// checks.
func (st *Statement) validateInToto() error {
	its := ita.Statement{Type: st.Type, PredicateType: st.PredicateType, Predicate: &structpb.Struct{}}
	for _, s := range st.Subject {
		its.Subject = append(its.Subject, &ita.ResourceDescriptor{Name: s.Name, Digest: s.Digest})
	}
	if err := its.Validate(); err != nil {
		return fmt.Errorf("invalid in-toto statement: %w", err)
	}
	return nil
}

// validateInToto checks payload with the in-toto bindings' own rules
// (type URI, subjects with names and well-formed digests, predicate type).
func validateInToto(payload []byte) error {
	var st ita.Statement
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(payload, &st); err != nil {
		return fmt.Errorf("not an in-toto statement: %w", err)
	}
	if err := st.Validate(); err != nil {
		return fmt.Errorf("invalid in-toto statement: %w", err)
	}
	return nil
}
