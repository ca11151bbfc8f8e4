package bytecode_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/filterfuzz"
	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// The differential fuzzers of the decision table: programs mutated from
// the captured filters or generated from the fuzz bytes, checked against
// the concrete evaluator on boundary inputs (and, as root, the evaluator
// against the kernel). Run one for a while with
//
//	go test -run '^$' -fuzz '^FuzzTableMutated$' -fuzztime 5m ./pkg/bytecode
//
// With FUZZ_FINDINGS_DIR set, inputs that hit a known engine bug (skipped
// so that CI stays green) are written there as reproducers.

// maxGenerated bounds generated programs: small programs reach every
// construct, and each iteration stays fast.
const maxGenerated = 24

var loadedFixtures struct {
	once sync.Once
	list []filterfuzz.Fixture
	err  error
}

// fixtures returns the captured filters, sorted by name.
func fixtures(t testing.TB) []filterfuzz.Fixture {
	loadedFixtures.once.Do(func() {
		loadedFixtures.list, loadedFixtures.err = filterfuzz.LoadFixtures("testdata/fixtures/*.bpf", "testdata/*.bpf")
	})
	if loadedFixtures.err != nil {
		t.Fatal(loadedFixtures.err)
	}
	return loadedFixtures.list
}

// inputLimit bounds the boundary inputs of one fuzz iteration.
func inputLimit() int {
	if testing.Short() {
		return 1500
	}
	return 4000
}

// kernelLimit bounds the calls issued to the kernel per program.
const kernelLimit = 200

// checkStack analyses s and checks its table and paths against the
// evaluator on the boundary inputs of progs; a single filter also goes
// through the kernel oracle when it is available.
func checkStack(t *testing.T, s bc.Stack, progs [][]bpf.Instruction, opt filterfuzz.InputOptions) filterfuzz.Problems {
	t.Helper()
	var ps filterfuzz.Problems
	tab, err := bc.AnalyzeStack(s)
	if errors.Is(err, bc.ErrTooComplex) {
		return nil // bounded, and callers fail closed on it
	}
	if err != nil {
		return append(ps, filterfuzz.Problem{Check: "analyze", Text: err.Error()})
	}
	inputs := filterfuzz.Inputs(progs, []*bc.Table{tab}, opt)
	ps = append(ps, filterfuzz.CheckTable(s, tab, inputs)...)
	paths, err := bc.Paths(s)
	if err != nil {
		return append(ps, filterfuzz.Problem{Check: "paths", Text: err.Error()})
	}
	ps = append(ps, filterfuzz.CheckPaths(s, paths, inputs)...)
	// The kernel judges one iteration in four (chosen by the salt): a
	// traced child costs tens of milliseconds.
	if len(s) == 1 && opt.Salt%4 == 0 && kernelOracleReady() == nil {
		// The kernel can be given x86_64's arch value only: its own inputs.
		opt.OnlyArch = arch.X86_64.Audit
		calls := filterfuzz.Inputs(progs, []*bc.Table{tab}, opt)
		ps = append(ps, checkKernel(t, s[0].Instructions(), calls, kernelLimit)...)
	}
	return ps
}

// checkKernel runs prog in the kernel on (a bounded number of) the
// inputs it can issue and compares each stop with the evaluator.
func checkKernel(t *testing.T, prog []bpf.Instruction, inputs []bc.Data, limit int) filterfuzz.Problems {
	t.Helper()
	if _, ok := filterfuzz.TraceRewrite(prog); !ok {
		return nil
	}
	calls := filterfuzz.KernelInputs(inputs, limit)
	if len(calls) == 0 {
		return nil
	}
	stops, err := filterfuzz.RunKernel(kernelHelper(), prog, calls, time.Minute)
	if err != nil {
		return filterfuzz.Problems{{Check: "kernel.run", Text: err.Error()}}
	}
	return filterfuzz.CheckKernel(prog, stops)
}

// mutationSeeds are op strings that reach each kind of edit once.
func mutationSeeds() [][]byte {
	var out [][]byte
	for kind := range byte(8) {
		out = append(out, []byte{0, kind, 7, 3, 1, 200, 9})
	}
	return append(out, []byte{2, 2, 5, 1, 4, 9, 0, 3, 3}, []byte{1, 5, 1, 2, 4, 3, 17, 200, 1})
}

// FuzzTableMutated mutates a captured filter and checks the decision
// table and paths of the result against the evaluator (and the kernel).
func FuzzTableMutated(f *testing.F) {
	for _, fx := range fixtures(f) {
		for _, ops := range mutationSeeds() {
			f.Add(fx.Name, ops)
		}
	}
	f.Fuzz(func(t *testing.T, name string, ops []byte) {
		fx := filterfuzz.Named(fixtures(t), name)
		prog, m, ok := filterfuzz.Mutate(fx.Prog, ops)
		if !ok {
			return
		}
		flt, err := bc.NewFilter(prog)
		if err != nil {
			t.Fatalf("Mutate returned an invalid program: %v", err)
		}
		opt := filterfuzz.InputOptions{Limit: inputLimit(), Salt: filterfuzz.Salt([]byte(name), ops), Focus: m.Focus}
		ps := checkStack(t, bc.Stack{flt}, [][]bpf.Instruction{prog}, opt)
		filterfuzz.Judge(t, "FuzzTableMutated", ps, func() string {
			return fmt.Sprintf("fixture %s mutated by %x: %s\n%s", fx.Name, ops, strings.Join(m.Steps, "; "), filterfuzz.Describe(prog))
		})
	})
}

