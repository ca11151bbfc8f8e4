package score

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/knowledge"
)

// Finding is a weakness of the filter, with an input where one applies.
type Finding struct {
	Kind     string   `json:"kind"`
	Severity string   `json:"severity"`
	Arch     string   `json:"arch,omitempty"`
	Syscalls []string `json:"syscalls,omitempty"`
	Message  string   `json:"message"`
	// Input gets through the filter; Denied, when present, is the
	// matching input the filter denies (the bypass is Input for Denied).
	Input  *Input `json:"input,omitempty"`
	Denied *Input `json:"denied,omitempty"`
	// Confirmed says the concrete interpreter, run on the filter stack,
	// permits Input and denies Denied.
	Confirmed bool `json:"confirmed"`
}

// Finding kinds.
const (
	KindUnconfined        = "unconfined"
	KindForcedTier        = "forced-tier"
	KindTruncatedCompare  = "truncated-compare"
	KindIOUring           = "io-uring-multiplexing"
	KindLegacyMultiplexer = "legacy-multiplexer"
	KindMemoryArguments   = "memory-arguments"
	KindABIOpen           = "abi-open"
	KindAlternativeOpen   = "alternative-open"
	KindMissingArchCheck  = "missing-arch-check"
	KindPermissiveDefault = "permissive-default"
	KindNewerThanProfile  = "newer-than-profile"
	KindApproximate       = "approximate"
)

// Severities, most severe first.
const (
	SevCritical = "critical"
	SevHigh     = "high"
	SevMedium   = "medium"
	SevInfo     = "info"
)

var severityRank = map[string]int{SevCritical: 0, SevHigh: 1, SevMedium: 2, SevInfo: 3}

func (sc *scorer) findings(rep *Report) []Finding {
	if sc.t == nil {
		return []Finding{{Kind: KindUnconfined, Severity: SevCritical,
			Message: "no seccomp filter: every syscall is allowed on every ABI"}}
	}
	var out []Finding
	add := func(f Finding) {
		f.Confirmed = sc.confirm(&f)
		out = append(out, f)
	}
	sc.forcedTier(rep, add)
	sc.truncation(add)
	sc.ioUring(add)
	sc.memoryArgs(add)
	sc.abiOpen(add)
	sc.alternatives(add)
	sc.archCheck(add)
	sc.defaults(add)
	if sc.t.Approximate {
		add(Finding{Kind: KindApproximate, Severity: SevInfo,
			Message: "some rules could not be modelled exactly; they count as permitting (fail closed)"})
	}
	sort.SliceStable(out, func(i, j int) bool { return severityRank[out[i].Severity] < severityRank[out[j].Severity] })
	if out == nil {
		out = []Finding{}
	}
	return out
}

// confirm runs the finding's inputs on the filter stack.
func (sc *scorer) confirm(f *Finding) bool {
	if len(sc.o.Stack) == 0 || f.Input == nil {
		return false
	}
	d := f.Input.Data()
	if !sc.o.Stack.Run(&d).Permits() {
		return false
	}
	if f.Denied != nil {
		d := f.Denied.Data()
		return !sc.o.Stack.Run(&d).Permits()
	}
	return true
}

// caseInput finds an input of the syscall the filter permits (want true)
// or denies (want false): all-zero arguments first, then a witness of each
// rule's condition.
func (sc *scorer) caseInput(a *arch.Arch, nr uint32, want bool) *bytecode.Data {
	rules := sc.rulesFor(a, nr)
	if rules != nil && !canDecide(rules, want) {
		return nil
	}
	d := bytecode.Data{Arch: a.Audit, Nr: nr}
	if sc.permits(&d) == want {
		return &d
	}
	for _, r := range rules {
		w := bytecode.Data{Arch: a.Audit, Nr: nr}
		if bytecode.Witness(&w, r.When) && sc.permits(&w) == want {
			return &w
		}
	}
	return nil
}

// explicit reports whether the profile names a syscall: its rules are
// more than the ABI's default action.
func (sc *scorer) explicit(a *arch.Arch, nr uint32) bool {
	at, _ := sc.t.Lookup(a.Audit, nr)
	if at == nil {
		return false
	}
	def, ok := defaultAction(a, at)
	rules := sc.rulesFor(a, nr)
	return !ok || len(rules) != 1 || rules[0].Approximate || rules[0].Action != def
}

