// Command docker-profile prints Docker's default seccomp profile (or, with
// --caps, the capability set it is resolved for), as
// github.com/moby/profiles/seccomp v0.2.3 generates it for a container with
// Docker's default capabilities, in the OCI form of config.json's
// linux.seccomp. The fixtures and the demo put it into runc bundles, so that
// the profile under test does not depend on the Docker version installed.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// defaultCaps are Docker's default capabilities (oci/caps.DefaultCapabilities):
// the profile allows some syscalls only when a capability is granted.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

func main() {
	// docker-profile --caps prints the capability set itself, so that
	// bundles under this profile can be given the same set.
	if len(os.Args) == 2 && os.Args[1] == "--caps" {
		if err := json.NewEncoder(os.Stdout).Encode(defaultCaps); err != nil {
			os.Exit(2)
		}
		return
	}
	spec := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{
		Bounding: defaultCaps, Effective: defaultCaps, Permitted: defaultCaps,
	}}}
	p, err := seccomp.GetDefaultProfile(spec)
	if err != nil {
		fmt.Fprintf(os.Stderr, "docker-profile: %v\n", err)
		os.Exit(2)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		fmt.Fprintf(os.Stderr, "docker-profile: %v\n", err)
		os.Exit(2)
	}
}
