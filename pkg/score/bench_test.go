package score

import (
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// The target: scoring a ~1000-instruction filter takes at most
// 2 ms. moby-default-v0.2.3.runc.bpf has 1015 instructions.
//
//	go test -run '^$' -bench 'Compute' -count 6 ./pkg/score
func BenchmarkCompute(b *testing.B) {
	stack := fixtureStack(b, "moby-default-v0.2.3.runc.bpf")
	t, err := bytecode.AnalyzeStack(stack)
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Stack: stack}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Compute(t, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComputeStack includes the symbolic analysis of the filter.
func BenchmarkComputeStack(b *testing.B) {
	stack := fixtureStack(b, "moby-default-v0.2.3.runc.bpf")
	for b.Loop() {
		if _, err := ComputeStack(unanalysed(b, stack), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// unanalysed copies the filters of s into new Filters, which carry no
// memoised analysis: each benchmark iteration then analyses afresh, as a
// new process (a hook, a CLI run) does.
func unanalysed(b *testing.B, s bytecode.Stack) bytecode.Stack {
	out := make(bytecode.Stack, len(s))
	for i, f := range s {
		g, err := bytecode.NewFilter(f.Instructions())
		if err != nil {
			b.Fatal(err)
		}
		out[i] = g
	}
	return out
}
