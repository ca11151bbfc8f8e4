package record

import (
	"sync"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

// RecordedParams names, per syscall, the parameters whose values a
// recorder keeps: the ones the default profiles of Docker, podman and
// CRI-O put argument rules on (a test checks that every argument the
// built-in profiles condition on is here), so that a generated profile
// can keep such a rule where the workload used few values.
//
// clone3 is not here: its flags are in a struct in the caller's memory,
// which seccomp cannot see (default profiles answer it ENOSYS so that
// libc falls back to clone, whose flags are recorded). Nor is i386's
// socketcall: its arguments are in memory too.
var RecordedParams = map[string][]string{
	"clone":       {"clone_flags"},
	"personality": {"personality"},
	"socket":      {"family", "type", "protocol"},
}

// argIndexes maps an architecture's syscall numbers (as seccomp_data.nr
// shows them) to the argument positions to record. Positions differ by
// architecture: clone's flags are argument 1 on s390x.
var argIndexes sync.Map // *arch.Arch -> map[uint32][]int

// ArgsToRecord returns the argument positions to keep for syscall nr of
// a (nil for most syscalls).
func ArgsToRecord(a *arch.Arch, nr uint32) []int {
	m, ok := argIndexes.Load(a)
	if !ok {
		m, _ = argIndexes.LoadOrStore(a, buildArgIndexes(a))
	}
	return m.(map[uint32][]int)[nr]
}

func buildArgIndexes(a *arch.Arch) map[uint32][]int {
	out := map[uint32][]int{}
	for name, params := range RecordedParams {
		nr, ok := a.SyscallNr(name)
		if !ok {
			continue
		}
		for _, p := range params {
			if i, ok := a.ArgIndex(name, p); ok {
				out[nr] = append(out[nr], i)
			}
		}
	}
	return out
}
