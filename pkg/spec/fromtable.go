package spec

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// OCIProfile is a decision table written as an OCI linux.seccomp object
// that is never weaker than the table: compiled by a runtime (libseccomp,
// and runc's ENOSYS stub), it denies every input the table denies. Where
// the OCI format cannot say what the table says, the profile is stricter
// (it denies what the table lets through) or denies with another action,
// and Approximations lists each such place.
type OCIProfile struct {
	Seccomp specs.LinuxSeccomp
	// Default is the profile's default action, as the kernel returns it.
	Default bytecode.Action
	// Listed are the architectures the profile names; libseccomp kills
	// (KILL_THREAD) every call of any other architecture.
	Listed []*arch.Arch
	// Approximations lists every place where the compiled profile decides
	// differently from the table.
	Approximations []Approximation
}

// Approximation is one place where the profile cannot say what the table
// says, with what the profile does instead.
type Approximation struct {
	// Arch is an architecture's name, or "other" for arch values that
	// belong to no known architecture (then ArchValues holds them).
	Arch       string
	ArchValues bytecode.IntervalSet
	// Syscalls names the syscalls concerned; empty for unnamed numbers or
	// a whole architecture.
	Syscalls []string
	// Numbers are the syscall numbers concerned (as in seccomp_data.nr).
	Numbers bytecode.IntervalSet
	// Stricter says the profile denies there some input the table lets
	// through; otherwise only the deny action (or the permit action)
	// differs.
	Stricter bool
	Reason   string
}

func (a Approximation) String() string {
	where := a.Arch
	if a.Arch == "other" {
		where = "arch values " + shortSet(a.ArchValues)
	}
	if len(a.Syscalls) > 0 {
		where += " " + shortNames(a.Syscalls)
	} else if len(a.Numbers) > 0 && !(len(a.Numbers) == 1 && a.Numbers[0] == bytecode.Interval{First: 0, Last: 0xffffffff}) {
		where += " numbers " + shortSet(a.Numbers)
	}
	effect := "the profile denies with another action there (never weaker)"
	if a.Stricter {
		effect = "the profile is stricter than the filter there"
	}
	return fmt.Sprintf("%s: %s; %s", where, a.Reason, effect)
}

// Reports says whether some approximation of the profile covers a
// difference on the syscall numbers first..last of an architecture (its
// name, or an arch value of no known architecture), stricter or not.
func (p *OCIProfile) Reports(archName string, archValue, first, last uint32, stricter bool) bool {
	for _, a := range p.Approximations {
		if a.Arch == "other" {
			if !a.ArchValues.Contains(archValue) {
				continue
			}
		} else if a.Arch != archName {
			continue
		}
		if stricter && !a.Stricter {
			continue
		}
		for _, iv := range a.Numbers {
			if iv.First <= last && first <= iv.Last {
				return true
			}
		}
	}
	return false
}

// shortSet prints a set of numbers, eliding the middle of long ones.
func shortSet(s bytecode.IntervalSet) string {
	const keep = 6
	if len(s) <= keep {
		return s.String()
	}
	head := s[:keep/2].String()
	tail := s[len(s)-keep/2:].String()
	return fmt.Sprintf("%s ... %s (%d ranges)", strings.TrimSuffix(head, "}"), strings.TrimPrefix(tail, "{"), len(s))
}