// randomSeeds are generator inputs for the programs the known bugs and
// the fuzzers' first finds were about.
func randomSeeds() [][]byte {
	return [][]byte{
		{0, 8, 0, 0, 0, 0},
		{0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20},
		{1, 255, 128, 64, 32, 16, 8, 4, 2, 1, 0, 255, 254, 253},
		{2, 12, 30, 40, 50, 60, 70, 80, 90, 100, 11, 12, 30, 40, 50, 60, 70, 80, 90},
		{3, 9, 22, 35, 48, 61, 74, 87, 100, 113},
	}
}

// FuzzTableRandom generates programs from the fuzz bytes (first byte:
// one program, a stack of two, or a captured filter with a generated one
// stacked on it) and checks their tables and paths against the evaluator.
func FuzzTableRandom(f *testing.F) {
	for _, s := range randomSeeds() {
		f.Add(s)
	}
	// Random seeds of every length give the fuzzer varied programs to
	// start from (a few short ones only reach a few constructs).
	rng := rand.New(rand.NewPCG(13, 1))
	for i := range 24 {
		seed := make([]byte, 2+3*i)
		for j := range seed {
			seed[j] = byte(rng.Uint32())
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		var progs [][]bpf.Instruction
		rest := data[1:]
		switch data[0] % 4 {
		case 0, 1:
			progs = append(progs, filterfuzz.Generate(rest, maxGenerated))
		case 2:
			half := len(rest) / 2
			progs = append(progs, filterfuzz.Generate(rest[:half], maxGenerated/2), filterfuzz.Generate(rest[half:], maxGenerated/2))
		case 3:
			fs := fixtures(t)
			fx := fs[int(data[0]/4)%len(fs)]
			progs = append(progs, fx.Prog, filterfuzz.Generate(rest, maxGenerated/2))
		}
		var s bc.Stack
		for _, p := range progs {
			flt, err := bc.NewFilter(p)
			if err != nil {
				t.Fatalf("Generate returned an invalid program: %v\n%s", err, filterfuzz.Describe(p))
			}
			s = append(s, flt)
		}
		opt := filterfuzz.InputOptions{Limit: inputLimit(), Salt: filterfuzz.Salt(data)}
		ps := checkStack(t, s, progs, opt)
		filterfuzz.Judge(t, "FuzzTableRandom", ps, func() string {
			var b strings.Builder
			fmt.Fprintf(&b, "input %x: stack of %d (oldest first)\n", data, len(progs))
			for i, p := range progs {
				if len(p) > 64 {
					fmt.Fprintf(&b, "filter %d: the %d-instruction fixture %s\n", i, len(p), fixtures(t)[int(data[0]/4)%len(fixtures(t))].Name)
					continue
				}
				fmt.Fprintf(&b, "filter %d:\n%s", i, filterfuzz.Describe(p))
			}
			return b.String()
		})
	})
}

// TestTableBoundariesOfFixtures checks the table of every captured
// filter on all its boundary inputs (no sampling) and its partition of
// the arch and number spaces.
func TestTableBoundariesOfFixtures(t *testing.T) {
	for _, fx := range fixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			t.Parallel() // each fixture is its own filter and inputs
			flt, err := bc.NewFilter(fx.Prog)
			if err != nil {
				t.Fatal(err)
			}
			limit := 0
			if testing.Short() {
				limit = 20000
			}
			tab, err := bc.Analyze(flt)
			if err != nil {
				t.Fatal(err)
			}
			inputs := filterfuzz.Inputs([][]bpf.Instruction{fx.Prog}, []*bc.Table{tab}, filterfuzz.InputOptions{Limit: limit})
			ps := filterfuzz.CheckTable(bc.Stack{flt}, tab, inputs)
			paths, err := bc.Paths(bc.Stack{flt})
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, filterfuzz.CheckPaths(bc.Stack{flt}, paths, inputs)...)
			filterfuzz.Judge(t, "TestTableBoundariesOfFixtures", ps, func() string { return "fixture " + fx.Name })
			t.Logf("%d boundary inputs agree", len(inputs))
		})
	}
}