// canDecide reports whether some rule may permit (want true) or deny.
func canDecide(rules []bytecode.Rule, want bool) bool {
	for i := range rules {
		if rules[i].Approximate || rules[i].Action.Permits() == want {
			return true
		}
	}
	return false
}

// denial says how a syscall is denied on an ABI: never, for some
// arguments, or always.
type denial int

const (
	notDenied denial = iota
	deniedSometimes
	deniedAlways
)

func (sc *scorer) denialOf(a *arch.Arch, name string) denial {
	nr, ok := a.SyscallNr(name)
	if !ok {
		return notDenied
	}
	rules := sc.rulesFor(a, nr)
	if rules == nil {
		return notDenied
	}
	permitting, denying := 0, 0
	for i := range rules {
		if rulePermits(&rules[i]) {
			permitting++
		}
		if rules[i].Approximate || !rules[i].Action.Permits() {
			denying++
		}
	}
	switch {
	case permitting == 0:
		return deniedAlways
	case denying > 0 && sc.caseInput(a, nr, false) != nil:
		return deniedSometimes
	}
	return notDenied
}

// deliberatelyDenied is denialOf for syscalls the profile knows: those
// above its highest explicit syscall are denied only because the profile
// predates them (ENOSYS stub or default action), which says nothing about
// what the profile meant to deny.
func (sc *scorer) deliberatelyDenied(a *arch.Arch, name string) denial {
	nr, ok := a.SyscallNr(name)
	if !ok {
		return notDenied
	}
	x32Own := a == arch.X32 && nr-a.NrBase >= x32SpecificBase
	if !x32Own && nr > sc.profileTop(a).Nr {
		return notDenied
	}
	return sc.denialOf(a, name)
}

// profileTop is the highest named syscall of an ABI whose rules are more
// than the default action or an ENOSYS stub: the newest syscall the
// profile knows. The zero Syscall when there is none.
func (sc *scorer) profileTop(a *arch.Arch) arch.Syscall {
	if top, ok := sc.tops[a]; ok {
		return top
	}
	var top arch.Syscall
	at, _ := sc.t.Lookup(a.Audit, a.NrBase)
	if at != nil {
		def, _ := defaultAction(a, at)
		for _, sr := range at.Syscalls {
			if sr.Name == "" || (a == arch.X32 && sr.First-a.NrBase >= x32SpecificBase) {
				continue
			}
			if len(sr.Rules) == 1 && !sr.Rules[0].Approximate &&
				(sr.Rules[0].Action == def || sr.Rules[0].Action == bytecode.ActErrno|bytecode.Action(unix.ENOSYS)) {
				continue
			}
			top = arch.Syscall{Name: sr.Name, Nr: sr.First}
		}
	}
	if sc.tops == nil {
		sc.tops = map[*arch.Arch]arch.Syscall{}
	}
	sc.tops[a] = top
	return top
}

// x32SpecificBase is where x32's own syscall numbers start (512): they
// are not in the order syscalls were added.
const x32SpecificBase = 512

func (sc *scorer) permittedSomehow(a *arch.Arch, name string) *bytecode.Data {
	nr, ok := a.SyscallNr(name)
	if !ok {
		return nil
	}
	return sc.caseInput(a, nr, true)
}

func (sc *scorer) forcedTier(rep *Report, add func(Finding)) {
	for _, ss := range rep.Syscalls {
		if ss.Exposure == 0 || !sc.r.ForcesFail(ss.Tier) {
			continue
		}
		a, _ := arch.ByName(ss.Arch)
		f := Finding{Kind: KindForcedTier, Severity: SevCritical, Arch: ss.Arch, Syscalls: []string{ss.Name},
			Message: fmt.Sprintf("%s (tier %d) is permitted: %s", ss.Name, ss.Tier, sc.kb.Lookup(ss.Name).Risk)}
		if a != nil {
			if d := sc.permittedSomehow(a, ss.Name); d != nil {
				f.Input = sc.input(a, ss.Name, d)
			}
		}
		add(f)
	}
}