// shortNames lists syscall names, eliding the middle of long lists.
func shortNames(names []string) string {
	const keep = 8
	if len(names) <= keep {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s, ... %s (%d syscalls)", strings.Join(names[:keep-2], ", "), strings.Join(names[len(names)-2:], ", "), len(names))
}

// OCIOptions say for which runtime the profile is written.
type OCIOptions struct {
	// Native is the architecture of the machine whose runtime compiles
	// the profile; libseccomp always filters it. Nil means this machine's.
	Native *arch.Arch
	// Known reports whether the runtime's libseccomp resolves a syscall
	// name on an architecture to this number (including through the
	// socketcall and ipc multiplexers). A profile cannot name a syscall
	// its reader does not know: such calls get the default action. Nil
	// means KnownSyscall (this machine's libseccomp), or, in a build
	// without libseccomp, every name of this project's syscall tables.
	Known func(a *arch.Arch, name string, nr uint32) bool
	// MaxRules bounds the libseccomp rules the profile compiles to (one
	// per syscall name of each entry); 0 means MaxRules, the most Compile
	// accepts.
	MaxRules int
	// Strict names syscalls whose conditional entries the runtime's
	// libseccomp was found not to compile as written: they are written
	// as one unconditional entry, or left to a deny default.
	Strict map[string]bool
}

// allNumbers is every 32-bit value.
var allNumbers = bytecode.IntervalSet{{First: 0, Last: math.MaxUint32}}

// FromTable writes the decision table t as an OCI profile for the runtime
// opts describe (OCIOptions{}: a runtime on this machine, with this
// build's libseccomp).
//
// The default action is the filter's own action for the numbers it does
// not name on the native architecture (under runc's ENOSYS stub: the
// action below the stub's threshold, which the stub gives back when the
// profile is compiled again). When that action lets calls through but the
// filter denies some number a profile cannot name, the default becomes a
// deny instead. Each named syscall is written from its rules: conditions
// become OCI comparisons (order comparisons, equality of masked bits),
// "deny when (arg & mask) != 0" under a deny default as "allow when
// SCMP_CMP_MASKED_EQ 0", and whatever has no OCI form falls to the
// stricter side. OCI rules apply to every listed architecture, so an
// architecture is listed only where the rules already written also hold
// for it; the others (and the ones the filter kills outright) are left
// out, and libseccomp kills their calls.
func FromTable(t *bytecode.Table, opts OCIOptions) (*OCIProfile, error) {
	p := &ociPlanner{table: t, opts: opts, native: opts.Native, segs: map[*arch.Arch][]bytecode.SyscallRules{},
		own: map[planKey]*syscallPlan{}, checks: map[checkKey]ruleCheck{}, texts: map[*bytecode.Rule]string{}, plans: map[string]*namePlan{}, unlisted: map[*arch.Arch]string{}}
	if p.native == nil {
		p.native = arch.Native()
	}
	if p.opts.Known == nil {
		p.opts.Known = KnownSyscall
	}
	if p.native == nil {
		return nil, fmt.Errorf("this machine's architecture is unknown: no native architecture to write an OCI profile for")
	}
	if len(p.segments(p.native)) == 0 {
		return nil, fmt.Errorf("the decision table has no rules for %s", p.native.Name)
	}
	p.chooseDefault()
	p.planNative()
	for _, a := range arch.All {
		if a != p.native {
			p.consider(a)
		}
	}
	p.limitRules()
	p.computeMaxima()
	p.addMarkers()
	p.approximate()
	return p.profile(), nil
}

// ociRule is one OCI syscall entry for one syscall.
type ociRule struct {
	action bytecode.Action
	args   []specs.LinuxSeccompArg
}

// syscallPlan is what a profile can say for one syscall of one
// architecture, written against the profile's default action.
type syscallPlan struct {
	rules []ociRule
	// regions says where each non-default action applies, as written.
	regions  map[bytecode.Action]argRegion
	exact    bool
	stricter bool
	why      []string
}

func (sp *syscallPlan) inexact(stricter bool, format string, args ...any) {
	sp.exact = false
	sp.stricter = sp.stricter || stricter
	sp.why = append(sp.why, fmt.Sprintf(format, args...))
}

// namePlan is the profile's rules for one syscall name: those of the
// first listed architecture that has it.
type namePlan struct {
	from  *arch.Arch
	rules []ociRule
	// marker asks for an entry with the default action: runc drops it but
	// counts its number for the ENOSYS stub's threshold.
	marker bool
	// capped says why the rules were cut down to keep the profile within
	// MaxRules ("" when they were not).
	capped string
}

// planKey identifies a plan by what it depends on: the rules (syscalls
// of one region of the table share their rule slice), the width, and
// whether the syscall is write (see representable).
type planKey struct {
	rules  *bytecode.Rule
	n      int
	width  uint8
	write  bool
	strict bool
}

type checkKey struct {
	rules *ociRule
	n     int
	own   *syscallPlan
	width uint8
}

type ociPlanner struct {
	table    *bytecode.Table
	opts     OCIOptions
	native   *arch.Arch
	dflt     bytecode.Action
	segs     map[*arch.Arch][]bytecode.SyscallRules
	own      map[planKey]*syscallPlan
	checks   map[checkKey]ruleCheck
	texts    map[*bytecode.Rule]string
	plans    map[string]*namePlan
	listed   []*arch.Arch
	unlisted map[*arch.Arch]string // why an architecture is not listed
	maxNr    map[*arch.Arch]uint32 // the highest number the profile names, per listed arch
	approx   []Approximation
}

// segments returns an architecture's rules over its whole number space,
// named by its syscall table, whether the filter tests that architecture
// or lumps it with other arch values.
func (p *ociPlanner) segments(a *arch.Arch) []bytecode.SyscallRules {
	if s, ok := p.segs[a]; ok {
		return s
	}
	var out []bytecode.SyscallRules
	found := false
	for i := range p.table.Arches {
		if at := &p.table.Arches[i]; at.Arch == a {
			out, found = at.Syscalls, true
			break
		}
	}
	if !found {
		for i := range p.table.Arches {
			at := &p.table.Arches[i]
			if at.Arch != nil || !at.Values.Contains(a.Audit) {
				continue
			}
			space := (&bytecode.ArchTable{Arch: a}).NumberSpace()
			for _, sr := range at.Syscalls {
				for _, part := range (bytecode.IntervalSet{{First: sr.First, Last: sr.Last}}).Intersect(space) {
					out = bytecode.AppendNamed(out, part, a.Syscalls(), sr.Rules)
				}
			}
			break
		}
	}
	p.segs[a] = out
	return out
}

// known reports whether the profile can name this entry on a.
func (p *ociPlanner) known(a *arch.Arch, sr *bytecode.SyscallRules) bool {
	if sr.Name == "" {
		return false
	}
	return p.opts.Known == nil || p.opts.Known(a, sr.Name, sr.First)
}

// width is how many bits of an argument libseccomp compares on a.
func width(a *arch.Arch) uint8 {
	if is32Bit(a) {
		return 32
	}
	return 64
}

// is32Bit lists libseccomp's 32-bit architectures (x32 included: its
// arguments are compared as 32-bit values).
func is32Bit(a *arch.Arch) bool {
	switch a {
	case arch.X86, arch.ARM, arch.MIPS, arch.MIPSEL, arch.S390, arch.X32:
		return true
	}
	return false
}

// uniform returns the action of an entry whose every input gets one
// exactly known action.
func uniform(rules []bytecode.Rule) (bytecode.Action, bool) {
	if len(rules) != 1 || rules[0].Approximate {
		return 0, false
	}
	return rules[0].Action, true
}

// mayPermit reports whether some input may get an action that lets the
// call through.
func mayPermit(rules []bytecode.Rule) bool {
	for _, r := range rules {
		if r.AnyAction {
			return true
		}
		if r.Approximate {
			for _, a := range r.Actions {
				if a.Permits() {
					return true
				}
			}
			continue
		}
		if r.Action.Permits() {
			return true
		}
	}
	return false
}

// mayDeny reports whether some input may get an action that denies.
func mayDeny(rules []bytecode.Rule) bool {
	for _, r := range rules {
		if r.AnyAction {
			return true
		}
		acts := r.Actions
		if !r.Approximate {
			acts = []bytecode.Action{r.Action}
		}
		for _, a := range acts {
			if !a.Permits() {
				return true
			}
		}
	}
	return false
}

// enosys is what runc's stub returns for numbers above a profile's
// highest syscall.
const enosys = bytecode.ActErrno | errnoENOSYS

// permissiveDefault lists the default actions for which runc adds no
// ENOSYS stub.
func permissiveDefault(a bytecode.Action) bool {
	switch a.Kind() {
	case bytecode.ActAllow, bytecode.ActLog, bytecode.ActTrace:
		return true
	}
	return false
}

// representable returns the action an OCI profile can give in place of a
// (for the syscall name, "" for the default action).
func representable(a bytecode.Action, name string) bytecode.Action {
	a = a.Effective()
	switch a.Kind() {
	case bytecode.ActTrap:
		return bytecode.ActTrap // OCI's TRAP has no data
	case bytecode.ActErrno:
		if a.Data() >= bytecode.MaxErrno {
			// libseccomp takes errno values up to MAX_ERRNO - 1.
			return bytecode.ActErrno | (bytecode.MaxErrno - 1)
		}
	case bytecode.ActUserNotif:
		if name == "" || name == "write" {
			// Neither runtime accepts NOTIFY as the default, nor runc
			// for write; the kernel answers ENOSYS to a notification
			// nobody listens to.
			return enosys
		}
	}
	return a
}

// chooseDefault picks the default action: the filter's action for the
// native numbers it does not name, among the architecture's syscall
// numbers and below runc's ENOSYS stub if it has one (the stub comes back
// when runc compiles the profile); a deny when that action lets calls
// through but the filter denies some number the profile cannot name.
func (p *ociPlanner) chooseDefault() {
	segs := p.segments(p.native)
	tail, hasTail := p.enosysTail(p.native)
	if !hasTail {
		tail = 1<<32 - 1
	}
	top := p.native.MaxNr()
	count := map[bytecode.Action]uint64{}
	denied := map[bytecode.Action]uint64{}
	for _, sr := range segs {
		if p.known(p.native, &sr) {
			continue
		}
		a, ok := uniform(sr.Rules)
		if ok && sr.First <= top && (!hasTail || sr.First < tail) {
			last := min(sr.Last, top)
			if hasTail {
				last = min(last, tail-1)
			}
			count[a] += uint64(last-sr.First) + 1
		}
		if ok {
			denied[a] += uint64(sr.Last-sr.First) + 1
		}
	}
	dflt, found := mostNumerous(count, func(bytecode.Action) bool { return true })
	if !found && hasTail && tail <= top {
		dflt, found = enosys, true
	}
	if !found {
		dflt, found = mostNumerous(denied, func(bytecode.Action) bool { return true })
	}
	if !found {
		dflt = bytecode.ActErrno | 1
	}
	if dflt.Permits() && p.deniesUnnamed(segs) {
		dflt, found = mostNumerous(denied, func(a bytecode.Action) bool { return !a.Permits() })
		if !found {
			dflt = bytecode.ActErrno | 1
		}
	}
	p.dflt = representable(dflt, "")
}

// deniesUnnamed reports whether the filter denies some native number the
// profile cannot name, other than the x86_64 numbers from X32SyscallBit up:
// libseccomp kills those by itself as long as x32 is not listed, and
// consider does not list x32 when the filter denies them under a permit
// default.
func (p *ociPlanner) deniesUnnamed(segs []bytecode.SyscallRules) bool {
	for _, sr := range segs {
		if p.known(p.native, &sr) || !mayDeny(sr.Rules) {
			continue
		}
		if p.native == arch.X86_64 && sr.First >= arch.X32SyscallBit {
			continue
		}
		return true
	}
	if p.native == arch.X86_64 {
		// Listed or not, x32's number -1 gets the default action (or
		// runc's ENOSYS, a deny).
		if sr := p.segmentAt(arch.X32, x32Passthrough); sr != nil && mayDeny(sr.Rules) {
			return true
		}
	}
	return false
}

// x32Passthrough is the x32 number that libseccomp's x86_64 code, when x32
// is not listed, passes to the x86_64 rules instead of killing it (-1, the
// number a tracer sets to skip a call).
const x32Passthrough = 0xffffffff

// enosysTail returns the first number of the run of numbers at the top of
// a's number space that the filter answers with ERRNO(ENOSYS), as runc's
// stub does; ok is false when there is no such run or it is everything.
func (p *ociPlanner) enosysTail(a *arch.Arch) (first uint32, ok bool) {
	segs := p.segments(a)
	end := len(segs)
	for end > 0 {
		if act, ok := uniform(segs[end-1].Rules); !ok || act != enosys {
			break
		}
		end--
	}
	if end == len(segs) || end == 0 {
		return 0, false
	}
	return segs[end].First, true
}

// mostNumerous returns the action with the highest count among those keep
// accepts (the lowest action value on ties, for stable output).
func mostNumerous(count map[bytecode.Action]uint64, keep func(bytecode.Action) bool) (bytecode.Action, bool) {
	var best bytecode.Action
	var bestN uint64
	found := false
	for a, n := range count {
		if !keep(a) {
			continue
		}
		if !found || n > bestN || n == bestN && a < best {
			best, bestN, found = a, n, true
		}
	}
	return best, found
}

// ownPlan is what the profile would say for one syscall of a, from a's
// own rules.
func (p *ociPlanner) ownPlan(a *arch.Arch, sr *bytecode.SyscallRules) *syscallPlan {
	strict := p.opts.Strict[sr.Name]
	k := planKey{&sr.Rules[0], len(sr.Rules), width(a), sr.Name == "write", strict}
	if sp, ok := p.own[k]; ok {
		return sp
	}
	sp := planSyscall(sr.Name, sr.Rules, width(a), p.dflt)
	if strict && len(sp.rules) > 0 && !(len(sp.rules) == 1 && len(sp.rules[0].args) == 0) {
		why := "the runtime's libseccomp does not compile the entries written for it as written (found by compiling the profile)"
		if p.dflt.Permits() && mayDeny(sr.Rules) {
			sp = denyAll(sr.Name, sr.Rules, width(a), why)
		} else {
			sp = &syscallPlan{regions: map[bytecode.Action]argRegion{}, why: append(slices.Clone(sp.why), why+": left to the default "+p.dflt.String()),
				stricter: !p.dflt.Permits() && mayPermit(sr.Rules)}
		}
	}
	p.own[k] = sp
	return sp
}

// rulesText is sr.String(), remembered: most syscalls share their rules.
func (p *ociPlanner) rulesText(sr *bytecode.SyscallRules) string {
	k := &sr.Rules[0]
	if s, ok := p.texts[k]; ok {
		return s
	}
	s := sr.String()
	p.texts[k] = s
	return s
}

// check is checkRules, remembered: most syscalls share their rules.
func (p *ociPlanner) check(rules []ociRule, own *syscallPlan, w uint8) ruleCheck {
	k := checkKey{n: len(rules), own: own, width: w}
	if len(rules) > 0 {
		k.rules = &rules[0]
	}
	if c, ok := p.checks[k]; ok {
		return c
	}
	c := checkRules(rules, own, w, p.dflt)
	p.checks[k] = c
	return c
}

// rulesFor is what the profile writes for a syscall of a: its own plan,
// or nothing when the filter answers it with ENOSYS as runc's stub does
// (runc compiles the stub back from the profile's highest syscall).
func (p *ociPlanner) rulesFor(a *arch.Arch, sr *bytecode.SyscallRules) []ociRule {
	if !permissiveDefault(p.dflt) && p.dflt != enosys {
		if tail, ok := p.enosysTail(a); ok && sr.First >= tail {
			return nil
		}
	}
	return p.ownPlan(a, sr).rules
}

func (p *ociPlanner) planNative() {
	segs := p.segments(p.native)
	for i := range segs {
		sr := &segs[i]
		if p.known(p.native, sr) {
			p.plans[sr.Name] = &namePlan{from: p.native, rules: p.rulesFor(p.native, sr)}
		}
	}
	p.listed = []*arch.Arch{p.native}
	if reason := p.checkMultiplexers(p.listed, p.plans); reason != "" {
		// The native architecture is always filtered: say so rather than
		// leave it out.
		p.approx = append(p.approx, Approximation{Arch: p.native.Name, Numbers: allNumbers, Stricter: true,
			Reason: "libseccomp's socketcall/ipc rules here may not match the filter: " + reason})
	}
}

// ociArches are the architectures runc 1.1 accepts in a profile and whose
// compilation by libseccomp this writer models (socketcall and ipc
// multiplexing included, on x86, s390 and s390x).
var ociArches = map[*arch.Arch]bool{
	arch.X86_64: true, arch.X32: true, arch.X86: true, arch.AArch64: true, arch.ARM: true,
	arch.S390: true, arch.S390X: true,
}

// consider lists a if the filter does not kill it and the rules already
// written hold for it.
func (p *ociPlanner) consider(a *arch.Arch) {
	segs := p.segments(a)
	if len(segs) == 0 {
		p.unlisted[a] = "the decision table has no rules for it"
		return
	}
	killed, all := bytecode.Action(0), true
	for i, sr := range segs {
		act, ok := uniform(sr.Rules)
		if !ok || act.Permits() || i > 0 && act != killed {
			all = false
			break
		}
		killed = act
	}
	if all {
		p.unlisted[a] = fmt.Sprintf("the filter denies every call with %s; left out of the profile, so libseccomp kills them", killed)
		return
	}
	if bigEndian[a] != bigEndian[p.native] {
		p.unlisted[a] = "libseccomp cannot filter architectures of both byte orders in one filter; left out of the profile, so libseccomp kills its calls"
		return
	}
	if !ociArches[a] {
		p.unlisted[a] = "runc does not accept this architecture or libseccomp's compilation of it is not modelled here; left out of the profile, so libseccomp kills its calls"
		return
	}
	if a == arch.X32 && p.isListed(arch.X86_64) && p.dflt.Permits() {
		for _, sr := range p.segments(arch.X86_64) {
			if sr.First >= arch.X32SyscallBit && mayDeny(sr.Rules) {
				p.unlisted[a] = fmt.Sprintf("listing it would stop libseccomp from killing x86_64 numbers %s, which the filter denies; left out of the profile, so libseccomp kills its calls", sr.Label())
				return
			}
		}
	}
	pending := map[string]*namePlan{}
	for i := range segs {
		sr := &segs[i]
		if !p.known(a, sr) {
			if p.dflt.Permits() && mayDeny(sr.Rules) {
				p.unlisted[a] = fmt.Sprintf("the filter denies %s, which the profile cannot name under its default %s", sr.Label(), p.dflt)
				return
			}
			continue
		}
		own := p.ownPlan(a, sr)
		if np, ok := p.plans[sr.Name]; ok {
			if check := p.check(np.rules, own, width(a)); !check.sound {
				p.unlisted[a] = fmt.Sprintf("its rules for %s (%s) differ from %s's and OCI rules hold for every listed architecture; left out of the profile, so libseccomp kills its calls",
					sr.Name, sr.String(), np.from.Name)
				return
			}
			continue
		}
		pending[sr.Name] = &namePlan{from: a, rules: p.rulesFor(a, sr)}
	}
	merged := make(map[string]*namePlan, len(p.plans)+len(pending))
	for n, np := range p.plans {
		merged[n] = np
	}
	for n, np := range pending {
		merged[n] = np
	}
	if reason := p.checkMultiplexers(append(slices.Clone(p.listed), a), merged); reason != "" {
		p.unlisted[a] = reason + "; left out of the profile, so libseccomp kills its calls"
		return
	}
	p.plans = merged
	p.listed = append(p.listed, a)
}

// bigEndian lists the big-endian architectures.
var bigEndian = map[*arch.Arch]bool{arch.S390: true, arch.S390X: true, arch.PPC64: true, arch.MIPS: true, arch.MIPS64: true}

func (p *ociPlanner) isListed(a *arch.Arch) bool { return slices.Contains(p.listed, a) }

// limitRules keeps the profile within MaxRules libseccomp rules: the
// syscalls with the most entries are cut down to the stricter side first
// (left to a deny default, or denied as a whole under a permit default).
func (p *ociPlanner) limitRules() {
	limit := p.opts.MaxRules
	if limit <= 0 {
		limit = MaxRules
	}
	total := 0
	names := make([]string, 0, len(p.plans))
	for n, np := range p.plans {
		total += len(np.rules)
		names = append(names, n)
	}
	if total <= limit {
		return
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := len(p.plans[names[i]].rules), len(p.plans[names[j]].rules)
		return a > b || a == b && names[i] < names[j]
	})
	for _, n := range names {
		if total <= limit {
			break
		}
		np := p.plans[n]
		var cut []ociRule
		why := fmt.Sprintf("the profile would compile to more than %d libseccomp rules: left to the default %s", limit, p.dflt)
		if p.dflt.Permits() {
			deny, found := bytecode.Action(0), false
			for _, r := range np.rules {
				if !r.action.Permits() && (!found || r.action.Stronger(deny)) {
					deny, found = r.action, true
				}
			}
			if found {
				cut = []ociRule{{action: deny}}
				why = fmt.Sprintf("the profile would compile to more than %d libseccomp rules: the whole syscall is written as %s", limit, deny)
			}
		}
		total -= len(np.rules) - len(cut)
		np.rules, np.capped = cut, why
	}
}

