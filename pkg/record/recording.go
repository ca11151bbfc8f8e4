// Package record holds what a container's processes asked the kernel for
// during a workload (a Recording), as seccomp saw it: per architecture the
// syscall numbers and, for the syscalls whose arguments profiles condition
// on, the argument values. A recorder fills it; the profile generator
// turns it into a least-privilege profile.
package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

// Recording is one recorded workload, or the merge of several.
type Recording struct {
	// Container and workload, for the record and its attestation.
	Container string    `json:"container,omitempty"` // IDs, comma-separated when several containers shared the recording's name
	Runtime   string    `json:"runtime,omitempty"`
	Image     string    `json:"image,omitempty"`
	Command   []string  `json:"command,omitempty"`
	Started   time.Time `json:"started"`
	Ended     time.Time `json:"ended,omitzero"`
	Recorder  string    `json:"recorder"` // seccomp-attest version and mechanism

	// Complete is set only when the recorder saw the whole workload to its
	// end without losing a notification. A profile is never generated from
	// an incomplete recording as if it were complete.
	Complete bool   `json:"complete"`
	Problem  string `json:"problem,omitempty"` // why it is incomplete

	// Arches maps an architecture's libseccomp name (arch.Arch.Name:
	// x86_64, x32, x86, ...) to what was called under it. x32 numbers are
	// kept without X32_SYSCALL_BIT, under "x32".
	Arches map[string]*ArchCalls `json:"arches"`

	// Unobserved names the syscalls the recording profile let through
	// without asking the recorder (UnobservedSyscalls: write, exit,
	// exit_group): the recording cannot say whether the workload made
	// them, so a profile generated from it must allow them.
	Unobserved []string `json:"unobserved,omitempty"`
}

// ArchCalls is what one architecture's calls were.
type ArchCalls struct {
	Syscalls map[uint32]*SyscallUse `json:"syscalls"` // by table number
}

// SyscallUse is one syscall's calls.
type SyscallUse struct {
	Count uint64 `json:"count"`
	// Args holds, for the syscalls whose arguments are recorded, the
	// distinct values seen per argument index (sorted, at most MaxValues;
	// more distinct values set ArgsOverflow and keep none for that index).
	Args         map[int][]uint64 `json:"args,omitempty"`
	ArgsOverflow map[int]bool     `json:"argsOverflow,omitempty"`
}

// MaxValues bounds the distinct values kept per argument: beyond it, the
// argument is not worth a rule and memory stays bounded under any workload.
const MaxValues = 16

// Add records one call: audit is seccomp_data.arch, nr seccomp_data.nr,
// args the six arguments; recordArgs lists the argument indexes to keep.
func (r *Recording) Add(audit, nr uint32, args [6]uint64, recordArgs []int) error {
	a := arch.ForNr(audit, nr)
	if a == nil {
		return fmt.Errorf("record: unknown AUDIT_ARCH %#x (syscall %d)", audit, nr)
	}
	nr -= a.NrBase
	if r.Arches == nil {
		r.Arches = map[string]*ArchCalls{}
	}
	ac := r.Arches[a.Name]
	if ac == nil {
		ac = &ArchCalls{Syscalls: map[uint32]*SyscallUse{}}
		r.Arches[a.Name] = ac
	}
	u := ac.Syscalls[nr]
	if u == nil {
		u = &SyscallUse{}
		ac.Syscalls[nr] = u
	}
	u.Count++
	for _, i := range recordArgs {
		u.addArg(i, args[i])
	}
	return nil
}

func (u *SyscallUse) addArg(i int, v uint64) {
	if u.ArgsOverflow[i] {
		return
	}
	if u.Args == nil {
		u.Args = map[int][]uint64{}
	}
	vs := u.Args[i]
	at, found := slices.BinarySearch(vs, v)
	if found {
		return
	}
	if len(vs) == MaxValues {
		if u.ArgsOverflow == nil {
			u.ArgsOverflow = map[int]bool{}
		}
		u.ArgsOverflow[i] = true
		delete(u.Args, i)
		return
	}
	u.Args[i] = slices.Insert(vs, at, v)
}

