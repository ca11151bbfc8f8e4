// Package schema checks predicates against the published JSON Schema of
// the seccomp-attest predicate (predicate.schema.json, the file auditors
// get). It is apart from package attest because compiling JSON Schema
// support costs milliseconds at program start, which the hook and the
// wrapper, which only write attestations, must not pay.
package schema

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// predicateSchema is the published JSON Schema of the predicate, compiled
// once when first needed.
//
//go:embed predicate.schema.json
var predicateSchema []byte

var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(predicateSchema))
	if err != nil {
		return nil, fmt.Errorf("predicate schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	const url = "https://seccomp-attest.dev/attestation/v1/schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("predicate schema: %w", err)
	}
	return c.Compile(url)
})

// Validate checks a predicate's JSON against the published schema, so that
// what verify accepts is what the schema promises auditors.
func Validate(predicate json.RawMessage) error {
	sch, err := compiledSchema()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(predicate))
	if err != nil {
		return fmt.Errorf("predicate is not JSON: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("predicate does not match the schema: %w", err)
	}
	return nil
}
