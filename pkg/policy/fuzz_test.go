package policy

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxPolicyBytes bounds a fuzzed policy; real ones are a few hundred bytes.
const maxPolicyBytes = 64 << 10

// FuzzPolicyParse feeds Parse arbitrary bytes: it never panics; an error
// names the policy and says what is wrong; an accepted policy is complete
// (the defaults filled in), keeps the rules normalize enforces, and reads
// back the same from its own JSON, so that nothing a file says is lost or
// changed on the way.
func FuzzPolicyParse(f *testing.F) {
	for _, path := range []string{"default.yaml", "presets/strict.yaml"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, seed := range []string{
		`{"mode":"audit","baselines":["builtin:docker-default","bpf:a.bpf,b.bpf"],"minScore":60}`,
		"denySyscalls: [ptrace, kexec_load]\nexceptions:\n  - name: ^debug-\n    annotation: team=infra\n    reason: profiling\n",
		"baselines: []\nnotWeakerThanIntended: false\nallowUnconfined: true\n",
		"minScore: .nan\n",
		"minScore: 500\n",
		"exceptions:\n  - name: '('\n    reason: x\n",
		"denySyscallz: [ptrace]\n",
		// Aliases that expand to billions of nodes unless the decoder
		// bounds them.
		"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
			"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n" +
			"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ndenySyscalls: *h\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxPolicyBytes {
			return
		}
		const name = "fuzz.yaml"
		p, err := Parse(data, name, "/etc/seccomp-attest")
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "policy "+name+": ") || len(msg) <= len("policy "+name+": ") {
				t.Fatalf("error %q does not name the policy and the problem", msg)
			}
			return
		}
		checkComplete(t, p)
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("accepted policy does not marshal: %v", err)
		}
		again, err := Parse(out, name, "/etc/seccomp-attest")
		if err != nil {
			t.Fatalf("policy re-read from its own JSON %s: %v", out, err)
		}
		if out2, _ := json.Marshal(again); string(out2) != string(out) {
			t.Fatalf("policy changed on re-reading:\n%s\n%s", out, out2)
		}
	})
}

// checkComplete checks what every accepted policy holds.
func checkComplete(t *testing.T, p *Policy) {
	t.Helper()
	if p.Mode != ModeEnforce && p.Mode != ModeAudit {
		t.Fatalf("mode %q accepted", p.Mode)
	}
	if p.Baselines == nil || p.NotWeakerThanIntended == nil {
		t.Fatal("defaults not filled in")
	}
	if p.MinScore != nil && (math.IsNaN(*p.MinScore) || *p.MinScore < 0 || *p.MinScore > 100) {
		t.Fatalf("minScore %v accepted (scores are 0-100)", *p.MinScore)
	}
	seen := map[string]bool{}
	for _, s := range p.DenySyscalls {
		if s == "" || seen[s] {
			t.Fatalf("denySyscalls %q accepted", p.DenySyscalls)
		}
		seen[s] = true
	}
	for i, e := range p.Exceptions {
		if e.Reason == "" || (e.Name == "" && e.Annotation == "") {
			t.Fatalf("exceptions[%d] %+v accepted", i, e)
		}
		if e.Name != "" && e.nameRE == nil {
			t.Fatalf("exceptions[%d]: name %q not compiled", i, e.Name)
		}
	}
	if p.dir != filepath.Clean(p.dir) {
		t.Fatalf("dir %q", p.dir)
	}
}
