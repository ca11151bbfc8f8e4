package bytecode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	netbpf "golang.org/x/net/bpf"
)

// seeds are programs the fuzzers start from: real filters in testdata and
// small ones that reach every instruction seccomp allows.
func seeds(t testing.TB) [][]byte {
	out := [][]byte{
		bpf.Encode(allowList),
		bpf.Encode([]bpf.Instruction{stmt(bpf.Ret(bpf.RetK), uint32(ActAllow))}),
		bpf.Encode([]bpf.Instruction{
			stmt(bpf.Load(bpf.SizeW, bpf.ModeABS), OffsetArgs),
			stmt(bpf.Store, 0),
			stmt(bpf.LoadX(bpf.SizeW, bpf.ModeMEM), 0),
			stmt(bpf.Load(bpf.SizeW, bpf.ModeLEN), 0),
			stmt(bpf.ALU(bpf.AluDIV, bpf.SrcX), 0),
			stmt(bpf.ALU(bpf.AluLSH, bpf.SrcX), 0),
			stmt(bpf.ALU(bpf.AluNEG, bpf.SrcK), 0),
			stmt(bpf.Misc(bpf.MiscTAX), 0),
			jump(bpf.Jump(bpf.JmpJSET, bpf.SrcX), 0, 0, 1),
			stmt(bpf.Ret(bpf.RetA), 0),
			stmt(bpf.ALU(bpf.AluXOR, bpf.SrcK), 0x7fff0000),
			stmt(bpf.Ret(bpf.RetA), 0),
		}),
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.bpf"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzDecode checks that bpf.Decode refuses exactly the inputs that are not a
// whole, non-empty array of at most bpf.MaxInstructions sock_filters, and that
// bpf.Encode gives back the bytes it decoded.
func FuzzDecode(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, raw []byte) {
		prog, err := bpf.Decode(raw)
		framed := len(raw) > 0 && len(raw)%bpf.InstructionSize == 0 && len(raw) <= bpf.MaxInstructions*bpf.InstructionSize
		if framed != (err == nil) {
			t.Fatalf("bpf.Decode(%d bytes) error = %v", len(raw), err)
		}
		if err != nil {
			return
		}
		if len(prog) != len(raw)/bpf.InstructionSize {
			t.Fatalf("bpf.Decode(%d bytes) = %d instructions", len(raw), len(prog))
		}
		if back := bpf.Encode(prog); !bytes.Equal(back, raw) {
			t.Fatalf("bpf.Encode(bpf.Decode(x)) != x:\n%x\n%x", back, raw)
		}
	})
}

// FuzzValidate checks that bpf.Validate and Disassemble take any program
// without panicking, that refusals say where, and that what bpf.Validate
// accepts keeps the promises the evaluator relies on.
func FuzzValidate(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		prog, err := bpf.Decode(raw)
		if err != nil {
			return
		}
		lines := Disassemble(prog, DisasmOptions{})
		if len(lines) != len(prog) {
			t.Fatalf("Disassemble: %d lines for %d instructions", len(lines), len(prog))
		}
		for i, l := range lines {
			if l.Index != i || l.Text == "" {
				t.Fatalf("Disassemble line %d: %+v", i, l)
			}
		}
		verr := bpf.Validate(prog)
		if verr != nil {
			var ve *bpf.ValidationError
			if !errors.As(verr, &ve) {
				t.Fatalf("bpf.Validate error %T, want *bpf.ValidationError", verr)
			}
			if ve.Index < -1 || ve.Index >= len(prog) {
				t.Fatalf("bpf.Validate error at index %d of %d: %v", ve.Index, len(prog), verr)
			}
			if _, err := NewFilter(prog); err == nil {
				t.Fatal("NewFilter accepts what bpf.Validate refuses")
			}
			return
		}
		// Accepted programs: every jump lands inside, the last instruction
		// returns, every load stays in seccomp_data.
		for i, in := range prog {
			switch {
			case in.Class() == bpf.ClassJMP && in.JumpOp() == bpf.JmpJA:
				if i+1+int(in.K) >= len(prog) {
					t.Fatalf("accepted JA at %d lands outside", i)
				}
			case in.IsConditionalJump():
				if i+1+int(in.Jt) >= len(prog) || i+1+int(in.Jf) >= len(prog) {
					t.Fatalf("accepted jump at %d lands outside", i)
				}
			case in.Op == bpf.Load(bpf.SizeW, bpf.ModeABS):
				if in.K >= DataSize || in.K%4 != 0 {
					t.Fatalf("accepted load of offset %d at %d", in.K, i)
				}
			}
		}
		if last := prog[len(prog)-1]; last.Class() != bpf.ClassRET {
			t.Fatalf("accepted program ends with %#04x", last.Op)
		}
		if _, err := NewFilter(prog); err != nil {
			t.Fatalf("NewFilter refuses what bpf.Validate accepts: %v", err)
		}
	})
}

// dataBytes is the inverse of dataFrom.
func dataBytes(d Data) []byte {
	b := make([]byte, DataSize)
	for off := uint32(0); off < DataSize; off += 4 {
		binary.LittleEndian.PutUint32(b[off:], d.Word(off))
	}
	return b
}