// computeMaxima finds, per listed architecture, the highest number the
// profile names: runc's ENOSYS stub answers every number above it.
func (p *ociPlanner) computeMaxima() {
	p.maxNr = map[*arch.Arch]uint32{}
	for _, a := range p.listed {
		for name, np := range p.plans {
			if len(np.rules) == 0 && !np.marker {
				continue
			}
			nr, ok := a.SyscallNr(name)
			if !ok || p.opts.Known != nil && !p.opts.Known(a, name, nr) || multiplexes(a) && multiplexed(name) {
				// runc counts the numbers libseccomp resolves names to;
				// multiplexed calls resolve to negative pseudo numbers.
				continue
			}
			p.maxNr[a] = max(p.maxNr[a], nr)
		}
	}
}

// addMarkers names, with the default action, one more syscall per listed
// architecture whose highest named syscall is below the number runc's
// ENOSYS stub should start after: the filter's own stub threshold, or,
// when the filter has no stub, the highest syscall the runtime knows
// (above it runc's stub answers ENOSYS whatever the profile says). runc
// drops entries with the default action but counts their syscalls. A
// marker must not move another listed architecture's threshold past the
// filter's stub there.
func (p *ociPlanner) addMarkers() {
	if permissiveDefault(p.dflt) || p.dflt == enosys {
		return
	}
	countable := func(a *arch.Arch, sr *bytecode.SyscallRules) bool {
		return sr != nil && p.known(a, sr) && !(multiplexes(a) && multiplexed(sr.Name)) && p.plans[sr.Name] != nil
	}
	for _, a := range p.listed {
		var marker *bytecode.SyscallRules
		if tail, ok := p.enosysTail(a); ok {
			if tail == 0 {
				continue
			}
			marker = p.segmentAt(a, tail-1)
		} else {
			named := a.Syscalls()
			for i := len(named) - 1; i >= 0 && marker == nil; i-- {
				if sr := p.segmentAt(a, named[i].Nr); countable(a, sr) {
					marker = sr
				}
			}
		}
		if !countable(a, marker) || p.maxNr[a] >= marker.First {
			continue
		}
		fits := true
		for _, b := range p.listed {
			nr, ok := b.SyscallNr(marker.Name)
			if b == a || !ok || p.opts.Known != nil && !p.opts.Known(b, marker.Name, nr) || multiplexes(b) && multiplexed(marker.Name) {
				continue
			}
			if bt, ok := p.enosysTail(b); ok && nr >= bt {
				fits = false
			}
		}
		if np := p.plans[marker.Name]; fits && len(np.rules) == 0 {
			np.marker = true
			p.computeMaxima()
		}
	}
}

