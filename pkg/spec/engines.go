package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	ccseccomp "github.com/containers/common/pkg/seccomp"
	mobyseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Pinned upstream versions of the default profiles (go.mod must agree;
// TestPinnedVersions checks it).
const (
	MobyProfilesVersion     = "v0.2.3"
	ContainersCommonVersion = "v0.64.2"
)

// DockerDefaultCapabilities is the bounding set Docker gives a container
// by default (moby's oci/caps defaults).
func DockerDefaultCapabilities() []string {
	return []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
		"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
		"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
	}
}

// PodmanDefaultCapabilities is the bounding set podman gives a container
// by default (containers/common pkg/config DefaultCapabilities; that
// package is not imported because it pulls in most of containers/storage).
func PodmanDefaultCapabilities() []string {
	return []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
		"CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
	}
}

// BuiltinNames lists the names builtin:NAME accepts.
func BuiltinNames() []string { return []string{"docker-default", "podman-default"} }

// Builtin returns a built-in default profile resolved for opts.Capabilities
// (the engine's default set when nil).
func Builtin(name string, opts Options) (*Profile, error) {
	switch name {
	case "docker-default":
		caps, which := capsOrDefault(opts.Capabilities, DockerDefaultCapabilities, "Docker's default capabilities")
		sc, err := mobyseccomp.GetDefaultProfile(specWithCaps(caps))
		if err != nil {
			return nil, fmt.Errorf("builtin:%s: %w", name, err)
		}
		return &Profile{
			Source: fmt.Sprintf("builtin:%s (github.com/moby/profiles/seccomp %s default profile, %s)",
				name, MobyProfilesVersion, which),
			Format: FormatBuiltin, Seccomp: sc, Capabilities: caps,
		}, nil
	case "podman-default":
		caps, which := capsOrDefault(opts.Capabilities, PodmanDefaultCapabilities, "podman's default capabilities")
		sc, err := resolvePodman(ccseccomp.DefaultProfile(), caps)
		if err != nil {
			return nil, fmt.Errorf("builtin:%s: %w", name, err)
		}
		return &Profile{
			Source: fmt.Sprintf("builtin:%s (github.com/containers/common/pkg/seccomp %s default profile, %s)",
				name, ContainersCommonVersion, which),
			Format: FormatBuiltin, Seccomp: sc, Capabilities: caps,
		}, nil
	}
	return nil, fmt.Errorf("unknown builtin profile %q (want one of %s)", name, strings.Join(BuiltinNames(), ", "))
}

func capsOrDefault(caps []string, dflt func() []string, dfltName string) ([]string, string) {
	if caps == nil {
		return dflt(), dfltName
	}
	c := append([]string(nil), caps...)
	sort.Strings(c)
	return c, "capabilities " + strings.Join(c, ",")
}

// specWithCaps is the minimal spec the resolvers read: moby's dereferences
// process.capabilities without a nil check.
func specWithCaps(caps []string) *specs.Spec {
	if caps == nil {
		caps = []string{}
	}
	return &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}}
}

// parseDocker resolves a Docker/moby profile with moby's own resolver.
func parseDocker(data []byte, name string, opts Options) (*Profile, error) {
	// Decode once ourselves for errors with a position; moby's message
	// has none.
	var probe mobyseccomp.Seccomp
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, jsonError(name, data, err)
	}
	caps, _ := capsOrDefault(opts.Capabilities, DockerDefaultCapabilities, "")
	sc, err := mobyseccomp.LoadProfile(string(data), specWithCaps(caps))
	if err != nil {
		return nil, fmt.Errorf("%s: Docker profile: %w", name, err)
	}
	if sc == nil {
		return &Profile{Source: name, Format: FormatDocker, Capabilities: caps,
			Notes: []string{"no defaultAction and no syscalls: Docker treats the profile as seccomp disabled"}}, nil
	}
	return &Profile{Source: name, Format: FormatDocker, Seccomp: sc, Capabilities: caps}, nil
}

// parsePodman reads a podman/CRI-O profile with containers/common's types.
func parsePodman(data []byte, name string, opts Options) (*Profile, error) {
	var cfg ccseccomp.Seccomp
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, jsonError(name, data, err)
	}
	caps, _ := capsOrDefault(opts.Capabilities, PodmanDefaultCapabilities, "")
	sc, err := resolvePodman(&cfg, caps)
	if err != nil {
		return nil, fmt.Errorf("%s: podman profile: %w", name, err)
	}
	p := &Profile{Source: name, Format: FormatPodman, Seccomp: sc, Capabilities: caps}
	if sc == nil {
		p.Notes = append(p.Notes, "no defaultAction and no syscalls: podman treats the profile as seccomp disabled")
	}
	return p, nil
}

