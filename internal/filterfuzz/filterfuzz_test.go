package filterfuzz

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// Generated programs are valid, within the size asked for, the same for
// the same bytes, and reach the constructs the fuzzers exist for.
func TestGenerateMakesValidVariedPrograms(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	seen := map[bpf.Opcode]bool{}
	for range 2000 {
		b := randomBytes(rng, rng.IntN(100))
		prog := Generate(b, 24)
		if err := bpf.Validate(prog); err != nil {
			t.Fatalf("Generate(%x) is invalid: %v\n%s", b, err, Describe(prog))
		}
		if len(prog) > 24 {
			t.Fatalf("Generate(%x) has %d instructions", b, len(prog))
		}
		if again := Generate(b, 24); !slices.Equal(prog, again) {
			t.Fatalf("Generate(%x) is not deterministic", b)
		}
		for _, in := range prog {
			seen[in.Op] = true
		}
	}
	for _, op := range []bpf.Opcode{
		bpf.Load(bpf.SizeW, bpf.ModeABS), bpf.Jump(bpf.JmpJSET, bpf.SrcK), bpf.Jump(bpf.JmpJGE, bpf.SrcX),
		bpf.Ret(bpf.RetA), bpf.ALU(bpf.AluAND, bpf.SrcK), bpf.ALU(bpf.AluDIV, bpf.SrcX),
		bpf.Store, bpf.LoadX(bpf.SizeW, bpf.ModeMEM), bpf.Misc(bpf.MiscTAX), bpf.Jump(bpf.JmpJA, bpf.SrcK),
	} {
		if !seen[op] {
			t.Errorf("no generated program has opcode %#04x", uint16(op))
		}
	}
}

// Every kind of mutation applies to a captured filter and keeps it valid
// most of the time.
func TestMutateAppliesEveryKind(t *testing.T) {
	fs, err := LoadFixtures("../../pkg/bytecode/testdata/fixtures/docker-default.runc.bpf")
	if err != nil {
		t.Fatal(err)
	}
	prog := fs[0].Prog
	kinds := []string{"ret ", "jt ", "k ", "arch check", "inserted", "swapped", "ld [", "op "}
	for kind, word := range kinds {
		ops := []byte{0, byte(kind), 9, 3, 1, 200, 9, 4, 4, 4}
		out, m, ok := Mutate(prog, ops)
		if !ok {
			t.Fatalf("kind %d: invalid result: %v", kind, m.Steps)
		}
		if len(m.Steps) != 1 || !strings.Contains(m.Steps[0], strings.TrimSpace(word)) && !(kind == 1 && strings.Contains(m.Steps[0], "jf ")) {
			t.Fatalf("kind %d: steps %q", kind, m.Steps)
		}
		if slices.Equal(out, prog) && kind != 5 { // a swap may pick one number twice
			t.Fatalf("kind %d (%s): nothing changed", kind, m.Steps[0])
		}
	}
	rng := rand.New(rand.NewPCG(2, 2))
	valid := 0
	for range 500 {
		if _, _, ok := Mutate(prog, randomBytes(rng, 12)); ok {
			valid++
		}
	}
	if valid < 400 {
		t.Fatalf("only %d of 500 mutations are valid", valid)
	}
}

// An inserted compare keeps every jump on its target.
func TestInsertBeforeKeepsJumpTargets(t *testing.T) {
	prog := []bpf.Instruction{
		LoadWord(bc.OffsetNr),
		jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 1, 2, 0), // to the insertion point, or on
		jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 2, 0, 2), // to 3, or over it to 5
		stmt(bpf.Jump(bpf.JmpJA, bpf.SrcK), 2),        // over it to 6
		Ret(bc.ActErrno | 2),
		Ret(bc.ActErrno | 3),
		Ret(bc.ActAllow),
	}
	out, ok := insertBefore(prog, 4, []bpf.Instruction{LoadWord(bc.OffsetArgs), jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 7, 0, 1), Ret(bc.ActTrap)})
	if !ok || bpf.Validate(out) != nil {
		t.Fatalf("insert failed: %v", ok)
	}
	for _, c := range []struct {
		nr   uint32
		arg  uint64
		want bc.Action
	}{{1, 0, bc.ActErrno | 2}, {1, 7, bc.ActTrap}, {2, 7, bc.ActAllow}, {3, 7, bc.ActErrno | 3}} {
		d := bc.Data{Nr: c.nr, Args: [6]uint64{c.arg}}
		f, _ := bc.NewFilter(out)
		if got := f.Run(&d); got != c.want {
			t.Errorf("nr %d arg %d: %v, want %v\n%s", c.nr, c.arg, got, c.want, Describe(out))
		}
	}
}