// The checks must catch what they are for: a table of one program read
// for another disagrees with the evaluator.
func TestCheckTableCatchesWrongTable(t *testing.T) {
	deny := []bpf.Instruction{
		filterfuzz.LoadWord(bc.OffsetNr),
		{Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), Jt: 0, Jf: 1, K: 59},
		filterfuzz.Ret(bc.ActErrno | 1),
		filterfuzz.Ret(bc.ActAllow),
	}
	allow := []bpf.Instruction{filterfuzz.Ret(bc.ActAllow)}
	fd, _ := bc.NewFilter(deny)
	fa, _ := bc.NewFilter(allow)
	tab, err := bc.Analyze(fa)
	if err != nil {
		t.Fatal(err)
	}
	inputs := filterfuzz.Inputs([][]bpf.Instruction{deny}, []*bc.Table{tab}, filterfuzz.InputOptions{})
	if !slices.ContainsFunc(inputs, func(d bc.Data) bool { return d.Nr == 59 }) {
		t.Fatal("boundary inputs miss the compared number")
	}
	if ps := filterfuzz.CheckTable(bc.Stack{fd}, tab, inputs); len(ps.New()) == 0 {
		t.Fatal("CheckTable accepts the table of another program")
	}
	paths, _ := bc.Paths(bc.Stack{fa})
	if ps := filterfuzz.CheckPaths(bc.Stack{fd}, paths, inputs); len(ps.New()) == 0 {
		t.Fatal("CheckPaths accepts the paths of another program")
	}
}

// kernelOracleEnv marks the helper process of the kernel oracle.
const kernelOracleEnv = "BYTECODE_TEST_KERNEL_ORACLE"

// TestKernelOracleHelper is not a test: the kernel oracle runs the test
// binary again with only this function selected, as its traced child.
func TestKernelOracleHelper(t *testing.T) {
	if os.Getenv(kernelOracleEnv) == "" {
		t.Skip("helper process of the kernel oracle")
	}
	filterfuzz.KernelHelperMain()
}

func kernelHelper() *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestKernelOracleHelper$", "-test.count=1")
	// No async preemption: its signals would interrupt the filtered
	// thread between calls.
	cmd.Env = append(os.Environ(), kernelOracleEnv+"=1", "GODEBUG=asyncpreemptoff=1")
	return cmd
}

var kernelOracle struct {
	once sync.Once
	err  error
}

// kernelOracleReady says whether the kernel oracle works here: root,
// x86_64, ptrace and seccomp allowed. It probes once per process.
func kernelOracleReady() error {
	kernelOracle.once.Do(func() {
		switch {
		case !filterfuzz.KernelOracleSupported:
			kernelOracle.err = errors.New("the kernel oracle needs linux/amd64")
			return
		case os.Geteuid() != 0:
			kernelOracle.err = errors.New("the kernel oracle needs root (ptrace of a seccomp-filtered thread)")
			return
		case os.Getenv(kernelOracleEnv) != "":
			kernelOracle.err = errors.New("inside the kernel oracle's helper")
			return
		}
		probe := []bpf.Instruction{filterfuzz.Ret(bc.ActAllow)}
		getpid := bc.Data{Nr: 39, Arch: arch.X86_64.Audit}
		stops, err := filterfuzz.RunKernel(kernelHelper(), probe, []bc.Data{getpid}, 30*time.Second)
		if err == nil && (len(stops) != 1 || stops[0].Index != 0) {
			err = fmt.Errorf("probe: stops %+v", stops)
		}
		kernelOracle.err = err
	})
	return kernelOracle.err
}

// The reproducers of issue 13 that the checks above catch on the engine
// before its fixes (54d0198): regressions now.
func TestIssue13Reproducers(t *testing.T) {
	ldNr := filterfuzz.LoadWord(bc.OffsetNr)
	for name, prog := range map[string][]bpf.Instruction{
		// Item 1: an always-false test on nr cut 0xffffffff (and arch
		// 0xffffffff) out of the table and the paths.
		"nr-max": {ldNr,
			{Op: bpf.Jump(bpf.JmpJGT, bpf.SrcK), K: 0xffffffff, Jt: 2},
			{Op: bpf.Jump(bpf.JmpJEQ, bpf.SrcK), K: 0xffffffff, Jf: 1},
			filterfuzz.Ret(bc.ActAllow), filterfuzz.Ret(bc.ActErrno | 2)},
		// Item 5: the approximate rows of a masked nr test read in order
		// said ALLOW for nr 1, where the kernel gives ERRNO(1).
		"jset-nr": {ldNr,
			{Op: bpf.Jump(bpf.JmpJSET, bpf.SrcK), K: 0x87, Jt: 0, Jf: 1},
			filterfuzz.Ret(bc.ActErrno | 1), filterfuzz.Ret(bc.ActAllow)},
	} {
		t.Run(name, func(t *testing.T) {
			flt, err := bc.NewFilter(prog)
			if err != nil {
				t.Fatal(err)
			}
			ps := checkStack(t, bc.Stack{flt}, [][]bpf.Instruction{prog}, filterfuzz.InputOptions{})
			filterfuzz.Judge(t, "TestIssue13Reproducers", ps, func() string { return filterfuzz.Describe(prog) })
		})
	}
}
