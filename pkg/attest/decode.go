package attest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// DecodeUnverified returns the statement inside an attestation file
// WITHOUT checking its signature, for listings and reports that say so
// (ps, report without --key). Anything that decides trust uses Verify.
func DecodeUnverified(data []byte) (*Statement, error) {
	var env dsse.Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("not a DSSE envelope: %w", err)
	}
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("payloadType is %q, want %q", env.PayloadType, PayloadType)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("payload: not base64: %w", err)
	}
	var st Statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("payload is not a JSON statement: %w", err)
	}
	if st.PredicateType != PredicateType {
		return nil, fmt.Errorf("predicateType is %q, want %q", st.PredicateType, PredicateType)
	}
	if st.Predicate == nil {
		return nil, fmt.Errorf("statement has no predicate")
	}
	return &st, nil
}
