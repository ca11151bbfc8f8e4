package bytecode

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

// OCIProfile is a decision table written as an OCI linux.seccomp object,
// with what the OCI format could not express.
type OCIProfile struct {
	Seccomp specs.LinuxSeccomp
	// Approximations lists every place where the profile, compiled by
	// libseccomp, would not behave exactly like the table.
	Approximations []string
	// Primary is the architecture whose rules the profile carries; OCI
	// profiles have no per-architecture rules.
	Primary *arch.Arch
	// Inexact holds "arch/syscall" for every named syscall whose rules the
	// profile does not reproduce exactly.
	Inexact map[string]bool
}

func (p *OCIProfile) inexact(a *arch.Arch, name string) {
	if p.Inexact == nil {
		p.Inexact = map[string]bool{}
	}
	p.Inexact[a.Name+"/"+name] = true
}

// OCI writes the table as an OCI profile. The rules of the primary
// architecture (the native one when the table has it, else the first)
// become the profile's rules for every listed architecture; where another
// architecture's table differs, that is reported as an approximation.
func (t *Table) OCI() (*OCIProfile, error) {
	var tables []*ArchTable
	var other *ArchTable
	for i := range t.Arches {
		at := &t.Arches[i]
		if at.Arch != nil {
			tables = append(tables, at)
		} else if other == nil || len(at.Values) > len(other.Values) {
			other = at
		}
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("the filter does not test any known architecture; an OCI profile cannot express it")
	}
	primary := tables[0]
	for _, at := range tables {
		if at.Arch == arch.Native() {
			primary = at
		}
	}
	p := &OCIProfile{Primary: primary.Arch}
	dflt := mostCommonFinal(primary)
	p.Seccomp.DefaultAction, p.Seccomp.DefaultErrnoRet = ociAction(dflt, p, "default action")
	for _, at := range tables {
		p.Seccomp.Architectures = append(p.Seccomp.Architectures, specs.Arch("SCMP_ARCH_"+strings.ToUpper(at.Arch.Name)))
	}
	if other != nil {
		if len(other.Syscalls) != 1 || len(other.Syscalls[0].Rules) != 1 || other.Syscalls[0].Rules[0].Action.Effective() != ActKillThread {
			p.note("other architectures: the filter gives %s; libseccomp's bad-arch action in an OCI profile is KILL_THREAD", rulesString(other.Syscalls[0].Rules))
		}
	}
	for i := range primary.Syscalls {
		sr := &primary.Syscalls[i]
		if sr.Name == "" {
			if !(len(sr.Rules) == 1 && sr.Rules[0].Action == dflt) {
				p.note("%s %s: unnamed numbers get %s; an OCI profile names syscalls only", primary.Arch.Name, sr.Label(), sr.String())
			}
			continue
		}
		p.addSyscall(primary.Arch, sr, dflt)
	}
	for _, at := range tables {
		if at != primary {
			p.compareArch(primary, at)
		}
	}
	sort.SliceStable(p.Seccomp.Syscalls, func(i, j int) bool {
		return p.Seccomp.Syscalls[i].Names[0] < p.Seccomp.Syscalls[j].Names[0]
	})
	p.Seccomp.Syscalls = groupNames(p.Seccomp.Syscalls)
	return p, nil
}

func (p *OCIProfile) note(format string, args ...any) {
	p.Approximations = append(p.Approximations, fmt.Sprintf(format, args...))
}

// mostCommonFinal returns the unconditional action most named syscalls of
// the table end with.
func mostCommonFinal(at *ArchTable) Action {
	count := map[Action]int{}
	var best Action
	for _, sr := range at.Syscalls {
		if sr.Name == "" {
			continue
		}
		a := sr.Rules[len(sr.Rules)-1].Action
		count[a]++
		if count[a] > count[best] {
			best = a
		}
	}
	return best
}

// addSyscall writes the rules of one syscall. Rules of one syscall are
// disjoint, so each conditional rule is an OCI entry of its own; the final
// rule is the profile's default action or an entry with the negated
// condition of a single preceding rule, or else an unconditional entry.
func (p *OCIProfile) addSyscall(a *arch.Arch, sr *SyscallRules, dflt Action) {
	rules := sr.Rules
	final := rules[len(rules)-1]
	conditional := rules[:len(rules)-1]
	if final.Approximate {
		p.inexact(a, sr.Name)
		p.note("%s %s: the filter's rules could not be modelled exactly (%s)", a.Name, sr.Name, sr.String())
	}
	if final.Action != dflt && len(conditional) == 1 && conditional[0].Action == dflt && len(conditional[0].When) == 1 {
		if neg, ok := negate(conditional[0].When[0]); ok {
			conditional = []Rule{{When: Condition{neg}, Action: final.Action}}
			final.Action = dflt
		}
	}
	if final.Action != dflt {
		action, errno := ociAction(final.Action, p, sr.Name)
		p.Seccomp.Syscalls = append(p.Seccomp.Syscalls, specs.LinuxSyscall{Names: []string{sr.Name}, Action: action, ErrnoRet: errno})
	}
	for _, r := range conditional {
		if r.Action == dflt {
			if final.Action == dflt {
				continue // the default covers it
			}
			// libseccomp (and runc) refuse rules with the default action,
			// and "X unless C" has no other OCI form.
			p.inexact(a, sr.Name)
			p.note("%s %s: %s cannot be written in OCI form when the default action is %s", a.Name, sr.Name, sr.String(), dflt)
			continue
		}
		args, ok := ociArgs(r.When, a)
		if !ok {
			p.inexact(a, sr.Name)
			p.note("%s %s: condition %q cannot be written as OCI argument comparisons", a.Name, sr.Name, r.When)
			continue
		}
		action, errno := ociAction(r.Action, p, sr.Name)
		p.Seccomp.Syscalls = append(p.Seccomp.Syscalls, specs.LinuxSyscall{Names: []string{sr.Name}, Action: action, ErrnoRet: errno, Args: args})
	}
}

