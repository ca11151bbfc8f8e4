package schema

import "testing"

func TestSchemaCompiles(t *testing.T) {
	if _, err := compiledSchema(); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	if err := Validate([]byte(`{"container": {"id": "c", "pid": 1}}`)); err == nil {
		t.Fatal("a predicate without host, effective, tool, time and chain passed")
	}
	if err := Validate([]byte(`not json`)); err == nil {
		t.Fatal("not JSON passed")
	}
}
