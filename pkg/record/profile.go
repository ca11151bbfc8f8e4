package record

import (
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

// Where a recorder answers and writes unless told otherwise.
const (
	DefaultSocket = "/run/seccomp-attest/record.sock"
	DefaultDir    = "/var/lib/seccomp-attest/recordings"
)

// UnobservedSyscalls are the syscalls a recording profile lets through without a
// notification, so a recording cannot say whether the workload made them;
// a profile generated from a recording must allow them (every default
// profile does).
//
//   - write: runc refuses SCMP_ACT_NOTIFY on write (its init writes the
//     listener's descriptor number to its parent after loading the
//     filter; a notified write would wait for a listener that never gets
//     the descriptor).
//   - exit, exit_group: if the recorder dies, the kernel answers every
//     notified syscall ENOSYS; allowing these lets the workload's
//     processes still end (a libc whose exit loops on ENOSYS would spin
//     forever), which is what makes that failure a defined state.
var UnobservedSyscalls = []string{"exit", "exit_group", "write"}

// secondaryArches are the architectures a native one also runs (the ones
// Docker's default profile lists), which a recording profile names so
// that x32 and i386 calls are notified and recorded under their own arch.
var secondaryArches = map[*arch.Arch][]*arch.Arch{
	arch.X86_64:  {arch.X86, arch.X32},
	arch.AArch64: {arch.ARM},
	arch.S390X:   {arch.S390},
	arch.PPC64LE: {arch.PPC64},
}

// ProfileOptions shape a recording profile.
type ProfileOptions struct {
	// ListenerPath is the recorder's socket (seccomp-attestd's or
	// seccomp-attest record serve's --socket).
	ListenerPath string
	// Name, when set, names the recording file (NAME.json in the
	// recorder's directory) instead of the container's ID. It travels as
	// the profile's listenerMetadata.
	Name string
	// Arches are the architectures to record; nil means the native one
	// and the ones it also runs (x86_64: x86 and x32).
	Arches []*arch.Arch
}

// ValidName reports whether name can name a recording file: it becomes a
// file name in the recorder's directory, so 1 to 128 of [A-Za-z0-9_.-],
// no separator and no leading dot or dash. (Checked by hand: a regexp with
// {0,127} compiled at package init cost every hook run half a
// millisecond.)
func ValidName(name string) bool {
	if len(name) == 0 || len(name) > 128 || name[0] == '.' || name[0] == '-' {
		return false
	}
	for _, c := range []byte(name) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}

// RecordingProfile returns the OCI seccomp profile that records a
// workload: SCMP_ACT_NOTIFY, answered by the recorder at ListenerPath, on
// every syscall of the architectures' tables except UnobservedSyscalls (allowed),
// and ERRNO(ENOSYS) for numbers the runtime's libseccomp cannot name, as
// a generated profile answers numbers newer than itself.
func RecordingProfile(o ProfileOptions) (*specs.LinuxSeccomp, error) {
	if o.ListenerPath == "" {
		return nil, fmt.Errorf("recording profile: no listener path")
	}
	if o.Name != "" && !ValidName(o.Name) {
		return nil, fmt.Errorf("recording profile: name %q: want letters, digits, '_', '.', '-' (at most 128, no leading dot)", o.Name)
	}
	arches := o.Arches
	if arches == nil {
		native := arch.Native()
		if native == nil {
			return nil, fmt.Errorf("recording profile: this machine's architecture has no seccomp table here; name the architectures")
		}
		arches = append([]*arch.Arch{native}, secondaryArches[native]...)
	}
	var names []string
	seen := map[string]bool{}
	for _, u := range UnobservedSyscalls {
		seen[u] = true
	}
	var ociArches []specs.Arch
	for _, a := range arches {
		ociArches = append(ociArches, specs.Arch("SCMP_ARCH_"+strings.ToUpper(a.Name)))
		for _, s := range a.Syscalls() {
			if !seen[s.Name] {
				seen[s.Name] = true
				names = append(names, s.Name)
			}
		}
	}
	slices.Sort(names)
	enosys := uint(38)
	return &specs.LinuxSeccomp{
		DefaultAction:    specs.ActErrno,
		DefaultErrnoRet:  &enosys,
		Architectures:    ociArches,
		ListenerPath:     o.ListenerPath,
		ListenerMetadata: o.Name,
		Syscalls: []specs.LinuxSyscall{
			{Names: names, Action: specs.ActNotify},
			{Names: slices.Clone(UnobservedSyscalls), Action: specs.ActAllow},
		},
	}, nil
}
