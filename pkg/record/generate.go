package record

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/knowledge"
)

// The generated profile's actions. Syscalls the workload never made get
// EPERM, like Docker's and podman's defaults: programs treat it as "not
// permitted here" rather than "not implemented" (ENOSYS makes some of
// them take a fallback path that was never recorded either).
const (
	errnoEPERM  = 1
	errnoENOSYS = 38
)

// MaxArgRules bounds the rules one syscall's argument values expand to:
// the recorded values of each argument are kept apart (not as tuples), so
// a rule is one combination of them (their product). Past the bound the
// argument with the most values is left unconditioned, which allows more
// and never breaks the workload.
const MaxArgRules = 32

// cloneNamespaceFlags are the clone flags that create namespaces:
// CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|
// CLONE_NEWPID|CLONE_NEWNET, the mask Docker's default profile tests.
// CLONE_NEWTIME (0x80) is not among them: for clone it is the exit signal
// byte, and the kernel accepts it only from clone3, unshare and setns.
const cloneNamespaceFlags = 0x7e020000

// GenerateOptions tune Generate.
type GenerateOptions struct {
	// Base, when not nil, is the filter a base profile compiles to (for
	// runc): the generated profile then holds only what the base does
	// not already allow for the recorded calls, to be added to the base.
	Base bytecode.Stack
	// BaseSource names the base profile in notes.
	BaseSource string
	// AllowIncomplete generates from a recording whose recorder did not
	// see the workload to its end; the result says so (Generated.Incomplete).
	AllowIncomplete bool
	// DropUnnamed leaves out syscall numbers the architecture's table has
	// no name for (the profile formats name syscalls) instead of refusing.
	DropUnnamed bool
}

// Generated is a least-privilege profile made from a recording.
type Generated struct {
	// Seccomp is the profile in OCI form; the other formats are written
	// from it (Encode).
	Seccomp *specs.LinuxSeccomp
	// Incomplete is set when the recording was incomplete (and
	// AllowIncomplete was given); Problem says why.
	Incomplete bool
	Problem    string
	// Base is BaseSource when the profile holds only additions to a base.
	Base string
	// Notes say what a reviewer must know: choices the generator made
	// that are not a plain "allow what was recorded".
	Notes []string
}

// use is one architecture's calls of one syscall.
type use struct {
	arch *arch.Arch
	nr   uint32 // as in seccomp_data.nr (x32 with X32SyscallBit)
	u    *SyscallUse
}