// stubbed reports whether runc's ENOSYS stub answers nr on a listed
// architecture before libseccomp's rules.
func (p *ociPlanner) stubbed(a *arch.Arch, nr uint32) bool {
	m := p.maxNr[a]
	if m == 0 || permissiveDefault(p.dflt) {
		return false
	}
	return nr > m || nr == 0 && (a == arch.S390 || a == arch.S390X)
}

// compiled returns what the compiled profile does for a number of a listed
// architecture that no rule of the profile names, and the first number
// above nr where that may change (1<<32 when none).
func (p *ociPlanner) compiled(a *arch.Arch, nr uint32) (bytecode.Action, uint64) {
	next := uint64(1) << 32
	limit := func(v uint64) {
		if v > uint64(nr) && v < next {
			next = v
		}
	}
	if m, stub := p.maxNr[a]; stub && m > 0 && !permissiveDefault(p.dflt) {
		if (a == arch.S390 || a == arch.S390X) && nr == 0 {
			return enosys, 1
		}
		if nr > m {
			return enosys, next
		}
		limit(uint64(m) + 1)
	}
	if a == arch.X86_64 && !p.isListed(arch.X32) {
		// libseccomp's x86_64 code kills numbers from X32SyscallBit up
		// when x32 is not filtered.
		if nr >= arch.X32SyscallBit {
			return bytecode.ActKillThread, next
		}
		limit(arch.X32SyscallBit)
	}
	return p.dflt, next
}

