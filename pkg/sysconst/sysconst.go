// Package sysconst names the constants the kernel defines for system call
// arguments (socket families, clone flags, personality values...), so that
// filters read as `family == AF_VSOCK` instead of `args[0] == 0x28`, and
// parses those names back. Values come from golang.org/x/sys/unix (generated
// from the kernel's headers) and, for personality, from
// <linux/personality.h> (a test checks them against the installed header).
package sysconst

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Named is one constant.
type Named struct {
	Name  string
	Value uint32
}

// Set is the constants of one kind of argument: an enumeration in the
// bits of EnumMask (a value with no other name is shown as a number), and
// single-bit flags in the other bits.
type Set struct {
	Name     string // what the set holds, for messages: "socket family"
	EnumMask uint32
	Enum     []Named
	Flags    []Named
}

func (s *Set) String() string { return s.Name }

// Format names v (a 32-bit word the filter compares): the enumeration's
// name and the flags joined by |. ok is false where some bit or the
// enumerated part has no name: then the caller prints the number.
func (s *Set) Format(v uint32) (string, bool) {
	var parts []string
	if enum := v & s.EnumMask; s.EnumMask != 0 {
		name, ok := lookup(s.Enum, enum)
		switch {
		case ok:
			parts = append(parts, name)
		case enum != 0:
			return "", false
		}
	}
	rest := v &^ s.EnumMask
	for _, f := range s.Flags {
		if rest&f.Value == f.Value && f.Value != 0 {
			parts = append(parts, f.Name)
			rest &^= f.Value
		}
	}
	if rest != 0 || len(parts) == 0 {
		return "", false
	}
	return strings.Join(parts, "|"), true
}

// FormatFlags names v as flags only (a JSET or AND mask): ok is false
// where a bit has no flag name or the set has no flags.
func (s *Set) FormatFlags(v uint32) (string, bool) {
	if v == 0 || v&s.EnumMask != 0 || len(s.Flags) == 0 {
		return "", false
	}
	return s.Format(v)
}

// Parse reads names and numbers joined by | (AF_VSOCK, CLONE_NEWNS|0x11).
func (s *Set) Parse(text string) (uint32, error) {
	var v uint32
	for _, part := range strings.Split(text, "|") {
		part = strings.TrimSpace(part)
		if n, ok := s.value(part); ok {
			v |= n
			continue
		}
		n, err := strconv.ParseUint(part, 0, 32)
		if err != nil {
			return 0, fmt.Errorf("%q is neither a number nor a %s name", part, s.Name)
		}
		v |= uint32(n)
	}
	return v, nil
}

func (s *Set) value(name string) (uint32, bool) {
	for _, list := range [][]Named{s.Enum, s.Flags} {
		for _, n := range list {
			if n.Name == name {
				return n.Value, true
			}
		}
	}
	return 0, false
}

func lookup(list []Named, v uint32) (string, bool) {
	for _, n := range list {
		if n.Value == v {
			return n.Name, true
		}
	}
	return "", false
}

// For returns the constants of parameter arg (as the kernel names it) of
// the named system call, or nil.
func For(syscall, arg string) *Set { return byArg[syscall+"."+arg] }

// ParseArg reads text as a value of parameter arg of syscall: its
// constant names joined by |, or a number.
func ParseArg(syscall, arg, text string) (uint32, error) {
	s := For(syscall, arg)
	if s == nil {
		return 0, fmt.Errorf("not a number, and %s has no named constants", argLabel(syscall, arg))
	}
	return s.Parse(text)
}

func argLabel(syscall, arg string) string {
	if arg == "" {
		return "this argument of " + syscall
	}
	return syscall + "'s " + arg
}

