package ociprofile

import (
	"errors"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// Without libseccomp the profile is written but says it is unchecked.
func TestWriteWithoutLibseccompSaysUnverified(t *testing.T) {
	if spec.CompileSupported {
		t.Skip("this build has libseccomp")
	}
	stack := readStackStub(t)
	tab, err := bytecode.AnalyzeStack(stack)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Write(stack, tab, spec.OCIOptions{})
	if !errors.Is(err, ErrUnverified) || p == nil || p.Seccomp.DefaultAction == "" {
		t.Fatalf("profile %v, error %v: want a profile and ErrUnverified", p, err)
	}
}

func readStackStub(t *testing.T) bytecode.Stack {
	t.Helper()
	f, err := bytecode.NewFilter([]bpf.Instruction{
		{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: bytecode.OffsetNr},
		{Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), K: 39, Jf: 1},
		{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActAllow)},
		{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActErrno | 1)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return bytecode.Stack{f}
}