// approximate lists every place where the compiled profile differs from
// the table.
func (p *ociPlanner) approximate() {
	for _, a := range arch.All {
		if p.isListed(a) {
			p.approximateListed(a)
			continue
		}
		why, ok := p.unlisted[a]
		if !ok {
			why = "not listed in the profile, so libseccomp kills its calls"
		}
		segs := p.segments(a)
		var numbers bytecode.IntervalSet
		stricter := false
		for _, sr := range segs {
			act, ok := uniform(sr.Rules)
			if a == arch.X32 && sr.Last == x32Passthrough && p.isListed(arch.X86_64) {
				// libseccomp's x86_64 code lets this one number through
				// to its own rules, where no name matches it.
				if !ok || act != p.dflt {
					reason := fmt.Sprintf("number %#x passes libseccomp's x86_64 checks and gets %s; the filter gives %s", uint32(x32Passthrough), p.dflt, sr.String())
					p.approx = append(p.approx, Approximation{Arch: a.Name, Numbers: bytecode.IntervalSet{{First: x32Passthrough, Last: x32Passthrough}},
						Stricter: !p.dflt.Permits() && mayPermit(sr.Rules), Reason: reason})
				}
				if sr.First == sr.Last {
					continue
				}
			}
			if ok && act == bytecode.ActKillThread {
				continue
			}
			numbers = numbers.Union(bytecode.IntervalSet{{First: sr.First, Last: sr.Last}})
			stricter = stricter || mayPermit(sr.Rules)
		}
		if len(numbers) > 0 {
			p.approx = append(p.approx, Approximation{Arch: a.Name, Numbers: numbers, Stricter: stricter, Reason: why})
		}
	}
	var audits bytecode.IntervalSet
	for _, a := range arch.All {
		audits = audits.Union(bytecode.IntervalSet{{First: a.Audit, Last: a.Audit}})
	}
	for _, at := range p.table.Arches {
		if at.Arch != nil {
			continue
		}
		values := at.Values.Minus(audits)
		if len(values) == 0 {
			continue
		}
		var numbers bytecode.IntervalSet
		stricter := false
		for _, sr := range at.Syscalls {
			if act, ok := uniform(sr.Rules); ok && act == bytecode.ActKillThread {
				continue
			}
			numbers = numbers.Union(bytecode.IntervalSet{{First: sr.First, Last: sr.Last}})
			stricter = stricter || mayPermit(sr.Rules)
		}
		if len(numbers) > 0 {
			p.approx = append(p.approx, Approximation{Arch: "other", ArchValues: values, Numbers: numbers, Stricter: stricter,
				Reason: "arch values of no known architecture: libseccomp kills their calls (KILL_THREAD)"})
		}
	}
}