// Generate turns a recording into a least-privilege profile: default
// ERRNO(EPERM), every recorded syscall allowed (on the argument values
// recorded, where few were seen), clone3 answered ENOSYS (see below), and
// the known syscalls not allowed named with ERRNO(EPERM) (pinNames) so
// that runc's ENOSYS stub starts above the syscall table
// this generator knows: runc answers ENOSYS only for numbers newer than
// the profile, EPERM for every known syscall the workload did not make.
func Generate(r *Recording, opts GenerateOptions) (*Generated, error) {
	g := &Generated{Base: opts.BaseSource}
	if !r.Complete {
		if !opts.AllowIncomplete {
			return nil, fmt.Errorf("recording of %s is incomplete (%s): a profile from it may miss syscalls the workload needs; "+
				"give --allow-incomplete to generate one anyway, marked incomplete", r.describe(), r.problem())
		}
		g.Incomplete, g.Problem = true, r.problem()
		g.Notes = append(g.Notes, "INCOMPLETE: the recording is incomplete ("+r.problem()+"); the profile may deny syscalls the workload needs")
	}
	if len(r.Arches) == 0 {
		return nil, fmt.Errorf("recording of %s holds no syscalls", r.describe())
	}
	var base *baseFilter
	if opts.Base != nil {
		t, err := bytecode.AnalyzeStack(opts.Base)
		if err != nil {
			return nil, fmt.Errorf("base profile %s: %w", opts.BaseSource, err)
		}
		base = &baseFilter{stack: opts.Base, table: t}
	}

	var arches []*arch.Arch
	byName := map[string][]use{}
	for _, a := range arch.All {
		ac := r.Arches[a.Name]
		if ac == nil {
			continue
		}
		arches = append(arches, a)
		nrs := make([]uint32, 0, len(ac.Syscalls))
		for nr := range ac.Syscalls {
			nrs = append(nrs, nr)
		}
		slices.Sort(nrs)
		var unnamed []uint32
		var unnamedCalls uint64
		for _, nr := range nrs {
			u := ac.Syscalls[nr]
			if u == nil {
				return nil, fmt.Errorf("recording: arch %s syscall %d: null entry", a.Name, nr)
			}
			name, ok := a.SyscallName(nr + a.NrBase)
			if !ok {
				if !opts.DropUnnamed {
					return nil, fmt.Errorf("arch %s: syscall number %d was recorded but has no name in this seccomp-attest's %s table; "+
						"profiles name syscalls, so it cannot be allowed (give --drop-unnamed to leave it out: it then gets ENOSYS under runc, EPERM under crun)",
						a.Name, nr, a.Name)
				}
				unnamed = append(unnamed, nr)
				unnamedCalls += u.Count
				continue
			}
			byName[name] = append(byName[name], use{arch: a, nr: nr + a.NrBase, u: u})
		}
		if len(unnamed) > 0 {
			// One note per architecture, whatever the recording holds:
			// the notes go into the attestation, which must stay
			// readable by verify.
			g.Notes = append(g.Notes, fmt.Sprintf("left out: arch %s: %d syscall numbers (%d calls) have no name: %s",
				a.Name, len(unnamed), unnamedCalls, listNumbers(unnamed, 16)))
		}
	}

	// The recording profile let these through without telling the
	// recorder: whether the workload made them is unknown, so they are
	// allowed, whatever their arguments.
	var unobserved []string
	for _, name := range r.Unobserved {
		for _, a := range arches {
			if nr, ok := a.SyscallNr(name); ok {
				byName[name] = append(byName[name], use{arch: a, nr: nr, u: &SyscallUse{}})
				if !slices.Contains(unobserved, name) {
					unobserved = append(unobserved, name)
				}
			}
		}
	}
	if len(unobserved) > 0 {
		g.Notes = append(g.Notes, fmt.Sprintf("allowed without being observed: %s (the recording profile let them through without asking the recorder)",
			strings.Join(unobserved, ", ")))
	}

	// A syscall that takes in memory what others take in registers does
	// their work whatever the filter says about them (openat2 opens what
	// open and openat open): denying them would protect nothing, and score
	// and check report such a profile. They are added, and said so; but
	// only where that holds on every architecture of the profile (a name
	// is allowed on all of them): i386's socketcall does not make x86_64's
	// socket, connect or bind unfilterable, so they are not added for it.
	for _, m := range knowledge.Default().MemoryArgs {
		if _, ok := byName[m.Syscall]; !ok || m.Syscall == "clone3" {
			continue // clone3 is answered ENOSYS below
		}
		var added, notAdded, without []string
		for _, c := range m.Covers {
			if _, ok := byName[c]; ok {
				continue
			}
			var lacking []string
			for _, a := range arches {
				_, hasCover := a.SyscallNr(c)
				if _, hasM := a.SyscallNr(m.Syscall); hasCover && !hasM {
					lacking = append(lacking, a.Name)
				}
			}
			if len(lacking) > 0 {
				notAdded = append(notAdded, c)
				for _, n := range lacking {
					if !slices.Contains(without, n) {
						without = append(without, n)
					}
				}
				continue
			}
			for _, a := range arches {
				if nr, ok := a.SyscallNr(c); ok {
					byName[c] = append(byName[c], use{arch: a, nr: nr, u: &SyscallUse{}})
				}
			}
			if _, ok := byName[c]; ok {
				added = append(added, c)
			}
		}
		if len(added) > 0 {
			g.Notes = append(g.Notes, fmt.Sprintf("ADDED %s: %s was recorded and does their work with its arguments in memory, out of the filter's reach, "+
				"so denying them would protect nothing", strings.Join(added, ", "), m.Syscall))
		}
		if len(notAdded) > 0 {
			g.Notes = append(g.Notes, fmt.Sprintf("not added: %s, although %s was recorded and does their work: %s has them without %s, "+
				"where the filter does bind them (elsewhere they stay denied and protect nothing there; score reports memory-arguments)",
				strings.Join(notAdded, ", "), m.Syscall, strings.Join(without, ", "), m.Syscall))
		}
	}

	// Every runtime execs the workload after loading the filter: without
	// execve no container starts. A recording of a container's start has
	// it; one without it is not of a whole start, and adding execve would
	// still leave the rest of the runtime's tail (docs/record.md) to luck.
	if _, ok := byName["execve"]; !ok && base == nil {
		if _, ok := byName["execveat"]; !ok {
			return nil, fmt.Errorf("recording of %s has no execve: runc and crun exec the workload after loading the filter, "+
				"so no container could start under a profile made from it; record the container from its creation", r.describe())
		}
	}

	// clone3 takes its flags in memory, out of a filter's reach, so
	// allowing it would allow every namespace flag. Like Docker's and
	// podman's defaults, answer ENOSYS: C libraries then fall back to
	// clone, whose flags the profile does test.
	var clone3 bool
	if uses, ok := byName["clone3"]; ok && !base.allowsAll(uses) {
		clone3 = true
		delete(byName, "clone3")
		msg := "clone3 was recorded: it is answered ENOSYS (its flags are out of a filter's reach) so that the C library falls back to clone"
		if _, ok := byName["clone"]; !ok {
			for _, a := range arches {
				if nr, ok := a.SyscallNr("clone"); ok {
					byName["clone"] = append(byName["clone"], use{arch: a, nr: nr, u: &SyscallUse{Args: map[int][]uint64{cloneFlagsIndex(a): {0}}}})
				}
			}
			msg += "; clone, not recorded, is ADDED for that fallback, without namespace flags"
		}
		g.Notes = append(g.Notes, msg)
	}

	sc := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uintPtr(errnoEPERM)}
	for _, a := range arches {
		sc.Architectures = append(sc.Architectures, specs.Arch("SCMP_ARCH_"+strings.ToUpper(a.Name)))
	}
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)
	var plain []string
	var conditional []specs.LinuxSyscall
	allowed := map[string]bool{}
	covered := 0
	for _, name := range names {
		uses := byName[name]
		conds, notes := argRules(name, uses, arches)
		g.Notes = append(g.Notes, notes...)
		if base != nil {
			var all bool
			if conds, all = base.remaining(name, uses, conds); all {
				covered++
				continue
			}
		}
		allowed[name] = true
		if conds == nil {
			plain = append(plain, name)
			continue
		}
		for _, c := range conds {
			conditional = append(conditional, specs.LinuxSyscall{Names: []string{name}, Action: specs.ActAllow, Args: c})
		}
	}
	if base != nil {
		g.Notes = append(g.Notes, fmt.Sprintf("--base %s: %d recorded syscalls the base already allows are left out; "+
			"this profile holds only what must be added to the base", opts.BaseSource, covered))
	}
	if len(plain) > 0 {
		sc.Syscalls = append(sc.Syscalls, specs.LinuxSyscall{Names: plain, Action: specs.ActAllow})
	}
	sc.Syscalls = append(sc.Syscalls, conditional...)
	if clone3 {
		allowed["clone3"] = true
		sc.Syscalls = append(sc.Syscalls, specs.LinuxSyscall{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: uintPtr(errnoENOSYS)})
	}
	// With a base the profile is a list of additions: pinning the
	// ENOSYS boundary is the base's business.
	if pin := pinNames(arches, allowed); base == nil && len(pin) > 0 {
		sc.Syscalls = append(sc.Syscalls, specs.LinuxSyscall{Names: pin, Action: specs.ActErrno, ErrnoRet: uintPtr(errnoEPERM)})
	}
	if len(sc.Syscalls) == 0 {
		// Everything recorded is allowed by the base: an empty profile
		// would read as "no seccomp" to runtimes.
		g.Notes = append(g.Notes, "the base allows every recorded call: nothing to add")
	}
	g.Seccomp = sc
	return g, nil
}