// dataFrom builds seccomp_data from fuzz bytes (zero-padded to 64).
func dataFrom(b []byte) *Data {
	var buf [DataSize]byte
	copy(buf[:], b)
	d := &Data{
		Nr:                 binary.LittleEndian.Uint32(buf[0:]),
		Arch:               binary.LittleEndian.Uint32(buf[4:]),
		InstructionPointer: binary.LittleEndian.Uint64(buf[8:]),
	}
	for i := range d.Args {
		d.Args[i] = binary.LittleEndian.Uint64(buf[OffsetArgs+8*i:])
	}
	return d
}

// referenceRun evaluates prog with golang.org/x/net/bpf's VM, an
// implementation independent of this package. Its VM reads packets
// big-endian, so the packet holds each 32-bit word of seccomp_data in
// big-endian order: every seccomp load is an aligned 32-bit word, so it
// then reads exactly the value the kernel reads from the little-endian
// struct. ok is false for programs where that VM's semantics differ from
// the kernel's: it has no NEG, does not mask shift amounts in X to 5 bits
// as the kernel's 32-bit ALU does, and loads `ldx len` into A.
func referenceRun(t *testing.T, prog []bpf.Instruction, d *Data) (ret uint32, ok bool) {
	insns := make([]netbpf.Instruction, len(prog))
	for i, in := range prog {
		switch {
		case in.Op == bpf.ALU(bpf.AluNEG, bpf.SrcK),
			in.Op == bpf.ALU(bpf.AluLSH, bpf.SrcX), in.Op == bpf.ALU(bpf.AluRSH, bpf.SrcX),
			in.Op == bpf.LoadX(bpf.SizeW, bpf.ModeLEN):
			return 0, false
		}
		insns[i] = netbpf.RawInstruction{Op: uint16(in.Op), Jt: in.Jt, Jf: in.Jf, K: in.K}.Disassemble()
	}
	vm, err := netbpf.NewVM(insns)
	if err != nil {
		t.Fatalf("x/net/bpf refuses a program bpf.Validate accepts: %v", err)
	}
	var pkt [DataSize]byte
	for off := uint32(0); off < DataSize; off += 4 {
		binary.BigEndian.PutUint32(pkt[off:], d.Word(off))
	}
	n, err := vm.Run(pkt[:])
	if err != nil {
		t.Fatalf("x/net/bpf: %v", err)
	}
	return uint32(n), true
}

// FuzzEvaluate runs two valid filters on one seccomp_data: each must agree
// with the reference VM, and their stack must combine them as the kernel's
// seccomp_run_filters does.
func FuzzEvaluate(f *testing.F) {
	ss := seeds(f)
	data := [][]byte{
		make([]byte, DataSize),
		dataBytes(Data{Nr: 59, Arch: 0xc000003e, Args: [6]uint64{40, 1 << 32}}),
		dataBytes(Data{Nr: 0x40000000, Arch: 0xc000003e, InstructionPointer: ^uint64(0)}),
		dataBytes(Data{Nr: 102, Arch: 0x40000003, Args: [6]uint64{1, 2, 3, 4, 5, 6}}),
	}
	for i, s := range ss {
		for _, d := range data {
			f.Add(s, ss[(i+1)%len(ss)], d)
		}
	}
	f.Fuzz(func(t *testing.T, raw1, raw2, rawData []byte) {
		older, err := ParseFilter(raw1)
		if err != nil {
			return
		}
		newer, err := ParseFilter(raw2)
		if err != nil {
			return
		}
		d := dataFrom(rawData)
		r1, r2 := older.Run(d), newer.Run(d)
		for _, c := range []struct {
			f   *Filter
			got Action
		}{{older, r1}, {newer, r2}} {
			if want, ok := referenceRun(t, c.f.Instructions(), d); ok && uint32(c.got) != want {
				t.Fatalf("Run = %#x, x/net/bpf = %#x on %+v", uint32(c.got), want, *d)
			}
		}
		// The kernel starts from ALLOW, runs newest first and replaces the
		// result only with a strictly stronger action (signed compare of
		// the action bits), so ties keep the newer filter's value.
		got := Stack{older, newer}.Run(d)
		want := ActAllow
		for _, r := range []Action{r2, r1} {
			if int32(r.Kind()) < int32(want.Kind()) {
				want = r
			}
		}
		if got != want {
			t.Fatalf("Stack.Run = %#x, want %#x (older %#x, newer %#x)", uint32(got), uint32(want), uint32(r1), uint32(r2))
		}
		// Alone, a filter's value stands if it is stronger than ALLOW;
		// otherwise the result is plain ALLOW (any ALLOW data is dropped).
		wantOne := ActAllow
		if int32(r2.Kind()) < int32(ActAllow) {
			wantOne = r2
		}
		if one := (Stack{newer}).Run(d); one != wantOne {
			t.Fatalf("stack of one filter = %#x, want %#x", uint32(one), uint32(wantOne))
		}
	})
}
