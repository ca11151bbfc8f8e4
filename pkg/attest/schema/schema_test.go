package schema

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"
)

func TestSchemaResolves(t *testing.T) {
	if _, err := resolvedSchema(); err != nil {
		t.Fatal(err)
	}
}

// realPredicate is the predicate of an attestation the hook wrote for a
// real runc container (pkg/attest/testdata), as a JSON object.
func realPredicate(t *testing.T) map[string]any {
	t.Helper()
	f, err := os.Open("../testdata/pre-kubernetes.intoto.jsonl")
	if err != nil {
		t.Fatalf("committed fixture: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() {
		t.Fatal("empty fixture")
	}
	var env struct{ Payload string }
	if err := json.Unmarshal(sc.Bytes(), &env); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Predicate map[string]any }
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	return st.Predicate
}

// Every keyword of the published schema is enforced: each mutation of a
// real predicate breaks one rule and must be refused.
func TestValidate(t *testing.T) {
	if err := Validate(mustJSON(t, realPredicate(t))); err != nil {
		t.Fatalf("a real predicate is refused: %v", err)
	}
	obj := func(p map[string]any, key string) map[string]any { return p[key].(map[string]any) }
	for name, mutate := range map[string]func(p map[string]any){
		"required host missing":   func(p map[string]any) { delete(p, "host") },
		"event not in enum":       func(p map[string]any) { p["event"] = "restart" },
		"chain sequence below 1":  func(p map[string]any) { obj(p, "chain")["sequence"] = 0 },
		"sequence not an integer": func(p map[string]any) { obj(p, "chain")["sequence"] = 1.5 },
		"previous digest upper case": func(p map[string]any) {
			obj(p, "chain")["previous"] = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
		},
		"policy without verdict": func(p map[string]any) { delete(p, "verdict") },
		"verdict result unknown": func(p map[string]any) { obj(p, "verdict")["result"] = "maybe" },
		"thread mode unknown": func(p map[string]any) {
			obj(p, "effective")["threads"].([]any)[0].(map[string]any)["mode"] = "weird"
		},
		"thread without tids": func(p map[string]any) {
			obj(p, "effective")["threads"].([]any)[0].(map[string]any)["tids"] = []any{}
		},
		"kubernetes unknown field": func(p map[string]any) {
			obj(p, "container")["kubernetes"] = map[string]any{"smuggled": "x"}
		},
		"annotation not a string": func(p map[string]any) {
			obj(p, "container")["annotations"] = map[string]any{"a": 1}
		},
		"container id empty": func(p map[string]any) { obj(p, "container")["id"] = "" },
	} {
		t.Run(name, func(t *testing.T) {
			p := realPredicate(t)
			mutate(p)
			if err := Validate(mustJSON(t, p)); err == nil {
				t.Errorf("accepted: %s", mustJSON(t, p))
			}
		})
	}
	if err := Validate([]byte(`not json`)); err == nil {
		t.Fatal("not JSON passed")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
