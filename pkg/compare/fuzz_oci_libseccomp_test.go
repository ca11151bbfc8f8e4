//go:build cgo && libseccomp

package compare

import (
	"errors"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/filterfuzz"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

func init() { ociCheck = ociRoundTrip }

// ociRoundTrip decompiles s into an OCI profile (Table.OCI), compiles that
// with libseccomp as crun would, and requires the result never weaker
// than s: no weaker finding, and no boundary input the profile lets
// through where s denies it. Failures are issue 13 item 2 until its fix
// lands.
func ociRoundTrip(s bytecode.Stack, inputs []bytecode.Data) filterfuzz.Problems {
	var ps filterfuzz.Problems
	tab, err := bytecode.AnalyzeStack(s)
	if err != nil {
		return nil
	}
	p, took, err := ociWithin(tab, ociTimeLimit)
	if took > ociTimeLimit {
		ps.Add(filterfuzz.BugOCIWeaker, "oci.time", "decompile --format oci took more than %v (diff answers within 1 s)", ociTimeLimit)
		return ps
	}
	if err != nil {
		return nil // no OCI form, and the decompiler says so
	}
	rules := 0
	for _, sc := range p.Seccomp.Syscalls {
		rules += len(sc.Names) * max(1, len(sc.Args))
	}
	if rules > spec.MaxRules {
		// spec.Compile's own cap (libseccomp's time grows with the
		// square of the rules), not the runtimes': no round trip here.
		return nil
	}
	compiled, err := spec.Compile(&p.Seccomp, spec.RuntimeCrun)
	if err != nil {
		ps.Add(filterfuzz.BugOCIWeaker, "oci.compile", "libseccomp refuses the decompiled profile: %v", err)
		return ps
	}
	res, err := Stacks(s, compiled)
	if errors.Is(err, bytecode.ErrTooComplex) {
		return nil
	}
	if err != nil {
		ps.Add(filterfuzz.New, "oci.compare", "%v", err)
		return ps
	}
	for i := range res.Findings {
		if f := &res.Findings[i]; f.Kind == Weaker {
			ps.Add(filterfuzz.BugOCIWeaker, "oci.weaker", "%s %s: filter %v, recompiled profile %v (%s)", f.Arch, f.Label(), f.A, f.B, f.Call())
		}
	}
	for i := range inputs {
		d := &inputs[i]
		if ra, rb := s.Run(d).Effective(), compiled.Run(d).Effective(); permits(rb) && !permits(ra) {
			ps.Add(filterfuzz.BugOCIWeaker, "oci.weaker-input", "%s: filter %v, recompiled profile %v", filterfuzz.DataString(d), ra, rb)
		}
	}
	return ps
}

// ociTimeLimit bounds the decompilation of one fuzz input: go test's
// fuzzing kills a worker whose iteration takes 10 s as hung.
const ociTimeLimit = 2 * time.Second

// ociWithin is spec.FromTable(tab, spec.OCIOptions{}) given at most
// limit; past it, it returns took > limit and leaves the decompilation to
// finish in the background.
func ociWithin(tab *bytecode.Table, limit time.Duration) (*spec.OCIProfile, time.Duration, error) {
	type result struct {
		p   *spec.OCIProfile
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		p, err := spec.FromTable(tab, spec.OCIOptions{})
		done <- result{p, err}
	}()
	select {
	case r := <-done:
		return r.p, time.Since(start), r.err
	case <-time.After(limit):
		return nil, limit + 1, nil
	}
}

// Every captured filter, decompiled and recompiled, is never weaker.
func TestOCIRoundTripNeverWeaker(t *testing.T) {
	for _, fx := range fixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			s := stackOf(t, fx.Prog)
			tab, err := bytecode.AnalyzeStack(s)
			if err != nil {
				t.Fatal(err)
			}
			inputs := filterfuzz.Inputs([][]bpf.Instruction{fx.Prog}, []*bytecode.Table{tab}, filterfuzz.InputOptions{Limit: 20000})
			filterfuzz.Judge(t, "TestOCIRoundTripNeverWeaker", ociRoundTrip(s, inputs), func() string { return "fixture " + fx.Name })
		})
	}
}