// The boundary inputs hold the values where filters change behaviour:
// each compared constant and its neighbours, the ends of the 32-bit
// space for arch and nr, x32 forms, argument high words set.
func TestInputsHoldTheBoundaries(t *testing.T) {
	prog := []bpf.Instruction{
		LoadWord(bc.OffsetArch),
		jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), arch.X86_64.Audit, 0, 5),
		LoadWord(bc.OffsetNr),
		jump(bpf.Jump(bpf.JmpJGE, bpf.SrcK), 300, 3, 0),
		LoadWord(bc.OffsetArgs + 8 + 4), // args[1].hi
		jump(bpf.Jump(bpf.JmpJSET, bpf.SrcK), 0x10, 0, 1),
		Ret(bc.ActErrno | 1),
		Ret(bc.ActAllow),
	}
	inputs := Inputs([][]bpf.Instruction{prog}, nil, InputOptions{})
	has := func(what string, ok func(d *bc.Data) bool) {
		t.Helper()
		if !slices.ContainsFunc(inputs, func(d bc.Data) bool { return ok(&d) }) {
			t.Errorf("no input with %s among %d", what, len(inputs))
		}
	}
	for _, nr := range []uint32{0, 299, 300, 301, 0xffffffff, 300 | arch.X32SyscallBit} {
		has("nr "+hexString(nr)+" on x86_64", func(d *bc.Data) bool { return d.Nr == nr && d.Arch == arch.X86_64.Audit })
	}
	for _, a := range []uint32{0, arch.X86_64.Audit - 1, arch.X86_64.Audit + 1, 0xffffffff} {
		has("arch "+hexString(a), func(d *bc.Data) bool { return d.Arch == a })
	}
	has("args[1] high bit 4 set on a tested pair", func(d *bc.Data) bool {
		return d.Nr == 300 && d.Arch == arch.X86_64.Audit && d.Args[1]>>32&0x10 != 0
	})
	has("args[1] high word clear on a tested pair", func(d *bc.Data) bool {
		return d.Nr == 300 && d.Arch == arch.X86_64.Audit && d.Args[1]>>32 == 0
	})
	limited := Inputs([][]bpf.Instruction{prog}, nil, InputOptions{Limit: 50, Salt: 3})
	if len(limited) > 60 || len(limited) == 0 {
		t.Errorf("limit 50 gave %d inputs", len(limited))
	}
}

func hexString(v uint32) string { return DataString(&bc.Data{Nr: v})[len("arch=0x0 nr="):] }

// A table with a gap at the top of the number space (issue 13 item 1),
// or anywhere, is caught, and so are overlapping rows.
func TestGaps(t *testing.T) {
	if missing, overlap := gaps([]span{{0, 0xfffffffe}}); len(missing) != 1 || missing[0] != (span{0xffffffff, 0xffffffff}) || overlap {
		t.Errorf("gap at 0xffffffff: %v %v", missing, overlap)
	}
	if missing, _ := gaps([]span{{0, 5}, {7, 0xffffffff}}); len(missing) != 1 || missing[0] != (span{6, 6}) {
		t.Errorf("gap at 6: %v", missing)
	}
	if missing, overlap := gaps([]span{{0, 5}, {5, 0xffffffff}}); len(missing) != 0 || !overlap {
		t.Error("overlap not seen")
	}
}

// TraceRewrite turns each RET K into RET TRACE with its index and refuses
// what the kernel oracle cannot run.
func TestTraceRewrite(t *testing.T) {
	prog := []bpf.Instruction{LoadWord(bc.OffsetNr), jump(bpf.Jump(bpf.JmpJEQ, bpf.SrcK), 1, 0, 1), Ret(bc.ActKillProcess), Ret(bc.ActAllow)}
	out, ok := TraceRewrite(prog)
	if !KernelOracleSupported {
		t.Skip("no kernel oracle on this platform")
	}
	if !ok || out[2].K != uint32(bc.ActTrace)|2 || out[3].K != uint32(bc.ActTrace)|3 || out[1] != prog[1] {
		t.Fatalf("rewrite: %v %v", ok, out)
	}
	if _, ok := TraceRewrite([]bpf.Instruction{{Op: bpf.Ret(bpf.RetA)}}); ok {
		t.Fatal("RET A rewritten")
	}
}