func (p *ociPlanner) approximateListed(a *arch.Arch) {
	w := width(a)
	mux := p.multiplexed(a, p.plans)
	// Places with the same reason are reported together.
	type key struct {
		reason   string
		stricter bool
	}
	type group struct {
		names   []string
		numbers bytecode.IntervalSet
	}
	groups := map[key]*group{}
	var order []key
	add := func(reason string, stricter bool, name string, first, last uint32) {
		k := key{reason, stricter}
		g, ok := groups[k]
		if !ok {
			g = &group{}
			groups[k] = g
			order = append(order, k)
		}
		if name != "" {
			g.names = append(g.names, name)
		}
		g.numbers = g.numbers.Union(bytecode.IntervalSet{{First: first, Last: last}})
	}
	segs := p.segments(a)
	for i := range segs {
		sr := &segs[i]
		np := p.plans[sr.Name]
		var rules []ociRule
		if np != nil && p.known(a, sr) {
			rules = np.rules
		}
		extra, multiplexer := mux[sr.Name]
		if multiplexer {
			rules = extra
		}
		if act, _ := p.compiled(a, sr.First); act == enosys && p.stubbed(a, sr.First) {
			// runc's stub answers before the rules: numbers above the
			// highest name it counts (multiplexed calls are not counted).
			rules = nil
		}
		if len(rules) > 0 {
			own := p.ownPlan(a, sr)
			check := p.check(rules, own, w)
			switch {
			case !check.sound:
				// The listing checks prevent this; say it rather than
				// hide it.
				add("internal error: the profile's rules may let through what the filter denies", true, sr.Name, sr.First, sr.Last)
			case !check.exact:
				why := slices.Clone(own.why)
				switch {
				case np != nil && np.capped != "":
					why = append(why, np.capped)
				case multiplexer:
					why = append(why, fmt.Sprintf("libseccomp adds the rules of the calls %s multiplexes to the ones written; the filter gives %s", sr.Name, p.rulesText(sr)))
				case np.from != a:
					why = append(why, fmt.Sprintf("the filter's rules here (%s) differ from %s's, which the profile writes for every listed architecture", p.rulesText(sr), np.from.Name))
				}
				if len(why) == 0 {
					why = []string{fmt.Sprintf("the filter's rules (%s) cannot be written exactly", p.rulesText(sr))}
				}
				add(strings.Join(why, "; "), check.stricter || own.stricter, sr.Name, sr.First, sr.Last)
			}
			continue
		}
		// Nothing in the profile decides this number here: it gets the
		// default action, or runc's ENOSYS.
		for nr := uint64(sr.First); nr <= uint64(sr.Last); {
			act, next := p.compiled(a, uint32(nr))
			last := min(next-1, uint64(sr.Last))
			if got, ok := uniform(sr.Rules); !ok || got != act {
				var reason string
				switch {
				case sr.Name == "":
					reason = fmt.Sprintf("numbers without a name get %s (OCI names syscalls only); the filter gives %s", act, p.rulesText(sr))
				case !p.known(a, sr):
					reason = fmt.Sprintf("not known to this machine's libseccomp, so the profile cannot name them: they get %s; the filter gives %s", act, p.rulesText(sr))
				case act == enosys && p.stubbed(a, uint32(nr)):
					reason = fmt.Sprintf("above the highest syscall runc counts for its ENOSYS stub, so they get %s; the filter gives %s", act, p.rulesText(sr))
				default:
					reason = fmt.Sprintf("they get %s; the filter gives %s", act, p.rulesText(sr))
					why := p.ownPlan(a, sr).why
					if np != nil && np.capped != "" {
						why = append(slices.Clone(why), np.capped)
					}
					if len(why) > 0 {
						reason += " (" + strings.Join(why, "; ") + ")"
					}
				}
				add(reason, !act.Permits() && mayPermit(sr.Rules), sr.Name, uint32(nr), uint32(last))
			}
			nr = last + 1
		}
	}
	for _, k := range order {
		g := groups[k]
		p.approx = append(p.approx, Approximation{Arch: a.Name, Syscalls: g.names, Numbers: g.numbers, Stricter: k.stricter, Reason: k.reason})
	}
}

