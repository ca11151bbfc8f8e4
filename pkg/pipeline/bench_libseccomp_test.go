//go:build libseccomp

package pipeline

import (
	"context"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// BenchmarkWarmAttest is the hook's work for one container once its
// filters are read, with the verdict cached (every container after the
// first with that profile): open the pipeline (policy, key), read the
// bundle, judge from the cache, sign and write the attestation durably.
//
//	go test -tags libseccomp -run '^$' -bench WarmAttest -benchmem -count 6 ./pkg/pipeline
func BenchmarkWarmAttest(b *testing.B) {
	_, cfg := newPipeline(b, "")
	dir := bundle(b, "moby-default-v0.2.3.profile.json", nil)
	pf := process(4242, []*bytecode.Filter{readFixture(b, "moby-default-v0.2.3.runc.bpf")})
	once := func() {
		p, err := New(cfg, Options{})
		if err != nil {
			b.Fatal(err)
		}
		c := Container{ID: "c", Bundle: dir, PID: 4242, Runtime: "runc"}
		if _, err := p.LoadsFilter(c); err != nil {
			b.Fatal(err)
		}
		if _, err := p.AttestEffective(context.Background(), c, pf); err != nil {
			b.Fatal(err)
		}
	}
	once() // the first container fills the verdict cache
	for b.Loop() {
		once()
	}
}
