package spec

import (
	"fmt"
	"slices"
	"strings"
)

// capabilityNames are the Linux capabilities (CAP_CHOWN = 0 to
// CAP_CHECKPOINT_RESTORE = 40, linux/capability.h), to catch misspelt
// names: a typo would otherwise resolve a profile as if the capability
// were absent.
var capabilityNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// ParseCapabilities reads a capability set as the command line gives it: a
// comma-separated list of names (CAP_SYS_ADMIN or SYS_ADMIN, any case), the
// engine sets "docker-default" and "podman-default" (which can be combined
// with names: "docker-default,SYS_ADMIN"), or "none" for the empty set. The
// result is sorted without duplicates; "" returns nil (each engine's
// default set).
func ParseCapabilities(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := []string{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		switch strings.ToLower(item) {
		case "docker-default":
			out = append(out, DockerDefaultCapabilities()...)
			continue
		case "podman-default":
			out = append(out, PodmanDefaultCapabilities()...)
			continue
		case "none":
			continue
		}
		name := strings.ToUpper(item)
		if !strings.HasPrefix(name, "CAP_") {
			name = "CAP_" + name
		}
		if !slices.Contains(capabilityNames, name) {
			return nil, fmt.Errorf("capabilities %q: unknown capability %q (want names such as CAP_SYS_ADMIN, docker-default, podman-default or none)", s, item)
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
