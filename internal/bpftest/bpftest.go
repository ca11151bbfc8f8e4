// Package bpftest holds what the tests of several packages need of
// classic BPF programs (it depends on pkg/bpf alone, so that pkg/bytecode's
// own tests can use it too).
package bpftest

import "github.com/seccomp-attest/seccomp-attest/pkg/bpf"

// InterestingValues returns the constants of a program and their
// neighbours, after a few fixed boundaries: the values where a filter's
// behaviour can change. Each value is listed once, in the order found.
func InterestingValues(prog []bpf.Instruction) []uint32 {
	seen := map[uint32]bool{}
	var out []uint32
	add := func(v uint32) {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, v := range []uint32{0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x40000000} {
		add(v)
	}
	for _, in := range prog {
		add(in.K - 1)
		add(in.K)
		add(in.K + 1)
		add(in.K | 0x40000000)
	}
	return out
}
