package bytecode

import (
	"fmt"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/sysconst"
)

// argNamer writes conditions of one syscall with the kernel's parameter
// names and constant names (family == AF_VSOCK); its zero value writes
// them as String does (args[0] == 0x28).
type argNamer struct {
	sys    string
	params []string
}

// namerFor returns the namer of syscall sr on architecture a (nil a: the
// plain form).
func namerFor(a *arch.Arch, sr *SyscallRules) argNamer {
	if a == nil || sr.Name == "" {
		return argNamer{}
	}
	return argNamer{sys: sr.Name, params: a.SyscallArgs(sr.Name)}
}

// signature is the syscall with its parameters: socket(family, type, protocol).
func (n argNamer) signature() string { return signature(n.sys, n.params) }

func (n argNamer) operand(o Operand) string {
	if o.Arg < 0 || o.Arg >= len(n.params) || n.params[o.Arg] == "" {
		return o.String()
	}
	return o.named(n.params[o.Arg])
}

// constants returns the named constants of a comparison's operand: only
// a whole argument or its low word holds them.
func (n argNamer) constants(o Operand) *sysconst.Set {
	if o.Arg < 0 || o.Arg >= len(n.params) || o.Half == High {
		return nil
	}
	return sysconst.For(n.sys, n.params[o.Arg])
}

func (n argNamer) comparison(c Comparison) string {
	if n.sys == "" {
		return c.String()
	}
	set := n.constants(c.Operand)
	value := fmt.Sprintf("%#x", c.Value)
	if set != nil && c.Value <= 0xffffffff {
		if name, ok := set.Format(uint32(c.Value)); ok {
			value = name
		}
	}
	if !c.Masked() {
		return fmt.Sprintf("%s %s %s", n.operand(c.Operand), c.Op, value)
	}
	mask := fmt.Sprintf("%#x", c.Mask)
	if set != nil && c.Mask <= 0xffffffff {
		if name, ok := set.FormatFlags(uint32(c.Mask)); ok {
			mask = name
			if strings.Contains(name, "|") {
				mask = "(" + name + ")"
			}
		}
	}
	return fmt.Sprintf("(%s & %s) %s %s", n.operand(c.Operand), mask, c.Op, value)
}

func (n argNamer) condition(c Condition) string {
	if len(c) == 0 {
		return "always"
	}
	parts := make([]string, len(c))
	for i, cmp := range c {
		parts[i] = n.comparison(cmp)
	}
	return strings.Join(parts, " && ")
}