// pinNames are the syscalls each architecture's table knows that are not
// allowed. runc's ENOSYS stub answers ENOSYS above the highest syscall a
// profile names that its libseccomp resolves (whatever the rule's action,
// and the rule is otherwise dropped since it repeats the default), so
// naming them keeps EPERM for every syscall both this generator and the
// runtime's libseccomp know, and leaves ENOSYS to the newer numbers.
// Naming only those above the highest allowed one is not enough: when
// that one is newer than the runtime's libseccomp, and so are the names
// above it, the stub starts at the highest allowed one it resolves, and
// i386's socket calls and SysV IPC, which libseccomp resolves to pseudo
// numbers there (for socketcall and ipc), count for none: a recorded
// socket (359) got ENOSYS. x32's own numbers (512 and up) count like the
// others.
func pinNames(arches []*arch.Arch, allowed map[string]bool) []string {
	pin := map[string]bool{}
	for _, a := range arches {
		for _, s := range a.Syscalls() {
			if !allowed[s.Name] {
				pin[s.Name] = true
			}
		}
	}
	out := make([]string, 0, len(pin))
	for n := range pin {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// cloneFlagsIndex is the position of clone's flags on a (s390 and s390x
// swap it with the stack pointer).
func cloneFlagsIndex(a *arch.Arch) int {
	if i, ok := a.ArgIndex("clone", "clone_flags"); ok {
		return i
	}
	return 0
}

// argCondition is one allow rule's conditions (ANDed).
type argCondition = []specs.LinuxSeccompArg

// argRules returns the conditions of the allow rules of one syscall (nil:
// allow unconditionally) and notes on the recorded values not used.
// arches are the profile's architectures: the rules apply on all of them.
//
// An argument is conditioned when every architecture that made the call
// recorded its values without overflow, and its position is the same
// parameter on every architecture of the profile that has the syscall; a
// call recorded without values for an index (a recorder that does not
// record it) leaves that index unconditioned. Each rule is one
// combination of the recorded values (SCMP_CMP_EQ each), so every
// recorded call matches some rule, and so does every other combination of
// values recorded for each argument (the recording keeps values per
// argument, not per call).
//
// clone is the exception: only its namespace flags are tested, with
// SCMP_CMP_MASKED_EQ on the namespace mask (as Docker's default does), one
// rule per recorded combination (usually just "none"): the other flags
// (threads, vfork, tids, the exit signal) vary between runs of the same
// program and are harmless, the namespace flags are what a container must
// not get.
//
// Arguments are compared on all 64 bits with the value as
// recorded, also those the kernel reads as 32 bits (pkg/knowledge
// args32): an allow rule cannot be bypassed through the high bits (a
// value with other high bits matches no rule and gets the default), and a
// caller passing the same 32-bit value differently extended is denied,
// which fails closed; the recorded workload passes what it passed.
func argRules(name string, uses []use, arches []*arch.Arch) ([]argCondition, []string) {
	if name == "clone" {
		conds, note := cloneRules(uses, arches)
		if note != "" {
			return conds, []string{note}
		}
		return conds, nil
	}
	indexes := map[int][]uint64{}
	for i := range 6 {
		var vals []uint64
		ok := true
		for _, x := range uses {
			vs, has := x.u.Args[i]
			if !has || len(vs) == 0 || x.u.ArgsOverflow[i] {
				ok = false
				break
			}
			vals = append(vals, vs...)
		}
		if !ok {
			continue
		}
		if sameIndexEverywhere(name, i, arches) {
			vals = normalize(vals)
			indexes[i] = vals
		}
	}
	if len(indexes) == 0 {
		return nil, nil
	}
	var notes []string
	for product(indexes) > MaxArgRules {
		widest := -1
		for i, vs := range indexes {
			if widest < 0 || len(vs) > len(indexes[widest]) || len(vs) == len(indexes[widest]) && i > widest {
				widest = i
			}
		}
		notes = append(notes, fmt.Sprintf("%s: argument %d is not conditioned: with its %d recorded values the rules would pass %d",
			name, widest, len(indexes[widest]), MaxArgRules))
		delete(indexes, widest)
	}
	if len(indexes) == 0 {
		return nil, notes
	}
	keys := make([]int, 0, len(indexes))
	for i := range indexes {
		keys = append(keys, i)
	}
	slices.Sort(keys)
	conds := []argCondition{nil}
	for _, i := range keys {
		var next []argCondition
		for _, c := range conds {
			for _, v := range indexes[i] {
				next = append(next, append(slices.Clone(c), argEqual(i, v)))
			}
		}
		conds = next
	}
	return conds, notes
}

// sameIndexEverywhere: an argument position means the same parameter on
// every architecture of the profile that has the syscall (the profile's
// conditions apply to all of them, also where the syscall was not
// recorded).
func sameIndexEverywhere(name string, i int, arches []*arch.Arch) bool {
	param, first := "", true
	for _, a := range arches {
		if _, ok := a.SyscallNr(name); !ok {
			continue
		}
		p := a.ArgName(name, i)
		if first {
			param, first = p, false
		} else if p != param {
			return false
		}
	}
	return true
}

// normalize sorts and deduplicates values.
func normalize(vals []uint64) []uint64 {
	slices.Sort(vals)
	return slices.Compact(vals)
}

func argEqual(i int, v uint64) specs.LinuxSeccompArg {
	return specs.LinuxSeccompArg{Index: uint(i), Value: v, Op: specs.OpEqualTo}
}

func product(indexes map[int][]uint64) int {
	n := 1
	for _, vs := range indexes {
		n *= len(vs)
		if n > MaxArgRules {
			return n
		}
	}
	return n
}

// cloneRules allow the recorded combinations of namespace flags. The rule
// applies on every architecture of the profile, so the flags must be at
// the same position on all of them that have clone, not only on those
// that recorded it (s390x has them second).
func cloneRules(uses []use, arches []*arch.Arch) ([]argCondition, string) {
	idx := cloneFlagsIndex(uses[0].arch)
	for _, a := range arches {
		if _, ok := a.SyscallNr("clone"); ok && cloneFlagsIndex(a) != idx {
			return nil, "clone: its flags are at different positions on the profile's architectures (" + uses[0].arch.Name + " and " + a.Name +
				"); clone is allowed unconditioned, namespaces included"
		}
	}
	combos := map[uint64]bool{}
	for _, x := range uses {
		i := cloneFlagsIndex(x.arch)
		vs, has := x.u.Args[i]
		switch {
		case !has || len(vs) == 0 || x.u.ArgsOverflow[i]:
			return nil, "clone: flags not recorded on " + x.arch.Name + "; clone is allowed with any flags, namespaces included"
		}
		for _, v := range vs {
			combos[v&cloneNamespaceFlags] = true
		}
	}
	var out []argCondition
	for _, v := range slices.Sorted(maps.Keys(combos)) {
		out = append(out, argCondition{{Index: uint(idx), Value: cloneNamespaceFlags, ValueTwo: v, Op: specs.OpMaskedEqual}})
	}
	return out, ""
}

// baseFilter is a base profile's filter and decision table.
type baseFilter struct {
	stack bytecode.Stack
	table *bytecode.Table
}

// allowsAll reports whether the base allows the syscall on every recorded
// architecture whatever its arguments (false without a base).
func (b *baseFilter) allowsAll(uses []use) bool {
	if b == nil {
		return false
	}
	for _, x := range uses {
		_, sr := b.table.Lookup(x.arch.Audit, x.nr)
		if sr == nil {
			return false
		}
		for _, r := range sr.Rules {
			if r.Approximate || !runs(r.Action) {
				return false
			}
		}
	}
	return true
}

// runs reports whether a base's action lets the call run by itself:
// ALLOW and LOG. TRACE and USER_NOTIF leave it to a tracer or supervisor
// that may deny it (and without one the call fails with ENOSYS), so a
// recorded call the base answers so is not "already allowed".
func runs(a bytecode.Action) bool {
	switch a.Effective().Kind() {
	case bytecode.ActAllow, bytecode.ActLog:
		return true
	}
	return false
}

// remaining drops from conds what the base already allows for the
// recorded calls; all reports that nothing remains. Recorded values are
// tried on the base filter itself, but only where the base tests no
// argument other than the recorded ones (a value it allows with other
// arguments zero may be denied with the arguments the workload passed).
func (b *baseFilter) remaining(name string, uses []use, conds []argCondition) (_ []argCondition, all bool) {
	if b.allowsAll(uses) {
		return nil, true
	}
	if conds == nil {
		return nil, false
	}
	var keep []argCondition
	for _, c := range conds {
		if !b.allowsCondition(name, uses, c) {
			keep = append(keep, c)
		}
	}
	return keep, len(keep) == 0
}

// allowsCondition reports whether the base allows every recorded call
// that condition c stands for.
func (b *baseFilter) allowsCondition(name string, uses []use, c argCondition) bool {
	tested := map[int]bool{}
	for _, a := range c {
		tested[int(a.Index)] = true
	}
	for _, x := range uses {
		_, sr := b.table.Lookup(x.arch.Audit, x.nr)
		if sr == nil {
			return false
		}
		for _, r := range sr.Rules {
			if r.Approximate {
				return false
			}
			for _, cmp := range r.When {
				if cmp.Operand.Arg < 0 || !tested[cmp.Operand.Arg] {
					return false
				}
			}
		}
		for _, d := range recordedCalls(name, x, c) {
			if !runs(b.stack.Run(&d)) {
				return false
			}
		}
	}
	return true
}

// recordedCalls are the recorded argument combinations of x that
// condition c matches (for clone, every recorded flags value of c's
// namespace combination).
func recordedCalls(name string, x use, c argCondition) []bytecode.Data {
	d := bytecode.Data{Arch: x.arch.Audit, Nr: x.nr}
	if name == "clone" {
		i := cloneFlagsIndex(x.arch)
		var out []bytecode.Data
		for _, v := range x.u.Args[i] {
			if v&cloneNamespaceFlags == c[0].ValueTwo {
				d.Args[i] = v
				out = append(out, d)
			}
		}
		return out
	}
	for _, a := range c {
		d.Args[a.Index] = a.Value // SCMP_CMP_EQ
	}
	return []bytecode.Data{d}
}

func uintPtr(v uint) *uint { return &v }

// listNumbers writes nrs, at most max of them and how many more.
func listNumbers(nrs []uint32, max int) string {
	var b strings.Builder
	for i, nr := range nrs {
		if i == max {
			fmt.Fprintf(&b, " and %d more", len(nrs)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d", nr)
	}
	return b.String()
}

// describe names the recorded workload in messages.
func (r *Recording) describe() string {
	switch {
	case r.Container != "" && r.Image != "":
		return fmt.Sprintf("container %s (%s)", r.Container, r.Image)
	case r.Container != "":
		return "container " + r.Container
	case r.Image != "":
		return "image " + r.Image
	}
	return "the workload"
}

func (r *Recording) problem() string {
	if r.Problem != "" {
		return r.Problem
	}
	return "the recorder did not mark it complete"
}
