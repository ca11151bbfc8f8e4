package wire

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// The hook program's command line becomes its request here, with the
// paths made absolute from the program's own directory (the daemon's is
// another), and --socket taken out wherever it is.
func TestParseHookArgs(t *testing.T) {
	req, socket, err := ParseHookArgs([]string{"--config", "c.yaml", "--policy", "p.yaml", "--key=/k", "--log", "-", "--store", "s", "--socket=/x.sock", "poststart"}, "/bundle", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := HookRequest{Stage: StagePoststart, Config: "/bundle/c.yaml", Override: Override{Policy: "/bundle/p.yaml", Key: "/k", Log: "-", Store: "/bundle/s"}}
	if socket != "/x.sock" || req.Stage != want.Stage || req.Config != want.Config || req.Override != want.Override {
		t.Errorf("got %+v on %q, want %+v", req, socket, want)
	}
	if req, _, _ := ParseHookArgs([]string{"--policy", "preset:strict", "createRuntime"}, "/bundle", io.Discard); req.Override.Policy != "preset:strict" {
		t.Errorf("a preset is not a path: %q", req.Override.Policy)
	}
	for _, bad := range [][]string{{"prestop"}, {"--bogus", "poststart"}, {}, {"poststart", "poststop"}, {"--mode", "lenient", "poststart"}} {
		var stderr strings.Builder
		if _, _, err := ParseHookArgs(bad, "/", &stderr); err == nil || stderr.Len() == 0 {
			t.Errorf("%q: accepted (%v), said %q", bad, err, stderr.String())
		}
	}
}

// A kind travels by name; a name the daemon does not know is an error
// that names it, and a request must have a kind.
func TestKindJSON(t *testing.T) {
	b, err := json.Marshal(Request{Kind: KindWrapper})
	if err != nil || !strings.Contains(string(b), `"kind":"wrapper-runc"`) {
		t.Fatalf("%s %v", b, err)
	}
	var r Request
	if err := json.Unmarshal(b, &r); err != nil || r.Kind != KindWrapper {
		t.Fatalf("%+v %v", r, err)
	}
	if err := json.Unmarshal([]byte(`{"kind":"other"}`), &r); err == nil || !strings.Contains(err.Error(), `unknown request kind "other"`) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := json.Marshal(Request{}); err == nil {
		t.Error("a request without a kind was sent")
	}
}