// resolvePodman resolves a containers/common profile for a capability set.
//
// containers/common's own resolver (LoadProfileFromConfig) is compiled only
// with its `seccomp` build tag and cgo (it asks libseccomp for the native
// architecture); this repository marks libseccomp use with `libseccomp`
// and must resolve profiles without cgo too. The two formats differ only
// in podman's errno names, so those are converted to numbers (as
// containers/common does) and moby's resolver applies the includes and
// excludes, whose semantics are the same in both engines.
// TestPodmanResolverAgrees (-tags seccomp) checks the result against
// containers/common's resolver.
func resolvePodman(cfg *ccseccomp.Seccomp, caps []string) (*specs.LinuxSeccomp, error) {
	var m mobyseccomp.Seccomp
	m.DefaultAction = specs.LinuxSeccompAction(cfg.DefaultAction)
	var err error
	if m.DefaultErrnoRet, err = podmanErrno(cfg.DefaultErrno, cfg.DefaultErrnoRet); err != nil {
		return nil, fmt.Errorf("defaultErrno: %w", err)
	}
	for _, a := range cfg.Architectures {
		m.Architectures = append(m.Architectures, specs.Arch(a))
	}
	for _, a := range cfg.ArchMap {
		ma := mobyseccomp.Architecture{Arch: specs.Arch(a.Arch)}
		for _, sa := range a.SubArches {
			ma.SubArches = append(ma.SubArches, specs.Arch(sa))
		}
		m.ArchMap = append(m.ArchMap, ma)
	}
	for _, f := range cfg.Flags {
		m.Flags = append(m.Flags, specs.LinuxSeccompFlag(f))
	}
	m.ListenerPath, m.ListenerMetadata = cfg.ListenerPath, cfg.ListenerMetadata
	m.Syscalls = []*mobyseccomp.Syscall{}
	for i, c := range cfg.Syscalls {
		if c == nil {
			return nil, fmt.Errorf("syscalls[%d]: null rule", i)
		}
		errno, err := podmanErrno(c.Errno, c.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("syscalls[%d] (%s): %w", i, strings.Join(append([]string{c.Name}, c.Names...), " "), err)
		}
		mc := &mobyseccomp.Syscall{
			LinuxSyscall: specs.LinuxSyscall{Names: c.Names, Action: specs.LinuxSeccompAction(c.Action), ErrnoRet: errno},
			Name:         c.Name, Comment: c.Comment,
		}
		for _, a := range c.Args {
			if a == nil {
				return nil, fmt.Errorf("syscalls[%d]: null argument", i)
			}
			mc.Args = append(mc.Args, specs.LinuxSeccompArg{Index: a.Index, Value: a.Value, ValueTwo: a.ValueTwo,
				Op: specs.LinuxSeccompOperator(a.Op)})
		}
		if len(c.Includes.Caps)+len(c.Includes.Arches) > 0 {
			mc.Includes = &mobyseccomp.Filter{Caps: c.Includes.Caps, Arches: c.Includes.Arches}
		}
		if len(c.Excludes.Caps)+len(c.Excludes.Arches) > 0 {
			mc.Excludes = &mobyseccomp.Filter{Caps: c.Excludes.Caps, Arches: c.Excludes.Arches}
		}
		m.Syscalls = append(m.Syscalls, mc)
	}
	body, err := json.Marshal(&m)
	if err != nil {
		return nil, err
	}
	return mobyseccomp.LoadProfile(string(body), specWithCaps(caps))
}

// podmanErrno mirrors containers/common's errno handling: a non-empty
// errno string (a number or a name such as EPERM) wins over errnoRet.
func podmanErrno(name string, ret *uint) (*uint, error) {
	if name == "" {
		return ret, nil
	}
	if v, err := strconv.ParseUint(name, 10, 32); err == nil {
		u := uint(v)
		return &u, nil
	}
	e, ok := errnoByName()[name]
	if !ok {
		return nil, errors.New("unknown errno " + strconv.Quote(name))
	}
	return &e, nil
}

// errnoByName maps the host's errno names to numbers (x/sys/unix has only
// the number-to-name direction), with the aliases that share a number.
var errnoByName = sync.OnceValue(func() map[string]uint {
	m := map[string]uint{
		"EWOULDBLOCK": uint(unix.EWOULDBLOCK),
		"EDEADLOCK":   uint(unix.EDEADLOCK),
		"ENOTSUP":     uint(unix.ENOTSUP),
	}
	for e := syscall.Errno(1); e < 4096; e++ {
		if n := unix.ErrnoName(e); n != "" {
			m[n] = uint(e)
		}
	}
	return m
})
