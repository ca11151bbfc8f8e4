package bpftest

import (
	"slices"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
)

func TestInterestingValues(t *testing.T) {
	prog := []bpf.Instruction{{Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), K: 5}, {Op: bpf.Ret(bpf.RetK), K: 0}}
	want := []uint32{0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x40000000, 4, 5, 6, 0x40000005}
	if got := InterestingValues(prog); !slices.Equal(got, want) {
		t.Errorf("InterestingValues = %#x, want %#x", got, want)
	}
}
