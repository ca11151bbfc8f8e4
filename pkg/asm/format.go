package asm

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

var (
	// gotoTarget is a line number a jump's text names.
	gotoTarget = lazyRegexp(`goto (\d{4,})`)
	// indexComment is the comment that starts with the instruction's
	// index (the line of the disasm listing).
	indexComment = lazyRegexp(`# (\d{4,})\b`)
)

// Label names the instruction at pc in the assembler form.
func Label(pc int) string { return fmt.Sprintf("L%04d", pc) }

// Format writes prog as Assemble reads it: a .arch directive (opts.Arch),
// a label before every jump target, the disassembler's text with labels
// for line numbers, its comments, and .raw for an instruction whose text
// would assemble to other bytes (fields the text does not show, an
// instruction seccomp refuses), so that Assemble gives prog back byte for
// byte.
func Format(w io.Writer, prog []bpf.Instruction, opts Options) error {
	lines := bc.Disassemble(prog, bc.DisasmOptions{Arch: opts.Arch})
	raw := make([]bool, len(prog))
	// Each pass replaces the lines that came back different; a .raw line
	// gives its exact bytes, so the names after it resolve as they did in
	// the disassembler and the second pass finds nothing new.
	for range 3 {
		var b bytes.Buffer
		write(&b, lines, raw, opts)
		got, err := Assemble(bytes.NewReader(b.Bytes()), opts)
		if err != nil {
			// A line the assembler cannot read: find it and keep it raw.
			var le *Error
			if !asError(err, &le) {
				return fmt.Errorf("format: %w", err)
			}
			if !markLine(b.Bytes(), le.Line, raw) {
				return fmt.Errorf("format: %w", err)
			}
			continue
		}
		changed := false
		for i := range prog {
			if got[i] != prog[i] && !raw[i] {
				raw[i], changed = true, true
			}
		}
		if !changed {
			_, err := w.Write(b.Bytes())
			return err
		}
	}
	var b bytes.Buffer
	write(&b, lines, raw, opts)
	_, err := w.Write(b.Bytes())
	return err
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

// markLine marks raw the instruction written on text line n (1-based).
func markLine(text []byte, n int, raw []bool) bool {
	ls := strings.Split(string(text), "\n")
	if n < 1 || n > len(ls) {
		return false
	}
	// Instruction lines carry their index in the comment write adds.
	m := indexComment().FindStringSubmatch(ls[n-1])
	if m == nil {
		return false
	}
	i, _ := strconv.Atoi(m[1])
	if raw[i] {
		return false
	}
	raw[i] = true
	return true
}

func write(b *bytes.Buffer, lines []bc.Line, raw []bool, opts Options) {
	// Label what the text names: a fall-through the text leaves out
	// needs none.
	targets := map[int]bool{}
	for _, l := range lines {
		if raw[l.Index] {
			continue
		}
		for _, m := range gotoTarget().FindAllStringSubmatch(l.Text, -1) {
			n, _ := strconv.Atoi(m[1])
			targets[n] = true
		}
	}
	if opts.Arch != nil {
		fmt.Fprintf(b, ".arch %s\n", opts.Arch.Name)
	}
	for _, l := range lines {
		if targets[l.Index] {
			fmt.Fprintf(b, "%s:\n", Label(l.Index))
		}
		text := gotoTarget().ReplaceAllStringFunc(l.Text, func(s string) string {
			n, _ := strconv.Atoi(s[len("goto "):])
			return "goto " + Label(n)
		})
		if raw[l.Index] {
			text = fmt.Sprintf(".raw 0x%02x 0x%02x 0x%02x 0x%08x", l.Op, l.Jt, l.Jf, l.K)
		}
		fmt.Fprintf(b, "\t%-40s # %04d", text, l.Index)
		if l.Comment != "" {
			fmt.Fprintf(b, ": %s", l.Comment)
		}
		b.WriteByte('\n')
	}
}