// truncation finds rules that deny a value of a 32-bit-typed argument by
// comparing all 64 bits: the same low 32 bits with high bits set get
// through, and the kernel, which reads only the low 32 bits, does what
// the rule meant to deny.
func (sc *scorer) truncation(add func(Finding)) {
	for _, a := range sc.o.Arches {
		if !is64Bit(a) {
			continue
		}
		for _, s := range a.Syscalls() {
			k := sc.kb.Lookup(s.Name)
			if len(k.Args32) == 0 {
				continue
			}
			rules := sc.rulesFor(a, s.Nr)
			for _, i := range k.Args32 {
				if !mentionsArg(rules, i) {
					continue
				}
				for _, low := range lowCandidates(rules, i) {
					if f, ok := sc.truncationAt(a, s, rules, i, low); ok {
						add(f)
					}
				}
			}
		}
	}
}

func mentionsArg(rules []bytecode.Rule, i int) bool {
	for _, r := range rules {
		for _, c := range r.When {
			if c.Operand.Arg == i {
				return true
			}
		}
	}
	return false
}

// lowCandidates are low-word values of argument i near every constant the
// rules compare it with.
func lowCandidates(rules []bytecode.Rule, i int) []uint32 {
	var out []uint32
	for _, r := range rules {
		for _, c := range r.When {
			if c.Operand.Arg != i || c.Operand.Half == bytecode.High {
				continue
			}
			k := uint32(c.Value)
			out = append(out, k-1, k, k+1)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (sc *scorer) truncationAt(a *arch.Arch, s arch.Syscall, rules []bytecode.Rule, i int, low uint32) (Finding, bool) {
	plain := bytecode.Data{Arch: a.Audit, Nr: s.Nr}
	// Take the other arguments from a use probe with this value, so that
	// the input is a call that does something (socket(AF_VSOCK,
	// SOCK_STREAM, 0) rather than an invalid type).
probes:
	for _, u := range sc.r.usesOf(s.Name) {
		for _, p := range u.Probes {
			if i < len(p) && uint32(p[i]) == low && uint64(p[i]) <= 0xffffffff {
				for j, v := range p {
					plain.Args[j] = uint64(v)
				}
				break probes
			}
		}
	}
	plain.Args[i] = uint64(low)
	if sc.permits(&plain) {
		return Finding{}, false
	}
	his := []uint64{1, 0xffffffff, 0x80000000}
	for _, r := range rules {
		for _, c := range r.When {
			if c.Operand.Arg == i && c.Operand.Half == bytecode.High {
				his = append(his, (c.Value+1)&0xffffffff, (c.Value-1)&0xffffffff)
			}
			if c.Operand.Arg == i && c.Operand.Half == bytecode.Full {
				his = append(his, (c.Value>>32+1)&0xffffffff)
			}
		}
	}
	for _, hi := range his {
		if hi == 0 {
			continue
		}
		bypass := plain
		bypass.Args[i] = uint64(low) | hi<<32
		if !sc.permits(&bypass) {
			continue
		}
		in, den := sc.input(a, s.Name, &bypass), sc.input(a, s.Name, &plain)
		return Finding{Kind: KindTruncatedCompare, Severity: SevHigh, Arch: a.Name, Syscalls: []string{s.Name},
			Message: fmt.Sprintf("%s denies %s but permits %s: the kernel reads args[%d] as 32 bits and ignores "+
				"the high bits the filter compares", s.Name, den.Call, in.Call, i),
			Input: in, Denied: den}, true
	}
	return Finding{}, false
}

func (sc *scorer) ioUring(add func(Finding)) {
	for _, a := range sc.o.Arches {
		setup := sc.permittedSomehow(a, "io_uring_setup")
		if setup == nil || sc.permittedSomehow(a, "io_uring_enter") == nil {
			continue
		}
		var denied []string
		for _, n := range sc.kb.IOUring {
			if sc.deliberatelyDenied(a, n) != notDenied {
				denied = append(denied, n)
			}
		}
		if len(denied) == 0 {
			continue
		}
		add(Finding{Kind: KindIOUring, Severity: SevHigh, Arch: a.Name, Syscalls: denied,
			Message: fmt.Sprintf("io_uring_setup and io_uring_enter are permitted while %s %s denied (always or for "+
				"some arguments): io_uring operations do that work without the syscalls, unseen by seccomp",
				list(denied), isAre(denied)),
			Input: sc.input(a, "io_uring_setup", setup)})
	}
}

func (sc *scorer) memoryArgs(add func(Finding)) {
	for _, a := range sc.o.Arches {
		for _, m := range sc.kb.MemoryArgs {
			open := sc.permittedSomehow(a, m.Syscall)
			if open == nil {
				continue
			}
			var filtered []string
			for _, c := range m.Covers {
				if sc.deliberatelyDenied(a, c) != notDenied {
					filtered = append(filtered, c)
				}
			}
			if len(filtered) == 0 {
				continue
			}
			kind, why := KindMemoryArguments, "its arguments are in memory, where seccomp cannot read them"
			if m.Syscall == "socketcall" || m.Syscall == "ipc" {
				kind, why = KindLegacyMultiplexer, "the multiplexer's arguments are in memory, where seccomp cannot read them"
			}
			add(Finding{Kind: kind, Severity: SevHigh, Arch: a.Name, Syscalls: append([]string{m.Syscall}, filtered...),
				Message: fmt.Sprintf("%s is permitted on %s while %s %s filtered: %s, so it does what the filter denies",
					m.Syscall, a.Name, list(filtered), isAre(filtered), why),
				Input: sc.input(a, m.Syscall, open)})
		}
	}
}

// abiOpen finds syscalls the native ABI denies for an input that another
// ABI of the same process (x32, i386) permits with the same arguments.
func (sc *scorer) abiOpen(add func(Finding)) {
	native := sc.o.Arches[0]
	for _, other := range sc.o.Arches[1:] {
		var names []string
		var first *Finding
		worst := knowledge.TierOrdinary
		for _, s := range native.Syscalls() {
			onr, ok := other.SyscallNr(s.Name)
			if !ok {
				continue
			}
			d := sc.caseInput(native, s.Nr, false)
			if d == nil {
				continue
			}
			o := *d
			o.Arch, o.Nr = other.Audit, onr
			if !sc.permits(&o) {
				continue
			}
			names = append(names, s.Name)
			t := sc.r.tierOf(sc.kb, s.Name)
			if first == nil || t < worst {
				worst = t
				first = &Finding{Input: sc.input(other, s.Name, &o), Denied: sc.input(native, s.Name, d)}
			}
		}
		if len(names) == 0 {
			continue
		}
		sev := SevMedium
		if worst <= knowledge.TierHigh {
			sev = SevHigh
		}
		first.Kind, first.Severity, first.Arch, first.Syscalls = KindABIOpen, sev, other.Name, names
		first.Message = fmt.Sprintf("%s ABI left open where %s is filtered: %d syscalls denied on %s get through on %s (%s)",
			other.Name, native.Name, len(names), native.Name, other.Name, list(names))
		add(*first)
	}
}

// alternatives finds syscalls the profile denies explicitly (not by its
// default action: an allow list that does not name open means "use
// openat") while another that does the same work is permitted (native ABI;
// other ABIs are abiOpen's).
func (sc *scorer) alternatives(add func(Finding)) {
	a := sc.o.Arches[0]
	for _, s := range a.Syscalls() {
		alts := sc.kb.AlternativesOf(s.Name)
		if len(alts) == 0 || sc.deliberatelyDenied(a, s.Name) != deniedAlways || !sc.explicit(a, s.Nr) {
			continue
		}
		var open []string
		var in *bytecode.Data
		for _, alt := range alts {
			if d := sc.permittedSomehow(a, alt); d != nil {
				open = append(open, alt)
				if in == nil {
					in = d
				}
			}
		}
		if len(open) == 0 {
			continue
		}
		sev, note := SevMedium, ""
		if d := sc.caseInput(a, s.Nr, false); d != nil {
			if acts, _, _ := sc.t.Decide(d); len(acts) == 1 && acts[0].Kind() == bytecode.ActErrno &&
				acts[0].Data() == uint16(unix.ENOSYS) {
				sev, note = SevInfo, " (ENOSYS: the usual way to make libc fall back to the alternative)"
			}
		}
		name, _ := a.SyscallName(in.Nr)
		add(Finding{Kind: KindAlternativeOpen, Severity: sev, Arch: a.Name, Syscalls: append([]string{s.Name}, open...),
			Message: fmt.Sprintf("%s is denied but %s, which can do the same work, %s permitted%s",
				s.Name, list(open), isAre(open), note),
			Input: sc.input(a, name, in)})
	}
}

// archCheck finds ABIs whose syscalls the filter decides by number without
// having checked seccomp_data.arch for them.
func (sc *scorer) archCheck(add func(Finding)) {
	for _, a := range sc.o.Arches {
		if a == arch.X32 {
			continue // x32 shares x86_64's AUDIT_ARCH: it is told apart by number
		}
		first := a.Syscalls()
		if len(first) == 0 {
			continue
		}
		at, _ := sc.t.Lookup(a.Audit, first[0].Nr)
		if at == nil || at.Arch != nil || uniform(at) {
			continue
		}
		add(Finding{Kind: KindMissingArchCheck, Severity: SevHigh, Arch: a.Name,
			Message: fmt.Sprintf("the filter does not check seccomp_data.arch for %s (%s) but decides by syscall number: "+
				"%s numbers are judged by rules written for another ABI's numbers", a.Name, a.AuditName(), a.Name)})
	}
}

// uniform reports whether every syscall number of a table gets the same
// rules.
func uniform(at *bytecode.ArchTable) bool {
	for i := 1; i < len(at.Syscalls); i++ {
		if at.Syscalls[i].String() != at.Syscalls[0].String() {
			return false
		}
	}
	return true
}

// defaultAction is the action of the numbers the profile does not name:
// unnamed numbers below the ABI's highest syscall (runtimes give them the
// profile's default; above it runc has its ENOSYS stub), else the most
// common final action of named syscalls.
func defaultAction(a *arch.Arch, at *bytecode.ArchTable) (bytecode.Action, bool) {
	for _, sr := range at.Syscalls {
		if sr.Name == "" && sr.Last < a.MaxNr() && sr.First >= a.NrBase && len(sr.Rules) == 1 && !sr.Rules[0].Approximate {
			return sr.Rules[0].Action, true
		}
	}
	counts := map[bytecode.Action]int{}
	best, n := bytecode.Action(0), 0
	for _, sr := range at.Syscalls {
		if sr.Name == "" || len(sr.Rules) != 1 || sr.Rules[0].Approximate {
			continue
		}
		act := sr.Rules[0].Action
		counts[act]++
		if counts[act] > n {
			best, n = act, counts[act]
		}
	}
	return best, n > 0
}

// defaults reports permissive default actions and the syscalls newer than
// the profile they let through.
func (sc *scorer) defaults(add func(Finding)) {
	for _, a := range sc.o.Arches {
		at, _ := sc.t.Lookup(a.Audit, a.NrBase)
		if at == nil || at.Arch == nil {
			continue
		}
		def, ok := defaultAction(a, at)
		if !ok || !def.Permits() {
			continue
		}
		what := "allow by default (a deny list): every syscall the profile does not name is allowed, including ones later kernels add"
		if def.Kind() == bytecode.ActLog {
			what = "audit mode: the default action is LOG, so syscalls the profile does not name are logged and run, not denied"
		} else if def.Kind() != bytecode.ActAllow {
			what = fmt.Sprintf("the default action %s hands syscalls the profile does not name to a tracer or supervisor", def)
		}
		add(Finding{Kind: KindPermissiveDefault, Severity: SevHigh, Arch: a.Name, Message: what})

		// Permitted syscalls above the newest one the profile knows are
		// newer than the profile (x32's own numbers are not in that order).
		top := sc.profileTop(a)
		if top.Name == "" || a == arch.X32 {
			continue
		}
		var newer []string
		worst := knowledge.TierOrdinary
		var in *bytecode.Data
		for _, s := range a.Syscalls() {
			if s.Nr <= top.Nr {
				continue
			}
			if d := sc.caseInput(a, s.Nr, true); d != nil {
				newer = append(newer, s.Name)
				if t := sc.r.tierOf(sc.kb, s.Name); in == nil || t < worst {
					worst, in = t, d
				}
			}
		}
		if len(newer) == 0 {
			continue
		}
		sev := SevMedium
		if worst <= knowledge.TierHigh {
			sev = SevHigh
		}
		name, _ := a.SyscallName(in.Nr)
		add(Finding{Kind: KindNewerThanProfile, Severity: sev, Arch: a.Name, Syscalls: newer,
			Message: fmt.Sprintf("%d syscalls newer than the profile's highest (%s, nr %d) are permitted (%s): the range "+
				"an ENOSYS stub for numbers above the profile should cover", len(newer), top.Name, top.Nr-a.NrBase, list(newer)),
			Input: sc.input(a, name, in)})
	}
}

// list writes names for a message, shortened after 12.
func list(names []string) string {
	if len(names) <= 12 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:12], ", "), len(names)-12)
}

func isAre(names []string) string {
	if len(names) == 1 {
		return "is"
	}
	return "are"
}
