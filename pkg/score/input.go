package score

import (
	"fmt"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// Input is a concrete syscall: what a finding or a use says gets through
// (or is denied), ready to be issued by a test program.
type Input struct {
	Arch      string    `json:"arch"`
	AuditArch string    `json:"auditArch"`
	Nr        uint32    `json:"nr"` // as in seccomp_data.nr (x32 includes 0x40000000)
	Syscall   string    `json:"syscall"`
	Args      [6]string `json:"args"` // hex, 64 bits
	// Call writes the input as a call, e.g. "socket(AF_VSOCK|1<<32, 0x1)".
	Call string `json:"call"`

	data bytecode.Data
}

// Data returns the input as seccomp_data.
func (in *Input) Data() bytecode.Data { return in.data }

func (sc *scorer) input(a *arch.Arch, name string, d *bytecode.Data) *Input {
	in := &Input{Arch: a.Name, AuditArch: fmt.Sprintf("%#08x", d.Arch), Nr: d.Nr, Syscall: name, data: *d}
	for i, v := range d.Args {
		in.Args[i] = fmt.Sprintf("%#x", v)
	}
	in.Call = sc.call(name, d)
	return in
}

// socketFamilies names the address families socket findings mention.
var socketFamilies = map[uint64]string{
	1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6", 16: "AF_NETLINK", 17: "AF_PACKET",
	38: "AF_ALG", 40: "AF_VSOCK",
}

// call writes d as name(args): arguments up to the last non-zero one,
// socket families by name, 32-bit-typed arguments with high bits as
// LOW|HIGH<<32.
func (sc *scorer) call(name string, d *bytecode.Data) string {
	n := 1
	for i := range d.Args {
		if d.Args[i] != 0 {
			n = i + 1
		}
	}
	parts := make([]string, n)
	for i := 0; i < n; i++ {
		v := d.Args[i]
		lo, hi := v&0xffffffff, v>>32
		low := fmt.Sprintf("%#x", lo)
		if f, ok := socketFamilies[lo]; ok && i == 0 && (name == "socket" || name == "socketpair") {
			low = f
		}
		switch {
		case hi == 0:
			parts[i] = low
		case sc.kb.Is32BitArg(name, i) && hi == 1:
			parts[i] = low + "|1<<32"
		case sc.kb.Is32BitArg(name, i):
			parts[i] = fmt.Sprintf("%s|%#x<<32", low, hi)
		default:
			parts[i] = fmt.Sprintf("%#x", v)
		}
	}
	return name + "(" + strings.Join(parts, ", ") + ")"
}
