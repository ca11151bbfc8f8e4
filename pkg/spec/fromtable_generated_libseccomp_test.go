//go:build cgo && libseccomp

package spec

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
)

// filterGen makes small valid seccomp programs shaped like real filters:
// arch checks, a dispatch on the syscall number (named syscalls, unnamed
// numbers, thresholds, the x32 bit), argument tests on either 32-bit half
// (equality, order, masks, computed masks), sometimes the instruction
// pointer or arithmetic the analysis can only approximate, and every
// kind of action.
type filterGen struct {
	rng *rand.Rand
	// approx allows arithmetic on arguments (approximate tables).
	approx bool
}

// Syscalls libseccomp 2.5.4 knows on x86_64, x32 and x86 alike, with
// argument conditions worth testing, and a few multiplexed on x86.
var genNames = []string{"read", "write", "close", "clone", "personality", "ioctl", "mmap", "prctl",
	"kill", "getpid", "ptrace", "mount", "bpf", "socket", "connect", "shmget", "futex_waitv"}

var genConstants = []uint32{0, 1, 2, 8, 0x28, 0xff, 0x7e020000, 0x20008, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff}

func (g *filterGen) constant() uint32 {
	if g.rng.IntN(4) == 0 {
		return g.rng.Uint32()
	}
	return genConstants[g.rng.IntN(len(genConstants))]
}

func (g *filterGen) action() bytecode.Action {
	switch g.rng.IntN(16) {
	case 0:
		return bytecode.ActKillProcess
	case 1:
		return bytecode.ActKillThread
	case 2:
		return bytecode.ActTrap | bytecode.Action(g.rng.IntN(3))
	case 3:
		return bytecode.ActLog
	case 4:
		return bytecode.ActTrace | bytecode.Action(g.rng.IntN(4))
	case 5:
		return bytecode.ActUserNotif
	case 6, 7, 8:
		return bytecode.ActErrno | bytecode.Action([]int{1, 13, 38}[g.rng.IntN(3)])
	}
	return bytecode.ActAllow
}

func genRet(a bytecode.Action) bpf.Instruction {
	return bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(a)}
}

func genLoad(off uint32) bpf.Instruction {
	return bpf.Instruction{Op: bpf.Load(bpf.SizeW, bpf.ModeABS), K: off}
}

// branch is "if A op k then taken else notTaken", both blocks ending in a
// return (forward jumps only, within 255).
func genBranch(op bpf.JumpOp, k uint32, taken, notTaken []bpf.Instruction) []bpf.Instruction {
	out := []bpf.Instruction{{Op: bpf.Jump(op, bpf.SrcK), K: k, Jf: uint8(len(taken))}}
	return append(append(out, taken...), notTaken...)
}

var jumpOps = []bpf.JumpOp{bpf.JmpJEQ, bpf.JmpJGT, bpf.JmpJGE, bpf.JmpJSET}

// args tests arguments (or the instruction pointer) up to depth more
// times, then returns.
func (g *filterGen) args(depth int) []bpf.Instruction {
	if depth == 0 || g.rng.IntN(3) == 0 {
		return []bpf.Instruction{genRet(g.action())}
	}
	off := uint32(bytecode.OffsetArgs + 8*g.rng.IntN(3) + 4*g.rng.IntN(2))
	if g.rng.IntN(12) == 0 {
		off = bytecode.OffsetIP + 4*uint32(g.rng.IntN(2))
	}
	out := []bpf.Instruction{genLoad(off)}
	switch r := g.rng.IntN(10); {
	case r == 0:
		out = append(out, bpf.Instruction{Op: bpf.ALU(bpf.AluAND, bpf.SrcK), K: g.constant()})
	case r == 1 && g.approx:
		out = append(out, bpf.Instruction{Op: bpf.ALU(bpf.AluADD, bpf.SrcK), K: g.constant()})
	}
	op := jumpOps[g.rng.IntN(len(jumpOps))]
	return append(out, genBranch(op, g.constant(), g.args(depth-1), g.args(depth-1))...)
}

