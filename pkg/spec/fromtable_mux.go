package spec

import (
	"fmt"
	"slices"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// libseccomp's multiplexers: on architectures with socketcall and ipc
// (x86, s390, s390x) a rule for a socket or SysV IPC call also becomes a
// rule for the multiplexer, with its argument 0 replaced by the call's
// code and the other comparisons kept (libseccomp's *_rule_add); an
// unconditional rule written for the multiplexer itself overrides those.
// Codes are the kernel's (linux/net.h SYS_*, ipc's call numbers).
var multiplexers = []struct {
	syscall string
	codes   map[string]uint64
}{
	{"socketcall", map[string]uint64{
		"socket": 1, "bind": 2, "connect": 3, "listen": 4, "accept": 5, "getsockname": 6,
		"getpeername": 7, "socketpair": 8, "send": 9, "recv": 10, "sendto": 11, "recvfrom": 12,
		"shutdown": 13, "setsockopt": 14, "getsockopt": 15, "sendmsg": 16, "recvmsg": 17,
		"accept4": 18, "recvmmsg": 19, "sendmmsg": 20,
	}},
	{"ipc", map[string]uint64{
		"semop": 1, "semget": 2, "semctl": 3, "semtimedop": 4, "msgsnd": 11, "msgrcv": 12,
		"msgget": 13, "msgctl": 14, "shmat": 21, "shmdt": 22, "shmget": 23, "shmctl": 24,
	}},
}

// multiplexed reports whether libseccomp handles a syscall name through
// the multiplexers.
func multiplexed(name string) bool {
	for _, m := range multiplexers {
		if _, ok := m.codes[name]; ok {
			return true
		}
	}
	return false
}

func multiplexes(a *arch.Arch) bool { return a == arch.X86 || a == arch.S390 || a == arch.S390X }

// multiplexed returns, for each multiplexer of a whose rules libseccomp
// extends, the rules it ends up with under plans.
func (p *ociPlanner) multiplexed(a *arch.Arch, plans map[string]*namePlan) map[string][]ociRule {
	if !multiplexes(a) {
		return nil
	}
	out := map[string][]ociRule{}
	for _, m := range multiplexers {
		nr, ok := a.SyscallNr(m.syscall)
		if !ok {
			continue
		}
		var explicit []ociRule
		if np := plans[m.syscall]; np != nil && (p.opts.Known == nil || p.opts.Known(a, m.syscall, nr)) {
			explicit = np.rules
		}
		if slices.ContainsFunc(explicit, func(r ociRule) bool { return len(r.args) == 0 }) {
			continue
		}
		names := make([]string, 0, len(m.codes))
		for n := range m.codes {
			names = append(names, n)
		}
		sort.Strings(names)
		combined := slices.Clone(explicit)
		added := false
		for _, n := range names {
			np := plans[n]
			if np == nil {
				continue
			}
			for _, r := range np.rules {
				args := []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpEqualTo, Value: m.codes[n]}}
				for _, c := range r.args {
					if c.Index != 0 {
						args = append(args, c)
					}
				}
				combined = append(combined, ociRule{action: r.action, args: args})
				added = true
			}
		}
		if added {
			out[m.syscall] = combined
		}
	}
	return out
}

// checkMultiplexers returns why the multiplexers of some listed
// architecture would not be sound under plans, or "".
func (p *ociPlanner) checkMultiplexers(listed []*arch.Arch, plans map[string]*namePlan) string {
	for _, a := range listed {
		for syscall, rules := range p.multiplexed(a, plans) {
			nr, _ := a.SyscallNr(syscall)
			sr := p.segmentAt(a, nr)
			if sr == nil {
				continue
			}
			if !p.check(rules, p.ownPlan(a, sr), width(a)).sound {
				return fmt.Sprintf("on %s libseccomp would add rules to %s (the filter gives %s) that let through what the filter denies, or that conflict",
					a.Name, syscall, sr.String())
			}
		}
	}
	return ""
}

// segmentAt returns the entry of a's rules that holds nr.
func (p *ociPlanner) segmentAt(a *arch.Arch, nr uint32) *bytecode.SyscallRules {
	segs := p.segments(a)
	i := sort.Search(len(segs), func(i int) bool { return segs[i].Last >= nr })
	if i < len(segs) && segs[i].First <= nr {
		return &segs[i]
	}
	return nil
}
