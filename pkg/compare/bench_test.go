package compare

import (
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/testfixture"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// Speed target (issue 3): diff of two ~1000-instruction filters, all
// architectures, at most 2 ms. Docker 20.10's default as loaded by runc
// (974 instructions) and by crun (960):
//
//	go test -run '^$' -bench DiffDockerDefault -count 6 ./pkg/compare
func BenchmarkDiffDockerDefaultRuncVsCrun(b *testing.B) {
	const dir = "../bytecode/testdata/fixtures/"
	runc := bytecode.Stack{testfixture.ReadFilter(b, dir+"docker-default.runc.bpf")}
	crun := bytecode.Stack{testfixture.ReadFilter(b, dir+"docker-default.crun.bpf")}
	b.ReportAllocs()
	for b.Loop() {
		res, err := Stacks(unanalysed(b, runc), unanalysed(b, crun))
		if err != nil || res.Count(Weaker) != 0 || res.Count(Changed) == 0 {
			b.Fatalf("unexpected diff: %v", err)
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