// numbers dispatches on the syscall number of a (A holds the number).
func (g *filterGen) numbers(a *arch.Arch, n int) []bpf.Instruction {
	if n == 0 {
		return []bpf.Instruction{genRet(g.action())}
	}
	var k uint32
	op := bpf.JmpJEQ
	switch r := g.rng.IntN(10); {
	case r < 7:
		if nr, ok := a.SyscallNr(genNames[g.rng.IntN(len(genNames))]); ok {
			k = nr
		}
	case r == 7:
		k = []uint32{0x151, 0x3ff0, 0x1d8, 0xffffffff}[g.rng.IntN(4)]
	case r == 8:
		op, k = bpf.JmpJGT, []uint32{0x1c1, 0x1d7, 100, 0x40000223}[g.rng.IntN(4)]
	default:
		op, k = bpf.JmpJSET, arch.X32SyscallBit
	}
	var taken []bpf.Instruction
	if op == bpf.JmpJEQ && g.rng.IntN(2) == 0 {
		taken = g.args(3)
	} else {
		taken = []bpf.Instruction{genRet(g.action())}
	}
	// The number is still in A after an argument test only if reloaded.
	rest := append([]bpf.Instruction{genLoad(bytecode.OffsetNr)}, g.numbers(a, n-1)...)
	return genBranch(op, k, taken, rest)
}

// program returns a whole filter.
func (g *filterGen) program() []bpf.Instruction {
	body := func(a *arch.Arch) []bpf.Instruction {
		return append([]bpf.Instruction{genLoad(bytecode.OffsetNr)}, g.numbers(a, 1+g.rng.IntN(6))...)
	}
	if g.rng.IntN(8) == 0 {
		return body(arch.X86_64) // no arch check at all
	}
	other := []bpf.Instruction{genRet([]bytecode.Action{bytecode.ActKillThread, bytecode.ActKillProcess, bytecode.ActErrno | 1, bytecode.ActAllow}[g.rng.IntN(4)])}
	if g.rng.IntN(2) == 0 {
		other = genBranch(bpf.JmpJEQ, arch.X86.Audit, body(arch.X86), other)
	}
	return append([]bpf.Instruction{genLoad(bytecode.OffsetArch)}, genBranch(bpf.JmpJEQ, arch.X86_64.Audit, body(arch.X86_64), other)...)
}

// sampleInputs are inputs around the constants of a filter: syscall
// numbers also around those of the compiled profile, arguments (and the
// instruction pointer) around the filter's own.
func sampleInputsAround(prog, compiled []bpf.Instruction) []bytecode.Data {
	around := func(progs ...[]bpf.Instruction) []uint32 {
		values := map[uint32]bool{0: true, 1: true, 0xffffffff: true, arch.X32SyscallBit: true}
		for _, p := range progs {
			for _, in := range p {
				for _, v := range []uint32{in.K - 1, in.K, in.K + 1, in.K &^ arch.X32SyscallBit, in.K | arch.X32SyscallBit} {
					values[v] = true
				}
			}
		}
		var vs []uint32
		for v := range values {
			vs = append(vs, v)
		}
		slices.Sort(vs)
		return vs
	}
	nrs, vs := around(prog, compiled), around(prog)
	var out []bytecode.Data
	for _, av := range []uint32{arch.X86_64.Audit, arch.X86.Audit, arch.AArch64.Audit, 7} {
		for _, nr := range nrs {
			for i, v := range vs {
				w := vs[(i*5+1)%len(vs)]
				for _, args := range [][6]uint64{{uint64(v), uint64(w), uint64(w)}, {uint64(w)<<32 | uint64(v), uint64(v) << 32, uint64(v)<<32 | uint64(w)}} {
					out = append(out, bytecode.Data{Arch: av, Nr: nr, InstructionPointer: uint64(w)<<32 | uint64(v), Args: args})
				}
			}
		}
	}
	return out
}

