package attest

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// machineIDFile is a variable so tests can point it elsewhere.
var machineIDFile = "/etc/machine-id"

// HostInfo describes this machine for the predicate; keyFingerprint is
// left to the caller, which knows the key.
func HostInfo() (Host, error) {
	id, err := os.ReadFile(machineIDFile)
	if err != nil {
		return Host{}, fmt.Errorf("host id: %w", err)
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return Host{}, fmt.Errorf("uname: %w", err)
	}
	return Host{
		ID:     strings.TrimSpace(string(id)),
		Kernel: unix.ByteSliceToString(u.Release[:]),
		Arch:   unix.ByteSliceToString(u.Machine[:]),
	}, nil
}