// Merge adds what other recorded. The result is complete only if both are.
func (r *Recording) Merge(other *Recording) {
	r.Complete = r.Complete && other.Complete
	if r.Problem == "" {
		r.Problem = other.Problem
	}
	for _, name := range other.Unobserved {
		if !slices.Contains(r.Unobserved, name) {
			r.Unobserved = append(r.Unobserved, name)
		}
	}
	slices.Sort(r.Unobserved)
	if r.Arches == nil {
		r.Arches = map[string]*ArchCalls{}
	}
	for name, oc := range other.Arches {
		if oc == nil {
			continue
		}
		ac := r.Arches[name]
		if ac == nil {
			ac = &ArchCalls{}
			r.Arches[name] = ac
		}
		if ac.Syscalls == nil {
			ac.Syscalls = map[uint32]*SyscallUse{}
		}
		for nr, ou := range oc.Syscalls {
			if ou == nil {
				continue
			}
			u := ac.Syscalls[nr]
			if u == nil {
				u = &SyscallUse{}
				ac.Syscalls[nr] = u
			}
			// An argument one side recorded and the other did not (a
			// recorder that keeps other indexes) has unknown values in
			// the merge: mark it overflowed, so that no rule is ever
			// conditioned on half of the calls' values.
			if u.Count > 0 && ou.Count > 0 {
				for i := range 6 {
					if u.records(i) != ou.records(i) {
						u.overflow(i)
					}
				}
			}
			u.Count += ou.Count
			for i := range ou.ArgsOverflow {
				if u.ArgsOverflow == nil {
					u.ArgsOverflow = map[int]bool{}
				}
				u.ArgsOverflow[i] = true
				delete(u.Args, i)
			}
			for i, vs := range ou.Args {
				for _, v := range vs {
					u.addArg(i, v)
				}
			}
		}
	}
}

// records reports whether argument i of the calls was recorded.
func (u *SyscallUse) records(i int) bool { return len(u.Args[i]) > 0 || u.ArgsOverflow[i] }

func (u *SyscallUse) overflow(i int) {
	if u.ArgsOverflow == nil {
		u.ArgsOverflow = map[int]bool{}
	}
	u.ArgsOverflow[i] = true
	delete(u.Args, i)
}

// Decode reads a recording written by encoding/json, refusing unknown
// fields and anything a recorder does not write: architectures by other
// names than arch.Arch.Name (the generator looks them up by that name
// only), null entries, argument indexes outside 0..5, more than MaxValues
// values for an argument, and a recording marked complete that names a
// problem. Argument values are sorted and deduplicated.
func Decode(data []byte) (*Recording, error) {
	var r Recording
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	if r.Complete && r.Problem != "" {
		return nil, fmt.Errorf("recording: marked complete, but names a problem (%s)", r.Problem)
	}
	for _, name := range r.Unobserved {
		if !slices.ContainsFunc(arch.All, func(a *arch.Arch) bool { _, ok := a.SyscallNr(name); return ok }) {
			// The generator would leave it out without a word.
			return nil, fmt.Errorf("recording: unobserved syscall %q is in no architecture's table", name)
		}
	}
	for name, ac := range r.Arches {
		a, err := arch.ByName(name)
		if err != nil {
			return nil, fmt.Errorf("recording: %w", err)
		}
		if a.Name != name {
			return nil, fmt.Errorf("recording: arch %q: a recording names architectures as libseccomp does (%q)", name, a.Name)
		}
		if ac == nil || ac.Syscalls == nil {
			return nil, fmt.Errorf("recording: arch %s: no syscalls object", name)
		}
		if len(ac.Syscalls) == 0 {
			// A recorder adds an architecture with its first call; an
			// empty one would put the ABI in the profile for nothing.
			return nil, fmt.Errorf("recording: arch %s: no syscalls recorded (a profile would allow its ABI for nothing)", name)
		}
		for nr, u := range ac.Syscalls {
			if u == nil {
				return nil, fmt.Errorf("recording: arch %s syscall %d: null entry", name, nr)
			}
			kept := ArgsToRecord(a, nr+a.NrBase)
			for i, vs := range u.Args {
				if i < 0 || i > 5 {
					return nil, fmt.Errorf("recording: arch %s syscall %d: argument index %d (a syscall has arguments 0 to 5)", name, nr, i)
				}
				if !slices.Contains(kept, i) {
					// Each would be a condition of the profile: values of
					// any syscall's arguments made profiles of thousands of
					// rules that no runtime loads.
					return nil, fmt.Errorf("recording: arch %s syscall %d: values of argument %d, which a recorder does not keep (it keeps %s)",
						name, nr, i, recordedParamsText())
				}
				vs = normalize(vs)
				if len(vs) > MaxValues {
					return nil, fmt.Errorf("recording: arch %s syscall %d argument %d: %d values (a recorder keeps at most %d and marks argsOverflow)",
						name, nr, i, len(vs), MaxValues)
				}
				u.Args[i] = vs
			}
			for i := range u.ArgsOverflow {
				if i < 0 || i > 5 {
					return nil, fmt.Errorf("recording: arch %s syscall %d: argsOverflow index %d (a syscall has arguments 0 to 5)", name, nr, i)
				}
			}
		}
	}
	return &r, nil
}

// recordedParamsText lists RecordedParams for messages.
func recordedParamsText() string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(RecordedParams)) {
		parts = append(parts, name+"'s "+strings.Join(RecordedParams[name], ", "))
	}
	return strings.Join(parts, "; ")
}