// profile assembles the OCI object.
func (p *ociPlanner) profile() *OCIProfile {
	out := &OCIProfile{Default: p.dflt, Approximations: p.approx}
	out.Seccomp.DefaultAction, out.Seccomp.DefaultErrnoRet = ociAction(p.dflt)
	for _, a := range arch.All {
		if p.isListed(a) {
			out.Listed = append(out.Listed, a)
			out.Seccomp.Architectures = append(out.Seccomp.Architectures, specs.Arch("SCMP_ARCH_"+strings.ToUpper(a.Name)))
		}
	}
	names := make([]string, 0, len(p.plans))
	for n, np := range p.plans {
		if len(np.rules) > 0 || np.marker {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var entries []specs.LinuxSyscall
	for _, n := range names {
		rules := p.plans[n].rules
		if p.plans[n].marker {
			// runc drops an entry with the default action but counts
			// its syscall for the ENOSYS stub.
			rules = []ociRule{{action: p.dflt}}
		}
		for _, r := range rules {
			action, errno := ociAction(r.action)
			entries = append(entries, specs.LinuxSyscall{Names: []string{n}, Action: action, ErrnoRet: errno, Args: r.args})
		}
	}
	out.Seccomp.Syscalls = groupNames(entries)
	return out
}

// ociAction maps a representable action to its OCI name and errno (TRACE
// data travels in errnoRet too).
func ociAction(a bytecode.Action) (specs.LinuxSeccompAction, *uint) {
	data := uint(a.Data())
	switch a.Kind() {
	case bytecode.ActKillProcess:
		return specs.ActKillProcess, nil
	case bytecode.ActKillThread:
		return specs.ActKillThread, nil
	case bytecode.ActTrap:
		return specs.ActTrap, nil
	case bytecode.ActErrno:
		return specs.ActErrno, &data
	case bytecode.ActUserNotif:
		return specs.ActNotify, nil
	case bytecode.ActTrace:
		return specs.ActTrace, &data
	case bytecode.ActLog:
		return specs.ActLog, nil
	}
	return specs.ActAllow, nil
}

// groupNames merges entries with the same action and arguments into one
// entry listing several names, as profiles are usually written.
func groupNames(in []specs.LinuxSyscall) []specs.LinuxSyscall {
	var out []specs.LinuxSyscall
	groups := map[string]int{}
	for _, s := range in {
		key := fmt.Sprintf("%s/%v/%+v", s.Action, errnoString(s.ErrnoRet), s.Args)
		if i, ok := groups[key]; ok {
			out[i].Names = append(out[i].Names, s.Names...)
			continue
		}
		groups[key] = len(out)
		out = append(out, s)
	}
	return out
}

func errnoString(e *uint) string {
	if e == nil {
		return "-"
	}
	return fmt.Sprint(*e)
}