// negate returns the comparison that holds exactly when c does not.
func negate(c Comparison) (Comparison, bool) {
	if c.Masked() && c.Op != opNE {
		// A masked inequality has no OCI operator; its negation, a
		// masked equality, has one.
		return c, false
	}
	c.Op = c.Op.negate()
	return c, true
}

// ociArgs writes a condition as OCI argument comparisons: one per
// argument (runc ORs comparisons of the same argument), on the whole
// 64-bit argument, or on the low word for 32-bit architectures.
func ociArgs(cond Condition, a *arch.Arch) ([]specs.LinuxSeccompArg, bool) {
	var out []specs.LinuxSeccompArg
	seen := map[int]bool{}
	bits32 := is32Bit(a)
	for _, c := range cond {
		if c.Operand.Arg < 0 || seen[c.Operand.Arg] {
			return nil, false
		}
		seen[c.Operand.Arg] = true
		mask, value := c.Mask, c.Value
		switch c.Operand.Half {
		case Low:
			if !bits32 {
				if c.Op != opEQ {
					return nil, false
				}
				mask &= 0xffffffff
			}
		case High:
			if bits32 || c.Op != opEQ {
				return nil, false
			}
			mask, value = mask<<32, value<<32
		}
		full := c.Operand.Half == Full && mask == ^uint64(0) || c.Operand.Half == Low && bits32 && mask == 0xffffffff
		arg := specs.LinuxSeccompArg{Index: uint(c.Operand.Arg), Value: value}
		switch {
		case full:
			arg.Op = specs.LinuxSeccompOperator(opOCI[c.Op])
		case c.Op == opEQ:
			arg.Op, arg.Value, arg.ValueTwo = specs.OpMaskedEqual, mask, value
		default:
			return nil, false
		}
		out = append(out, arg)
	}
	return out, true
}

func is32Bit(a *arch.Arch) bool {
	switch a {
	case arch.X86, arch.ARM, arch.MIPS, arch.MIPSEL, arch.S390, arch.X32:
		return true
	}
	return false
}

// ociAction maps an action to its OCI name and errno.
func ociAction(a Action, p *OCIProfile, where string) (specs.LinuxSeccompAction, *uint) {
	a = a.Effective()
	data := uint(a.Data())
	switch a.Kind() {
	case ActKillProcess:
		return specs.ActKillProcess, nil
	case ActKillThread:
		return specs.ActKillThread, nil
	case ActTrap:
		if data != 0 {
			p.note("%s: TRAP data %d is lost (OCI TRAP has no data)", where, data)
		}
		return specs.ActTrap, nil
	case ActErrno:
		return specs.ActErrno, &data
	case ActUserNotif:
		return specs.ActNotify, nil
	case ActTrace:
		return specs.ActTrace, &data
	case ActLog:
		return specs.ActLog, nil
	}
	return specs.ActAllow, nil
}

// groupNames merges consecutive unconditional entries with the same action
// into one entry listing several names, as profiles are usually written.
func groupNames(in []specs.LinuxSyscall) []specs.LinuxSyscall {
	var out []specs.LinuxSyscall
	groups := map[string]int{}
	for _, s := range in {
		if len(s.Args) > 0 {
			out = append(out, s)
			continue
		}
		key := string(s.Action)
		if s.ErrnoRet != nil {
			key += fmt.Sprint(*s.ErrnoRet)
		}
		if i, ok := groups[key]; ok {
			out[i].Names = append(out[i].Names, s.Names...)
			continue
		}
		groups[key] = len(out)
		out = append(out, s)
	}
	return out
}

// compareArch reports named syscalls whose rules on another architecture
// differ from the primary's (by name), which the OCI profile cannot keep.
func (p *OCIProfile) compareArch(primary, at *ArchTable) {
	byName := map[string]string{}
	for _, sr := range primary.Syscalls {
		if sr.Name != "" {
			byName[sr.Name] = sr.String()
		}
	}
	dflt := rulesString([]Rule{{Action: mostCommonFinal(primary)}})
	var differ []string
	for _, sr := range at.Syscalls {
		if sr.Name == "" {
			continue
		}
		want, ok := byName[sr.Name]
		if !ok {
			want = dflt
		}
		if got := sr.String(); got != want {
			p.inexact(at.Arch, sr.Name)
			differ = append(differ, fmt.Sprintf("%s (%s instead of %s)", sr.Name, got, want))
		}
	}
	if len(differ) > 0 {
		p.note("%s: %d syscalls behave differently from %s: %s", at.Arch.Name, len(differ), primary.Arch.Name, strings.Join(differ, ", "))
	}
}
