// Package schema checks predicates against the published JSON Schema of
// the seccomp-attest predicate (predicate.schema.json, the file auditors
// get). It is apart from package attest so that the hook and the wrapper,
// which only write attestations, do not link a JSON Schema validator.
package schema

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"
)

// predicateSchema is the published JSON Schema of the predicate, resolved
// once when first needed. github.com/google/jsonschema-go prepares nothing
// at program start (santhosh-tekuri/jsonschema compiled every draft's
// meta-schema in init: 8 ms of every CLI run, `eval` included).
//
//go:embed predicate.schema.json
var predicateSchema []byte

var resolvedSchema = sync.OnceValues(func() (*jsonschema.Resolved, error) {
	var sch jsonschema.Schema
	if err := json.Unmarshal(predicateSchema, &sch); err != nil {
		return nil, fmt.Errorf("predicate schema: %w", err)
	}
	rs, err := sch.Resolve(nil)
	if err != nil {
		return nil, fmt.Errorf("predicate schema: %w", err)
	}
	return rs, nil
})

// Validate checks a predicate's JSON against the published schema, so that
// what verify accepts is what the schema promises auditors.
func Validate(predicate json.RawMessage) error {
	rs, err := resolvedSchema()
	if err != nil {
		return err
	}
	var inst any
	if err := json.Unmarshal(predicate, &inst); err != nil {
		return fmt.Errorf("predicate is not JSON: %w", err)
	}
	if err := rs.Validate(inst); err != nil {
		return fmt.Errorf("predicate does not match the schema: %w", err)
	}
	return nil
}
