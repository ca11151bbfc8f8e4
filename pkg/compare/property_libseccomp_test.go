//go:build cgo && libseccomp

package compare

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// Property: for random profiles A and B compiled by libseccomp (as runc or
// crun would), "B is weaker than A" on a named x86_64 syscall, as Stacks
// says it, equals what brute-force concrete evaluation of both filters
// finds over that syscall and the argument values that matter (see
// argCandidates: the words of every constant of the rules, their
// neighbours, high words set and cleared).
//
//	go test -tags libseccomp -run Property ./pkg/compare
func TestPropertyWeakerMatchesBruteForce(t *testing.T) {
	const pairs = 500
	rng := rand.New(rand.NewPCG(3, 2026)) // deterministic
	g := &profileGen{rng: rng, calls: arch.X86_64.Syscalls()}
	compiled, weakerPairs, checked, skipped := 0, 0, 0, 0
	for i := 0; i < pairs; i++ {
		a, b, pool := g.pair()
		rt := []string{spec.RuntimeRunc, spec.RuntimeCrun}[rng.IntN(2)]
		sa, errA := spec.Compile(a, rt)
		sb, errB := spec.Compile(b, rt)
		if errA != nil || errB != nil {
			// libseccomp refuses some random rule sets (e.g. the same
			// condition with two actions); they are not profiles at all.
			continue
		}
		compiled++
		res, err := Stacks(sa, sb)
		if err != nil {
			t.Fatalf("pair %d: %v", i, err)
		}
		for _, name := range pool {
			nr, _ := arch.X86_64.SyscallNr(name)
			got := weakerOn(t, res, sa, sb, name)
			cands := argCandidates(name, a, b)
			if combinations(cands) > maxCombinations {
				skipped++
				continue
			}
			checked++
			want, example := bruteWeaker(sa, sb, nr, cands)
			if got != want {
				t.Fatalf("pair %d (%s) %s: Stacks says weaker=%v, brute force %v (example %v)\nA: %s\nB: %s",
					i, rt, name, got, want, example, describe(a), describe(b))
			}
			if want {
				weakerPairs++
			}
		}
	}
	// The generator must exercise both answers, on most pairs.
	if compiled < pairs*3/4 || weakerPairs < pairs/10 || skipped > checked/20 {
		t.Fatalf("%d of %d pairs compiled, %d (pair, syscall) cases checked, %d weaker, %d skipped: the generator is too narrow",
			compiled, pairs, checked, weakerPairs, skipped)
	}
	t.Logf("%d pairs compiled, %d (pair, syscall) cases checked, %d weaker, %d skipped (too many combinations)",
		compiled, checked, weakerPairs, skipped)
}

// maxCombinations bounds the brute force per syscall.
const maxCombinations = 20000

func combinations(cands map[int][]uint64) int {
	n := 1
	for _, vs := range cands {
		n *= len(vs)
		if n > maxCombinations {
			break
		}
	}
	return n
}

// weakerOn says whether res has a weaker x86_64 finding for the syscall,
// and checks that every such finding has a confirmed example.
func weakerOn(t *testing.T, res *Result, a, b bytecode.Stack, name string) bool {
	t.Helper()
	found := false
	for i := range res.Findings {
		f := &res.Findings[i]
		if f.Arch != "x86_64" || f.Syscall != name {
			continue
		}
		if f.Kind == Undecided {
			t.Fatalf("%s: undecided finding on a libseccomp filter", name)
		}
		if f.Kind != Weaker {
			continue
		}
		found = true
		if !f.Confirmed || f.Example == nil || !b.Run(f.Example).Permits() || a.Run(f.Example).Permits() {
			t.Fatalf("%s: weaker finding without a confirmed example: %+v", name, f)
		}
	}
	return found
}

