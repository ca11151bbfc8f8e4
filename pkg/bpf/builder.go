package bpf

import "fmt"

// Builder writes a program with symbolic jump targets: jumps name labels,
// and Program resolves them to the forward offsets classic BPF needs.
// A label may stand at the end of the program, for a jump into whatever
// follows it (a prefix put in front of another program).
//
// The zero value is ready to use. The first error (a label defined twice)
// is kept and returned by Program.
type Builder struct {
	prog   []Instruction
	labels map[string]int
	jumps  []pendingJump
	err    error
}

// pendingJump is a jump whose targets are labels, resolved by Program.
type pendingJump struct {
	pc     int
	jt, jf string // conditional targets; "" is the next instruction
	ja     string // the target of JA
}

// Emit appends an instruction as it is.
func (b *Builder) Emit(op Opcode, k uint32) {
	b.prog = append(b.prog, Instruction{Op: op, K: k})
}

// Label names the position of the next instruction.
func (b *Builder) Label(name string) {
	if b.labels == nil {
		b.labels = map[string]int{}
	}
	if _, dup := b.labels[name]; dup && b.err == nil {
		b.err = fmt.Errorf("label %q defined twice", name)
	}
	b.labels[name] = len(b.prog)
}

// JumpIf appends a conditional jump comparing A with k: to jt when the
// comparison holds, else to jf ("" for either is the next instruction).
func (b *Builder) JumpIf(op JumpOp, k uint32, jt, jf string) {
	b.jumps = append(b.jumps, pendingJump{pc: len(b.prog), jt: jt, jf: jf})
	b.Emit(Jump(op, SrcK), k)
}

// JumpIfX is JumpIf comparing A with X.
func (b *Builder) JumpIfX(op JumpOp, jt, jf string) {
	b.jumps = append(b.jumps, pendingJump{pc: len(b.prog), jt: jt, jf: jf})
	b.Emit(Jump(op, SrcX), 0)
}

// Goto appends an unconditional jump (JA) to a label.
func (b *Builder) Goto(label string) {
	b.jumps = append(b.jumps, pendingJump{pc: len(b.prog), ja: label})
	b.Emit(Jump(JmpJA, SrcK), 0)
}

// Program resolves the jumps and returns the program. Targets must lie
// ahead of their jump, and a conditional jump reaches at most 255
// instructions past the next one (use Goto beyond).
func (b *Builder) Program() ([]Instruction, error) {
	if b.err != nil {
		return nil, b.err
	}
	prog := append([]Instruction(nil), b.prog...)
	for _, j := range b.jumps {
		in := &prog[j.pc]
		if in.Op.JumpOp() == JmpJA {
			off, err := b.offset(j.pc, j.ja)
			if err != nil {
				return nil, err
			}
			in.K = uint32(off)
			continue
		}
		jt, err := b.offset(j.pc, j.jt)
		if err != nil {
			return nil, err
		}
		jf, err := b.offset(j.pc, j.jf)
		if err != nil {
			return nil, err
		}
		if jt > 255 || jf > 255 {
			return nil, fmt.Errorf("instruction %d: conditional jump of %d instructions (at most 255; use Goto)", j.pc, max(jt, jf))
		}
		in.Jt, in.Jf = uint8(jt), uint8(jf)
	}
	return prog, nil
}

// offset is the distance from the instruction after pc to label ("" is
// that instruction).
func (b *Builder) offset(pc int, label string) (int, error) {
	if label == "" {
		return 0, nil
	}
	target, ok := b.labels[label]
	switch {
	case !ok:
		return 0, fmt.Errorf("instruction %d: jump to undefined label %q", pc, label)
	case target <= pc:
		return 0, fmt.Errorf("instruction %d: jump to label %q at %d goes backwards (jumps go forward only)", pc, label, target)
	}
	return target - pc - 1, nil
}
