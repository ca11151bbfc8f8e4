package compare

import (
	"encoding/json"
	"fmt"
)

// Report is the documented JSON form of a Result (docs/dump-json.md, the
// "diff" of an attestation's predicate): counts per kind and every finding
// with its example input in hex.
type Report struct {
	Equivalent bool            `json:"equivalent"`
	Counts     map[string]int  `json:"counts"`
	Findings   []FindingReport `json:"findings"`
}

// FindingReport is one Finding in JSON.
type FindingReport struct {
	Kind      string       `json:"kind"`
	Arch      string       `json:"arch"`
	Syscall   string       `json:"syscall,omitempty"`
	First     uint32       `json:"first"`
	Last      uint32       `json:"last"`
	A         string       `json:"a"`
	B         string       `json:"b"`
	When      string       `json:"when,omitempty"`
	Example   *InputReport `json:"example,omitempty"`
	Confirmed bool         `json:"confirmed"`
}

// InputReport is a seccomp_data input in JSON, numbers in hex.
type InputReport struct {
	Arch string   `json:"arch"`
	Nr   uint32   `json:"nr"`
	IP   string   `json:"instructionPointer"`
	Args []string `json:"args"`
}

// Report returns the JSON form of r.
func (r *Result) Report() Report {
	out := Report{Equivalent: r.Equivalent(), Counts: map[string]int{}, Findings: []FindingReport{}}
	for _, k := range []Kind{Weaker, Stricter, Changed, Undecided} {
		out.Counts[k.String()] = r.Count(k)
	}
	for i := range r.Findings {
		out.Findings = append(out.Findings, r.Findings[i].Report())
	}
	return out
}

// Report returns the JSON form of f.
func (f *Finding) Report() FindingReport {
	fr := FindingReport{Kind: f.Kind.String(), Arch: f.Arch, Syscall: f.Syscall, First: f.First, Last: f.Last,
		A: f.A.String(), B: f.B.String(), Confirmed: f.Confirmed}
	if len(f.When) > 0 {
		fr.When = f.When.String()
	}
	if d := f.Example; d != nil {
		in := &InputReport{Arch: fmt.Sprintf("%#08x", d.Arch), Nr: d.Nr, IP: fmt.Sprintf("%#x", d.InstructionPointer), Args: []string{}}
		for _, a := range d.Args {
			in.Args = append(in.Args, fmt.Sprintf("%#x", a))
		}
		fr.Example = in
	}
	return fr
}

// MarshalJSON writes r in its Report form.
func (r *Result) MarshalJSON() ([]byte, error) { return json.Marshal(r.Report()) }