// bruteWeaker runs both stacks on every combination of the candidate
// values of the arguments the rules test (others 0).
func bruteWeaker(a, b bytecode.Stack, nr uint32, cands map[int][]uint64) (bool, *bytecode.Data) {
	idx := make([]int, 0, len(cands))
	for i := range cands {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	d := &bytecode.Data{Arch: arch.X86_64.Audit, Nr: nr}
	var walk func(k int) bool
	walk = func(k int) bool {
		if k == len(idx) {
			return b.Run(d).Permits() && !a.Run(d).Permits()
		}
		for _, v := range cands[idx[k]] {
			d.Args[idx[k]] = v
			if walk(k + 1) {
				return true
			}
		}
		return false
	}
	if walk(0) {
		return true, d
	}
	return false, nil
}

// argCandidates collects, per argument index the rules test, the values
// worth trying for one syscall. The filters compare 32-bit words
// (libseccomp splits 64-bit comparisons into high and low word), so every
// high word is combined with every low word, each from the words of all the
// constants and masks of both profiles' conditions for that syscall, with
// their neighbours, the masked variants and the extremes 0 and 0xffffffff.
// The words of every condition are tried on every argument: libseccomp 2.5
// can compare one argument with another's constant when it merges rules
// (this property test found such filters). Of the values whose words
// compare alike (<, =, >, masked =) with every constant's words, one is
// kept (equality across halves counts too), so that the product over
// several arguments stays small.
func argCandidates(name string, profiles ...*specs.LinuxSeccomp) map[int][]uint64 {
	var conds []specs.LinuxSeccompArg
	var words []uint32
	for _, p := range profiles {
		for _, r := range p.Syscalls {
			if !slices.Contains(r.Names, name) {
				continue
			}
			for _, c := range r.Args {
				conds = append(conds, c)
				consts := []uint64{c.Value}
				if c.Op == specs.OpMaskedEqual {
					// (arg & Value) == ValueTwo: the bits outside the
					// mask are free, the ones inside set or not.
					consts = append(consts, c.ValueTwo, c.ValueTwo&c.Value, c.ValueTwo|^c.Value, ^c.ValueTwo&c.Value)
				}
				for _, v := range consts {
					for _, w := range []uint32{uint32(v >> 32), uint32(v)} {
						words = append(words, w, w+1, w-1)
					}
				}
			}
		}
	}
	words = append(words, 0, 0xffffffff)
	slices.Sort(words)
	words = slices.Compact(words)
	var values []uint64
	seen := map[string]bool{}
	for _, hi := range words {
		for _, lo := range words {
			sig := make([]byte, 0, 4*len(conds))
			for _, c := range conds {
				h, l := uint32(c.Value>>32), uint32(c.Value)
				// Equality across halves too: libseccomp 2.5 can test one
				// word against another half's constant.
				sig = append(sig, cmp3(hi, h), cmp3(lo, l), b2u(hi == l), b2u(lo == h))
				if c.Op == specs.OpMaskedEqual {
					sig = append(sig, cmp3(hi&h, uint32(c.ValueTwo>>32)&h), cmp3(lo&l, uint32(c.ValueTwo)&l))
				}
			}
			if !seen[string(sig)] {
				seen[string(sig)] = true
				values = append(values, uint64(hi)<<32|uint64(lo))
			}
		}
	}
	out := map[int][]uint64{}
	for _, c := range conds {
		out[int(c.Index)] = values
	}
	return out
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// cmp3 orders two words: 0 less, 1 equal, 2 greater.
func cmp3(a, b uint32) byte {
	switch {
	case a < b:
		return 0
	case a == b:
		return 1
	}
	return 2
}

// profileGen makes random OCI profiles over a small pool of syscalls, so
// that A and B meet on the same names.
type profileGen struct {
	rng   *rand.Rand
	calls []arch.Syscall
	args  [2]uint // the argument indexes of the current pair's rules
}

var (
	genActions = []specs.LinuxSeccompAction{specs.ActAllow, specs.ActErrno, specs.ActKillProcess,
		specs.ActTrap, specs.ActLog, specs.ActKillThread}
	genOps = []specs.LinuxSeccompOperator{specs.OpEqualTo, specs.OpNotEqual, specs.OpGreaterThan,
		specs.OpGreaterEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpMaskedEqual}
	genValues = []uint64{0, 1, 2, 40, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 32,
		1<<32 | 40, 1 << 63, ^uint64(0)}
)

func (g *profileGen) value() uint64 {
	switch g.rng.IntN(4) {
	case 0:
		return uint64(g.rng.Uint32())
	case 1:
		return g.rng.Uint64()
	}
	return genValues[g.rng.IntN(len(genValues))]
}

func (g *profileGen) action() (specs.LinuxSeccompAction, *uint) {
	a := genActions[g.rng.IntN(len(genActions))]
	if a != specs.ActErrno {
		return a, nil
	}
	e := uint(1 + g.rng.IntN(3))
	return a, &e
}

func (g *profileGen) rule(pool []string) specs.LinuxSyscall {
	r := specs.LinuxSyscall{Names: []string{pool[g.rng.IntN(len(pool))]}}
	r.Action, r.ErrnoRet = g.action()
	for n := g.rng.IntN(3); n > 0; n-- {
		c := specs.LinuxSeccompArg{Index: g.args[g.rng.IntN(2)], Op: genOps[g.rng.IntN(len(genOps))], Value: g.value()}
		if c.Op == specs.OpMaskedEqual {
			c.ValueTwo = g.value() & c.Value
		}
		r.Args = append(r.Args, c)
	}
	return r
}

// pair returns A, B and the syscalls they name. B is either independent of
// A or A with one mutation, so that "weaker" and "not weaker" both occur.
func (g *profileGen) pair() (a, b *specs.LinuxSeccomp, pool []string) {
	// Two argument indexes (out of six) per pair keep the brute force
	// small while rules still combine arguments.
	g.args = [2]uint{uint(g.rng.IntN(6)), uint(g.rng.IntN(6))}
	for len(pool) < 3 {
		name := g.calls[g.rng.IntN(len(g.calls))].Name
		if !slices.Contains(pool, name) {
			pool = append(pool, name)
		}
	}
	gen := func() *specs.LinuxSeccomp {
		p := &specs.LinuxSeccomp{Architectures: []specs.Arch{specs.ArchX86_64}}
		p.DefaultAction, p.DefaultErrnoRet = g.action()
		for n := 1 + g.rng.IntN(3); n > 0; n-- {
			p.Syscalls = append(p.Syscalls, g.rule(pool))
		}
		return p
	}
	a = gen()
	if g.rng.IntN(3) == 0 {
		return a, gen(), pool
	}
	b = clone(a)
	switch i := g.rng.IntN(len(b.Syscalls)); g.rng.IntN(5) {
	case 0: // a removed rule
		b.Syscalls = slices.Delete(b.Syscalls, i, i+1)
	case 1: // another action
		b.Syscalls[i].Action, b.Syscalls[i].ErrnoRet = g.action()
	case 2: // another constant
		if n := len(b.Syscalls[i].Args); n > 0 {
			b.Syscalls[i].Args[g.rng.IntN(n)].Value = g.value()
		}
	case 3: // an added rule
		b.Syscalls = append(b.Syscalls, g.rule(pool))
	case 4: // another default
		b.DefaultAction, b.DefaultErrnoRet = g.action()
	}
	return a, b, pool
}

func clone(p *specs.LinuxSeccomp) *specs.LinuxSeccomp {
	q := *p
	q.Syscalls = nil
	for _, r := range p.Syscalls {
		r.Args = slices.Clone(r.Args)
		q.Syscalls = append(q.Syscalls, r)
	}
	return &q
}

func describe(p *specs.LinuxSeccomp) string {
	s := fmt.Sprintf("default %s", p.DefaultAction)
	for _, r := range p.Syscalls {
		s += fmt.Sprintf("; %v %s", r.Names, r.Action)
		if r.ErrnoRet != nil {
			s += fmt.Sprintf("(%d)", *r.ErrnoRet)
		}
		for _, c := range r.Args {
			s += fmt.Sprintf(" arg%d %s %#x/%#x", c.Index, c.Op, c.Value, c.ValueTwo)
		}
	}
	return s
}