// TestDecompileOCIGeneratedNeverWeaker decompiles generated filters,
// compiles the profiles as runc and crun would, and requires them never
// weaker than the filter: no weaker or undecided finding of the diff for
// exactly modelled filters, every runc finding one the decompiler reported,
// and, for every filter, no sampled input the profile lets through where
// the filter denies it.
func TestDecompileOCIGeneratedNeverWeaker(t *testing.T) {
	if arch.Native() != arch.X86_64 {
		t.Skip("the generator writes x86_64 filters")
	}
	n := 150
	if testing.Short() {
		n = 40
	}
	// The seeds are independent: each its own program, table, profile
	// and compilers. Only the statistics are shared.
	var statsMu sync.Mutex
	stats := map[string]int{}
	count := func(key string) {
		statsMu.Lock()
		defer statsMu.Unlock()
		stats[key]++
	}
	t.Cleanup(func() { t.Logf("%d generated filters: %v", n, stats) })
	for seed := range uint64(n) {
		g := &filterGen{rng: rand.New(rand.NewPCG(seed, 13)), approx: seed%5 == 0}
		prog := g.program()
		f, err := bytecode.NewFilter(prog)
		if err != nil {
			t.Fatalf("seed %d: generated an invalid program: %v", seed, err)
		}
		stack := bytecode.Stack{f}
		tab, err := bytecode.AnalyzeStack(stack)
		if err != nil {
			count("not analysed")
			continue
		}
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			defer func() {
				if t.Failed() {
					t.Logf("program:\n%s", disassembly(prog))
				}
			}()
			for _, runtime := range []string{RuntimeRunc, RuntimeCrun} {
				p, compiled, res := decompileRoundTrip(t, stack, runtime)
				for i := range res.Findings {
					f := &res.Findings[i]
					switch {
					case f.Kind == compare.Weaker:
						t.Fatalf("%s: weaker: %s %s: %v -> %v when %v\n%s", runtime, f.Arch, f.Label(), f.A, f.B, f.When, profileSummary(p))
					case f.Kind == compare.Undecided && !tab.Approximate:
						t.Fatalf("%s: undecided on an exact table: %s %s: %v -> %v\n%s", runtime, f.Arch, f.Label(), f.A, f.B, profileSummary(p))
					case runtime == RuntimeRunc && f.Kind != compare.Undecided && !reportedIn(p, f):
						t.Fatalf("%s: unreported difference: %s %s %s: %v -> %v when %v (example %+v)\napproximations:\n  %s\n%s",
							runtime, f.Kind, f.Arch, f.Label(), f.A, f.B, f.When, f.Example, approximationList(p), profileSummary(p))
					}
				}
				for _, d := range sampleInputsAround(prog, compiled[0].Instructions()) {
					if want, got := stack.Run(&d).Effective(), compiled.Run(&d).Effective(); !want.Permits() && got.Permits() {
						t.Fatalf("%s: arch %#x nr %#x ip %#x args %#x: the filter gives %v, the profile %v\n%s", runtime, d.Arch, d.Nr, d.InstructionPointer, d.Args, want, got, profileSummary(p))
					}
				}
				if runtime == RuntimeRunc {
					count(fmt.Sprintf("default %s", p.Seccomp.DefaultAction))
					if len(p.Approximations) == 0 {
						count("exact")
					}
					if tab.Approximate {
						count("approximate table")
					}
				}
			}
		})
	}
}

func approximationList(p *OCIProfile) string {
	var out []string
	for _, a := range p.Approximations {
		out = append(out, a.String())
	}
	return strings.Join(out, "\n  ")
}

func disassembly(prog []bpf.Instruction) string {
	var b strings.Builder
	bytecode.WriteDisassembly(&b, prog, bytecode.DisasmOptions{})
	return b.String()
}