// Sets of constants.
var (
	Families = &Set{Name: "socket family", EnumMask: ^uint32(0), Enum: []Named{
		{"AF_UNSPEC", unix.AF_UNSPEC}, {"AF_UNIX", unix.AF_UNIX}, {"AF_INET", unix.AF_INET},
		{"AF_AX25", unix.AF_AX25}, {"AF_IPX", unix.AF_IPX}, {"AF_APPLETALK", unix.AF_APPLETALK},
		{"AF_NETROM", unix.AF_NETROM}, {"AF_BRIDGE", unix.AF_BRIDGE}, {"AF_ATMPVC", unix.AF_ATMPVC},
		{"AF_X25", unix.AF_X25}, {"AF_INET6", unix.AF_INET6}, {"AF_ROSE", unix.AF_ROSE},
		{"AF_NETBEUI", unix.AF_NETBEUI}, {"AF_SECURITY", unix.AF_SECURITY}, {"AF_KEY", unix.AF_KEY},
		{"AF_NETLINK", unix.AF_NETLINK}, {"AF_PACKET", unix.AF_PACKET}, {"AF_ASH", unix.AF_ASH},
		{"AF_ECONET", unix.AF_ECONET}, {"AF_ATMSVC", unix.AF_ATMSVC}, {"AF_RDS", unix.AF_RDS},
		{"AF_SNA", unix.AF_SNA}, {"AF_IRDA", unix.AF_IRDA}, {"AF_PPPOX", unix.AF_PPPOX},
		{"AF_WANPIPE", unix.AF_WANPIPE}, {"AF_LLC", unix.AF_LLC}, {"AF_IB", unix.AF_IB},
		{"AF_MPLS", unix.AF_MPLS}, {"AF_CAN", unix.AF_CAN}, {"AF_TIPC", unix.AF_TIPC},
		{"AF_BLUETOOTH", unix.AF_BLUETOOTH}, {"AF_IUCV", unix.AF_IUCV}, {"AF_RXRPC", unix.AF_RXRPC},
		{"AF_ISDN", unix.AF_ISDN}, {"AF_PHONET", unix.AF_PHONET}, {"AF_IEEE802154", unix.AF_IEEE802154},
		{"AF_CAIF", unix.AF_CAIF}, {"AF_ALG", unix.AF_ALG}, {"AF_NFC", unix.AF_NFC},
		{"AF_VSOCK", unix.AF_VSOCK}, {"AF_KCM", unix.AF_KCM}, {"AF_QIPCRTR", unix.AF_QIPCRTR},
		{"AF_SMC", unix.AF_SMC}, {"AF_XDP", unix.AF_XDP}, {"AF_MCTP", unix.AF_MCTP},
	}}
	SocketTypes = &Set{Name: "socket type", EnumMask: 0xf, Enum: []Named{
		{"SOCK_STREAM", unix.SOCK_STREAM}, {"SOCK_DGRAM", unix.SOCK_DGRAM}, {"SOCK_RAW", unix.SOCK_RAW},
		{"SOCK_RDM", unix.SOCK_RDM}, {"SOCK_SEQPACKET", unix.SOCK_SEQPACKET}, {"SOCK_DCCP", unix.SOCK_DCCP},
		{"SOCK_PACKET", unix.SOCK_PACKET},
	}, Flags: []Named{{"SOCK_NONBLOCK", unix.SOCK_NONBLOCK}, {"SOCK_CLOEXEC", unix.SOCK_CLOEXEC}}}
	// CloneFlags: the low byte of clone's flags is the signal sent to the
	// parent when the child exits (CSIGNAL).
	CloneFlags = &Set{Name: "clone flag", EnumMask: 0xff, Enum: []Named{
		{"SIGCHLD", uint32(unix.SIGCHLD)},
	}, Flags: []Named{
		{"CLONE_VM", unix.CLONE_VM}, {"CLONE_FS", unix.CLONE_FS}, {"CLONE_FILES", unix.CLONE_FILES},
		{"CLONE_SIGHAND", unix.CLONE_SIGHAND}, {"CLONE_PIDFD", unix.CLONE_PIDFD}, {"CLONE_PTRACE", unix.CLONE_PTRACE},
		{"CLONE_VFORK", unix.CLONE_VFORK}, {"CLONE_PARENT", unix.CLONE_PARENT}, {"CLONE_THREAD", unix.CLONE_THREAD},
		{"CLONE_NEWNS", unix.CLONE_NEWNS}, {"CLONE_SYSVSEM", unix.CLONE_SYSVSEM}, {"CLONE_SETTLS", unix.CLONE_SETTLS},
		{"CLONE_PARENT_SETTID", unix.CLONE_PARENT_SETTID}, {"CLONE_CHILD_CLEARTID", unix.CLONE_CHILD_CLEARTID},
		{"CLONE_DETACHED", unix.CLONE_DETACHED}, {"CLONE_UNTRACED", unix.CLONE_UNTRACED},
		{"CLONE_CHILD_SETTID", unix.CLONE_CHILD_SETTID}, {"CLONE_NEWCGROUP", unix.CLONE_NEWCGROUP},
		{"CLONE_NEWUTS", unix.CLONE_NEWUTS}, {"CLONE_NEWIPC", unix.CLONE_NEWIPC}, {"CLONE_NEWUSER", unix.CLONE_NEWUSER},
		{"CLONE_NEWPID", unix.CLONE_NEWPID}, {"CLONE_NEWNET", unix.CLONE_NEWNET}, {"CLONE_IO", unix.CLONE_IO},
	}}
	// Namespaces: setns's nstype, the CLONE_NEW* flags (CLONE_NEWTIME
	// shares its bit with CSIGNAL, which setns does not take).
	Namespaces = &Set{Name: "namespace type", Flags: []Named{
		{"CLONE_NEWTIME", unix.CLONE_NEWTIME}, {"CLONE_NEWNS", unix.CLONE_NEWNS},
		{"CLONE_NEWCGROUP", unix.CLONE_NEWCGROUP}, {"CLONE_NEWUTS", unix.CLONE_NEWUTS},
		{"CLONE_NEWIPC", unix.CLONE_NEWIPC}, {"CLONE_NEWUSER", unix.CLONE_NEWUSER},
		{"CLONE_NEWPID", unix.CLONE_NEWPID}, {"CLONE_NEWNET", unix.CLONE_NEWNET},
	}}
	// Personalities: <linux/personality.h>; the execution domain is the
	// low byte (PER_MASK), the other bits are flags. Domains defined with
	// flags (PER_SVR4...) read as their parts.
	Personalities = &Set{Name: "personality", EnumMask: 0xff, Enum: []Named{
		{"PER_LINUX", 0x0000}, {"PER_BSD", 0x0006}, {"PER_LINUX32", 0x0008},
		{"PER_RISCOS", 0x000c}, {"PER_OSF4", 0x000f}, {"PER_HPUX", 0x0010},
	}, Flags: []Named{
		{"UNAME26", 0x0020000}, {"ADDR_NO_RANDOMIZE", 0x0040000}, {"FDPIC_FUNCPTRS", 0x0080000},
		{"MMAP_PAGE_ZERO", 0x0100000}, {"ADDR_COMPAT_LAYOUT", 0x0200000}, {"READ_IMPLIES_EXEC", 0x0400000},
		{"ADDR_LIMIT_32BIT", 0x0800000}, {"SHORT_INODE", 0x1000000}, {"WHOLE_SECONDS", 0x2000000},
		{"STICKY_TIMEOUTS", 0x4000000}, {"ADDR_LIMIT_3GB", 0x8000000},
	}}
	Protections = &Set{Name: "memory protection", EnumMask: 0, Flags: []Named{
		{"PROT_READ", unix.PROT_READ}, {"PROT_WRITE", unix.PROT_WRITE}, {"PROT_EXEC", unix.PROT_EXEC},
		{"PROT_GROWSDOWN", unix.PROT_GROWSDOWN}, {"PROT_GROWSUP", unix.PROT_GROWSUP},
	}}
)

// byArg maps "syscall.parameter" (the kernel's parameter names, see
// arch.SyscallArgs) to its constants.
var byArg = map[string]*Set{
	"socket.family": Families, "socketpair.family": Families,
	"socket.type": SocketTypes, "socketpair.type": SocketTypes,
	"clone.clone_flags": CloneFlags, "unshare.unshare_flags": CloneFlags,
	"setns.flags":             Namespaces,
	"personality.personality": Personalities,
	"mmap.prot":               Protections, "mprotect.prot": Protections, "pkey_mprotect.prot": Protections,
}
