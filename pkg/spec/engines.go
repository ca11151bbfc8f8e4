package spec

import (
	_ "embed"
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
	// Docker20Version is the Docker release whose embedded default profile
	// builtin:docker-20.10 is (Debian 12's docker.io 20.10.24).
	Docker20Version = "v20.10.24+incompatible"
	// Podman43CommonVersion is the containers/common release podman 4.3.1
	// is built with and whose seccomp.json Debian 12 installs as
	// /usr/share/containers/seccomp.json (builtin:podman-4.3).
	Podman43CommonVersion = "v0.50.1"
)

// The default profiles of the engine versions installed on these machines,
// embedded because their Go packages cannot be part of this build: a build
// holds one version per module path, and containers/common v0.64.2 (for
// builtin:podman-default) requires github.com/docker/docker v28 and is
// itself the newer version of the module podman 4.3.1 uses. go:embed cannot
// reach the module cache, hence copies, byte for byte
// (TestEngineProfilesAreUpstream compares them with the upstream modules):
//
//   - docker-v20.10.24-default.json: profiles/seccomp/default.json of
//     github.com/docker/docker v20.10.24+incompatible, which upstream
//     generates from that package's DefaultProfile(). It is resolved with
//     moby/profiles/seccomp, the same package moved out of docker/docker:
//     includes/excludes on caps, arches and minKernel work alike in both,
//     and the file has no field (defaultErrnoRet, flags, listener) that
//     20.10's resolver would drop and v0.2.3's keep.
//   - containers-common-v0.50.1-seccomp.json: pkg/seccomp/seccomp.json of
//     github.com/containers/common v0.50.1 (what Debian 12 installs as
//     /usr/share/containers/seccomp.json), read with v0.64.2's types.
var (
	//go:embed engines/docker-v20.10.24-default.json
	docker2010Profile string
	//go:embed engines/containers-common-v0.50.1-seccomp.json
	podman43Profile []byte
)

// DockerDefaultCapabilities is the bounding set Docker gives a container
// by default (moby's oci/caps defaults; the same in Docker 20.10).
func DockerDefaultCapabilities() []string {
	return []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
		"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
		"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
	}
}

// PodmanDefaultCapabilities is the bounding set podman gives a container
// by default: default_capabilities of containers.conf (the file Debian's
// podman 4.3.1 reads has the same 11). containers/common pkg/config is not
// imported because it pulls in most of containers/storage.
func PodmanDefaultCapabilities() []string {
	return []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
		"CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
	}
}

// builtin is a pinned engine default profile and how the engine resolves it
// for a capability set.
type builtin struct {
	origin      string // upstream module, version and file
	defaultCaps func() []string
	capsName    string // what the default set is called in Source
	resolve     func(caps []string) (*specs.LinuxSeccomp, error)
}

var builtins = map[string]builtin{
	"docker-default": {
		origin:      "github.com/moby/profiles/seccomp " + MobyProfilesVersion + " default profile",
		defaultCaps: DockerDefaultCapabilities, capsName: "Docker's default capabilities",
		resolve: func(caps []string) (*specs.LinuxSeccomp, error) {
			return mobyseccomp.GetDefaultProfile(specWithCaps(caps))
		},
	},
	"docker-20.10": {
		origin:      "github.com/docker/docker " + Docker20Version + " profiles/seccomp default profile",
		defaultCaps: DockerDefaultCapabilities, capsName: "Docker's default capabilities",
		resolve: func(caps []string) (*specs.LinuxSeccomp, error) {
			return mobyseccomp.LoadProfile(docker2010Profile, specWithCaps(caps))
		},
	},
	"podman-default": {
		origin:      "github.com/containers/common/pkg/seccomp " + ContainersCommonVersion + " default profile",
		defaultCaps: PodmanDefaultCapabilities, capsName: "podman's default capabilities",
		resolve: func(caps []string) (*specs.LinuxSeccomp, error) {
			return resolvePodman(ccseccomp.DefaultProfile(), caps)
		},
	},
	"podman-4.3": {
		origin:      "github.com/containers/common " + Podman43CommonVersion + " pkg/seccomp/seccomp.json, podman 4.3.1's default",
		defaultCaps: PodmanDefaultCapabilities, capsName: "podman's default capabilities",
		resolve: func(caps []string) (*specs.LinuxSeccomp, error) {
			var cfg ccseccomp.Seccomp
			if err := json.Unmarshal(podman43Profile, &cfg); err != nil {
				return nil, fmt.Errorf("embedded profile: %w", err)
			}
			return resolvePodman(&cfg, caps)
		},
	},
}

// BuiltinNames lists the names builtin:NAME accepts.
func BuiltinNames() []string {
	return []string{"docker-default", "docker-20.10", "podman-default", "podman-4.3"}
}

// Builtin returns a built-in default profile resolved for opts.Capabilities
// (the engine's default set when nil), the way its engine resolves it.
func Builtin(name string, opts Options) (*Profile, error) {
	b, ok := builtins[name]
	if !ok {
		return nil, fmt.Errorf("unknown builtin profile %q (want one of %s)", name, strings.Join(BuiltinNames(), ", "))
	}
	caps, which := capsOrDefault(opts.Capabilities, b.defaultCaps, b.capsName)
	sc, err := b.resolve(caps)
	if err != nil {
		return nil, fmt.Errorf("builtin:%s: %w", name, err)
	}
	return &Profile{
		Source: fmt.Sprintf("builtin:%s (%s, %s)", name, b.origin, which),
		Format: FormatBuiltin, Seccomp: sc, Capabilities: caps,
	}, nil
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
		// A singular name goes into Names, as moby's loader would put it
		// (its Syscall.Name is deprecated); like that loader, a rule may
		// not have both.
		names := c.Names
		if c.Name != "" {
			if len(c.Names) != 0 {
				return nil, fmt.Errorf("syscalls[%d]: both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'", i)
			}
			names = []string{c.Name}
		}
		mc := &mobyseccomp.Syscall{
			LinuxSyscall: specs.LinuxSyscall{Names: names, Action: specs.LinuxSeccompAction(c.Action), ErrnoRet: errno},
			Comment:      c.Comment,
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
