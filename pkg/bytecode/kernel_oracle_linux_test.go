//go:build linux && amd64

package bytecode_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/filterfuzz"
	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// The kernel is the judge of the evaluator: each captured filter, every
// RET rewritten to report its index through SECCOMP_RET_TRACE, runs in a
// traced child on the boundary inputs the kernel can be given here
// (x86_64 and x32 numbers, any arguments); the evaluator must reach the
// same RET on the same seccomp_data. The table is checked against the
// evaluator elsewhere (TestTableBoundariesOfFixtures, the fuzzers).
func TestEvaluatorAgreesWithKernelOnFixtures(t *testing.T) {
	if err := kernelOracleReady(); err != nil {
		t.Skip(err)
	}
	limit := 3000
	if testing.Short() {
		limit = 300
	}
	total := 0
	for _, fx := range fixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			flt, err := bc.NewFilter(fx.Prog)
			if err != nil {
				t.Fatal(err)
			}
			tab, err := bc.Analyze(flt)
			if err != nil {
				t.Fatal(err)
			}
			inputs := filterfuzz.Inputs([][]bpf.Instruction{fx.Prog}, []*bc.Table{tab},
				filterfuzz.InputOptions{OnlyArch: arch.X86_64.Audit})
			calls := filterfuzz.KernelInputs(inputs, limit)
			stops, err := filterfuzz.RunKernel(kernelHelper(), fx.Prog, calls, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if len(stops) != len(calls) {
				t.Fatalf("%d stops for %d calls", len(stops), len(calls))
			}
			ps := filterfuzz.CheckKernel(fx.Prog, stops)
			filterfuzz.Judge(t, "TestEvaluatorAgreesWithKernelOnFixtures", ps, func() string { return "fixture " + fx.Name })
			total += len(stops)
		})
	}
	t.Logf("%d kernel-checked calls", total)
}

// Generated programs reach what compiled filters do not: ALU on
// arguments, scratch memory, X compares, unknown actions, jumps on the
// instruction pointer.
func TestEvaluatorAgreesWithKernelOnGenerated(t *testing.T) {
	if err := kernelOracleReady(); err != nil {
		t.Skip(err)
	}
	n := 150
	if testing.Short() {
		n = 15
	}
	rng := rand.New(rand.NewPCG(13, 2))
	checked, stops := 0, 0
	for i := 0; i < n; i++ {
		seed := make([]byte, 64)
		for j := range seed {
			seed[j] = byte(rng.Uint32())
		}
		prog := filterfuzz.Generate(seed, maxGenerated)
		if _, ok := filterfuzz.TraceRewrite(prog); !ok {
			continue
		}
		inputs := filterfuzz.Inputs([][]bpf.Instruction{prog}, nil, filterfuzz.InputOptions{OnlyArch: arch.X86_64.Audit})
		calls := filterfuzz.KernelInputs(inputs, kernelLimit)
		got, err := filterfuzz.RunKernel(kernelHelper(), prog, calls, time.Minute)
		if err != nil {
			t.Fatalf("program %x: %v\n%s", seed, err, filterfuzz.Describe(prog))
		}
		ps := filterfuzz.CheckKernel(prog, got)
		filterfuzz.Judge(t, "TestEvaluatorAgreesWithKernelOnGenerated", ps, func() string {
			return filterfuzz.Describe(prog)
		})
		checked++
		stops += len(got)
	}
	if checked < n/2 {
		t.Fatalf("only %d of %d generated programs could run in the kernel", checked, n)
	}
	t.Logf("%d programs, %d kernel-checked calls", checked, stops)
}

// The oracle must see what the kernel does, not what the evaluator says:
// a program whose RET depends on the x32 bit and an argument's high word
// reaches each RET for the inputs that select it.
func TestKernelOracleReportsEachReturn(t *testing.T) {
	if err := kernelOracleReady(); err != nil {
		t.Skip(err)
	}
	prog := []bpf.Instruction{
		filterfuzz.LoadWord(bc.OffsetNr),
		{Op: bpf.Jump(bpf.JmpJSET, bpf.SrcK), Jt: 0, Jf: 1, K: arch.X32SyscallBit},
		filterfuzz.Ret(bc.ActErrno | 1), // 2: x32
		filterfuzz.LoadWord(bc.OffsetArgs + 4),
		{Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), Jt: 0, Jf: 1, K: 1},
		filterfuzz.Ret(bc.ActKillProcess), // 5: args[0].hi == 1
		filterfuzz.Ret(bc.ActAllow),       // 6
	}
	calls := []bc.Data{
		{Nr: 39, Arch: arch.X86_64.Audit},
		{Nr: 39 | arch.X32SyscallBit, Arch: arch.X86_64.Audit},
		{Nr: 39, Arch: arch.X86_64.Audit, Args: [6]uint64{1<<32 | 7}},
		{Nr: 0xffffffff, Arch: arch.X86_64.Audit, Args: [6]uint64{1 << 32}},
	}
	stops, err := filterfuzz.RunKernel(kernelHelper(), prog, calls, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, s := range stops {
		got = append(got, s.Index)
	}
	want := []int{6, 2, 5, 2}
	if len(got) != len(want) {
		t.Fatalf("indexes %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("indexes %v, want %v", got, want)
		}
	}
	if ps := filterfuzz.CheckKernel(prog, stops); len(ps) != 0 {
		t.Fatal(ps)
	}
}
