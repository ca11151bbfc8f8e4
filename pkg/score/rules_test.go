package score

import (
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
	"github.com/seccomp-attest/seccomp-attest/internal/inputfile/inputfiletest"
	"github.com/seccomp-attest/seccomp-attest/pkg/knowledge"
)

func TestDefaultRules(t *testing.T) {
	r := DefaultRules()
	if r.tierWeight(1) <= r.tierWeight(2) || r.tierWeight(2) <= r.tierWeight(3) {
		t.Errorf("tier weights must decrease with the tier: %v", r.Tiers)
	}
	if !r.ForcesFail(1) || r.ForcesFail(2) {
		t.Error("tier 1 and only tier 1 forces the failing grade")
	}
	for score, want := range map[float64]string{100: "A", 90: "A", 89.9: "B", 65: "D", 0: "F"} {
		if got := r.grade(score, false); got != want {
			t.Errorf("grade(%v) = %s, want %s", score, got, want)
		}
	}
	if r.grade(100, true) != "F" {
		t.Error("a forced grade is the failing one")
	}
}

func TestMergeEntryByEntry(t *testing.T) {
	user, err := ParseRules([]byte(`
tiers:
  "2": {weight: 6}
syscalls:
  clone: {tier: 3}
  getpid: {weight: 2.5}
`), "user.yaml")
	if err != nil {
		t.Fatal(err)
	}
	kb := knowledge.Default()
	m := DefaultRules().Merge(user)
	if m.tierWeight(2) != 6 || m.tierWeight(1) != DefaultRules().tierWeight(1) {
		t.Errorf("tiers: %v", m.Tiers)
	}
	// clone keeps its uses from the default rules, takes the new tier.
	if m.tierOf(kb, "clone") != 3 || len(m.usesOf("clone")) == 0 {
		t.Errorf("clone: tier %d uses %d", m.tierOf(kb, "clone"), len(m.usesOf("clone")))
	}
	if m.weightOf(kb, "getpid") != 2.5 {
		t.Errorf("getpid weight %v", m.weightOf(kb, "getpid"))
	}
	if DefaultRules().tierWeight(2) == 6 || DefaultRules().tierOf(kb, "clone") == 3 {
		t.Error("Merge changed the shared default rules")
	}
}

// The dump is a complete rules file: parsed back it scores the same.
func TestDumpRoundTrip(t *testing.T) {
	kb := knowledge.Default()
	out, err := DefaultRules().Effective(kb).Dump()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseRules(out, "dump")
	if err != nil {
		t.Fatalf("dump does not parse: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ptrace:") || !strings.Contains(string(out), "0x10000011") {
		t.Errorf("dump lacks knowledge tiers or hex probes:\n%s", out)
	}
	stack := fixtureStack(t, "moby-default-v0.2.3.runc.bpf")
	a := mustScore(t, stack)
	b, err := ComputeStack(stack, Options{Rules: back})
	if err != nil {
		t.Fatal(err)
	}
	if a.Score != b.Score || a.RawScore != b.RawScore || a.Grade != b.Grade {
		t.Errorf("dumped rules score %v/%v/%s, embedded %v/%v/%s", b.Score, b.RawScore, b.Grade, a.Score, a.RawScore, a.Grade)
	}
}

func TestParseRulesErrors(t *testing.T) {
	for in, want := range map[string]string{
		`tiers: {"5": {weight: 1}}`:                                                  "not a tier",
		`tiers: {"1": {weight: -1}}`:                                                 "weight",
		`tiers: {"1": {}}`:                                                           "weight",
		`grades: [{grade: A, min: 50}, {grade: B, min: 60}]`:                         "decrease",
		`grades: [{grade: A, min: 50}]`:                                              "min 0",
		`syscalls: {clone: {tier: 0}}`:                                               "tier 0",
		`syscalls: {clone: {uses: [{name: x, tier: 2}]}}`:                            "no probes",
		`syscalls: {clone: {uses: [{name: x, tier: 2, probes: [["0x1g"]]}]}}`:        "unsigned 64-bit",
		`syscalls: {clone: {uses: [{name: x, tier: 2, probes: [[1,2,3,4,5,6,7]]}]}}`: "1 to 6",
		`forceFail: {tiers: [7]}`:                                                    "out of range",
		`colour: red`:                                                                "unknown field",
		`syscalls: {clone: }`:                                                        "empty entry",
	} {
		_, err := ParseRules([]byte(in), "bad.yaml")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "bad.yaml") {
			t.Errorf("ParseRules(%q) = %v, want an error naming the file and %q", in, err, want)
		}
	}
	if _, err := ParseRules(make([]byte, inputfile.Rules.Max+1), "big"); err == nil {
		t.Error("oversized rules accepted")
	}
}

// --rules on a device, a FIFO, a directory or a sparse 1 GiB file is
// refused at once, naming the file, without reading it.
func TestLoadRulesRefusesWhatIsNotARulesFile(t *testing.T) {
	for _, c := range inputfiletest.Cases(t) {
		inputfiletest.CheckRefused(t, c, func(path string) error { _, err := LoadRules(path); return err })
	}
}

// FuzzParseRules: any input either fails with an error or gives rules that
// merge, dump and parse back without panicking.
func FuzzParseRules(f *testing.F) {
	f.Add(defaultRules)
	f.Add([]byte(`syscalls: {clone: {tier: 3, uses: [{name: x, tier: 2, probes: [["0x10"]]}]}}`))
	f.Add([]byte(`{"tiers": {"1": {"weight": 3}}, "grades": [{"grade": "P", "min": 0}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRules(data, "fuzz")
		if err != nil {
			return
		}
		m := DefaultRules().Merge(r)
		out, err := m.Dump()
		if err != nil {
			t.Fatalf("dump: %v", err)
		}
		if _, err := ParseRules(out, "dump"); err != nil {
			t.Fatalf("valid rules dump to something that does not parse: %v\n%s", err, out)
		}
		_ = m.grade(50, false)
	})
}
