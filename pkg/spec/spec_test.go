package spec

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile/inputfiletest"
	"github.com/seccomp-attest/seccomp-attest/internal/testfixture"
	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// ruleFor returns the action the resolved profile gives name
// unconditionally, or "" when no unconditional rule names it.
func ruleFor(sc *specs.LinuxSeccomp, name string) specs.LinuxSeccompAction {
	for _, c := range sc.Syscalls {
		if len(c.Args) == 0 && slices.Contains(c.Names, name) {
			return c.Action
		}
	}
	return ""
}

func TestLoadOCIProfile(t *testing.T) {
	p, err := Load("testdata/oci.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != FormatOCI || p.Source != "testdata/oci.json" {
		t.Fatalf("format %q source %q", p.Format, p.Source)
	}
	if p.Seccomp.DefaultAction != specs.ActAllow || len(p.Seccomp.Syscalls) != 2 || len(p.Seccomp.Architectures) != 3 {
		t.Fatalf("profile not read as written: %+v", p.Seccomp)
	}
	if p.Capabilities != nil {
		t.Errorf("a bare OCI profile has no capabilities, got %v", p.Capabilities)
	}
}

func TestLoadDockerProfileResolvesCapabilities(t *testing.T) {
	def, err := Load("testdata/docker.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if def.Format != FormatDocker {
		t.Fatalf("format %q, want docker", def.Format)
	}
	if !slices.Equal(def.Capabilities, DockerDefaultCapabilities()) {
		t.Errorf("default resolution used %v", def.Capabilities)
	}
	admin, err := Load("testdata/docker.json", Options{Capabilities: append(DockerDefaultCapabilities(), "CAP_SYS_ADMIN")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		dflt, sysadm specs.LinuxSeccompAction
	}{
		{"read", specs.ActAllow, specs.ActAllow},
		{"getpid", specs.ActAllow, specs.ActAllow}, // legacy "name"
		{"mount", "", specs.ActAllow},              // includes caps
		{"umount2", "", specs.ActAllow},
		{"chown", specs.ActAllow, ""},              // excludes caps
		{"ptrace", specs.ActAllow, specs.ActAllow}, // minKernel 4.8: this kernel is newer
		{"arm_fadvise64_64", "", ""},               // includes arches arm/arm64 only
	} {
		if got := ruleFor(def.Seccomp, tc.name); got != tc.dflt {
			t.Errorf("default caps: %s = %q, want %q", tc.name, got, tc.dflt)
		}
		if got := ruleFor(admin.Seccomp, tc.name); got != tc.sysadm {
			t.Errorf("with CAP_SYS_ADMIN: %s = %q, want %q", tc.name, got, tc.sysadm)
		}
	}
	// archMap resolves to the host's entry (x86_64 with its sub-arches).
	if got := def.Seccomp.Architectures; !slices.Equal(got, []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}) {
		t.Errorf("architectures %v", got)
	}
}

func TestLoadPodmanProfile(t *testing.T) {
	p, err := Load("testdata/podman.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != FormatPodman {
		t.Fatalf("format %q, want podman", p.Format)
	}
	if d := p.Seccomp.DefaultErrnoRet; d == nil || *d != 38 {
		t.Errorf("defaultErrno ENOSYS not converted: %v", d)
	}
	errnos := map[string]uint{}
	for _, c := range p.Seccomp.Syscalls {
		if c.ErrnoRet != nil {
			errnos[c.Names[0]] = *c.ErrnoRet
		}
	}
	if errnos["bpf"] != 1 || errnos["kcmp"] != 22 {
		t.Errorf("errno names/numbers not converted: %v", errnos)
	}
	if ruleFor(p.Seccomp, "mount") != "" {
		t.Error("mount allowed without CAP_SYS_ADMIN")
	}
	admin, err := Load("testdata/podman.json", Options{Capabilities: []string{"CAP_SYS_ADMIN"}})
	if err != nil {
		t.Fatal(err)
	}
	if ruleFor(admin.Seccomp, "mount") != specs.ActAllow {
		t.Error("mount not allowed with CAP_SYS_ADMIN")
	}
	if _, err := Parse([]byte(`{"defaultAction":"SCMP_ACT_ERRNO","defaultErrno":"ENOPE","syscalls":[]}`), "x.json", Options{}); err == nil ||
		!strings.Contains(err.Error(), "x.json") || !strings.Contains(err.Error(), "ENOPE") {
		t.Errorf("unknown errno name: %v", err)
	}
}

func TestLoadBundle(t *testing.T) {
	for _, path := range []string{"testdata/bundle", "testdata/bundle/config.json"} {
		p, err := Load(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Format != FormatBundle || p.Seccomp == nil || p.Seccomp.DefaultAction != specs.ActErrno {
			t.Fatalf("%s: %+v", path, p)
		}
		if !slices.Equal(p.Capabilities, []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}) {
			t.Errorf("%s: capabilities %v", path, p.Capabilities)
		}
		if p.RawFilter != nil || len(p.Notes) != 0 {
			t.Errorf("%s: unexpected raw filter or notes %v", path, p.Notes)
		}
	}
	if _, err := LoadBundle("testdata"); err == nil || !strings.Contains(err.Error(), "no config.json") {
		t.Errorf("bundle without config.json: %v", err)
	}
	// Only the seccomp-relevant part of config.json is decoded, but what
	// is not a config at all, or has that part malformed, is refused.
	for data, want := range map[string]string{
		`{"defaultAction": "SCMP_ACT_ERRNO"}`: "not an OCI runtime config",
		`[1, 2]`:                              "not a JSON object",
		`{"ociVersion": "1.0.2", "linux": {"seccomp": 7}}`:                               "field linux.seccomp: JSON number",
		`{"ociVersion": "1.0.2", "process": {"capabilities": {"bounding": "CAP_KILL"}}}`: "field process.capabilities.bounding",
		`{"ociVersion": "1.0.2", "annotations": {"a": 1}}`:                               "field annotations",
	} {
		if _, err := ParseBundle([]byte(data), "config.json"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", data, err, want)
		}
	}
	// Fields of newer spec versions and of other concerns are not judged.
	p, err := ParseBundle([]byte(`{"ociVersion": "9.9", "hostname": 5, "mounts": {"x": 1}, "linux": {"resources": "new"}}`), "config.json")
	if err != nil || p.Seccomp != nil {
		t.Errorf("lenient decode: %+v, %v", p, err)
	}
}

// crun replaces the profile with the annotation's raw filter; the intended
// side must say so and use that filter for crun only.
func TestBundleCrunBPFAnnotation(t *testing.T) {
	p, err := Load("testdata/bundle-crun-bpf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.RawFilter == nil || p.RawFilter.Len() != 1 {
		t.Fatalf("raw filter not decoded: %v", p.RawFilter)
	}
	if a := p.RawFilter.Run(&bytecode.Data{Arch: arch.X86_64.Audit, Nr: 165}); a != bytecode.ActAllow {
		t.Errorf("raw filter returns %v, want ALLOW", a)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], AnnotationBPFData) || !strings.Contains(p.Notes[0], "crun loads it instead") {
		t.Errorf("notes do not say that crun replaces the profile: %q", p.Notes)
	}
	if p.Seccomp == nil {
		t.Error("the config's profile must still be reported")
	}
	s, err := p.Stack(RuntimeCrun)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 1 || s[0] != p.RawFilter {
		t.Errorf("crun stack is not the raw filter: %v", s)
	}
	if _, err := p.Stack("youki"); err == nil {
		t.Error("unknown runtime accepted")
	}

	bad := strings.Replace(string(mustRead(t, "testdata/bundle-crun-bpf/config.json")), "BgAAAAAA/38=", "BgAAAAAA", 1)
	if _, err := Parse([]byte(bad), "cfg.json", Options{}); err == nil || !strings.Contains(err.Error(), AnnotationBPFData) {
		t.Errorf("truncated filter in annotation: %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"testdata/malformed.json", []string{"testdata/malformed.json:5:3", "invalid JSON", "invalid character"}},
		{"testdata/badtype.json", []string{"testdata/badtype.json:1:", "syscalls.names", "string"}},
		{"testdata/unknown.json", []string{"testdata/unknown.json", "unknown format", "apiVersion, kind"}},
		{"testdata/missing.json", []string{"testdata/missing.json", "no such file"}},
	} {
		_, err := Load(tc.path, Options{})
		if err == nil {
			t.Errorf("%s: no error", tc.path)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tc.path, err, w)
			}
		}
	}
	for _, in := range []string{"[]", "null", "42", ""} {
		if _, err := Parse([]byte(in), "in.json", Options{}); err == nil || !strings.Contains(err.Error(), "in.json") {
			t.Errorf("%q: %v", in, err)
		}
	}
	// A misspelt key in a bare OCI profile must not silently drop a condition.
	if _, err := Parse([]byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["kill"],"action":"SCMP_ACT_ERRNO","argz":[]}]}`), "typo.json", Options{}); err == nil || !strings.Contains(err.Error(), "argz") {
		t.Errorf("unknown field: %v", err)
	}
}

func TestBuiltins(t *testing.T) {
	for _, name := range BuiltinNames() {
		p, err := Builtin(name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		names := 0
		for _, c := range p.Seccomp.Syscalls {
			names += len(c.Names)
		}
		if names < 300 {
			t.Fatalf("%s: profile names only %d syscalls", name, names)
		}
		want := map[string]string{"docker-default": "moby/profiles/seccomp " + MobyProfilesVersion,
			"docker-20.10":   "github.com/docker/docker " + Docker20Version,
			"podman-default": "containers/common/pkg/seccomp " + ContainersCommonVersion,
			"podman-4.3":     "github.com/containers/common " + Podman43CommonVersion}[name]
		if !strings.Contains(p.Source, want) {
			t.Errorf("%s: source %q does not name %q", name, p.Source, want)
		}
		// A syscall each profile allows only with CAP_SYS_ADMIN (podman's
		// allows mount for everyone and leaves the check to the kernel).
		probe := map[string]string{"docker-default": "mount", "docker-20.10": "mount",
			"podman-default": "bpf", "podman-4.3": "bpf"}[name]
		if ruleFor(p.Seccomp, probe) == specs.ActAllow {
			t.Errorf("%s allows %s with default capabilities", name, probe)
		}
		admin, err := Builtin(name, Options{Capabilities: []string{"CAP_SYS_ADMIN"}})
		if err != nil {
			t.Fatal(err)
		}
		if ruleFor(admin.Seccomp, probe) != specs.ActAllow {
			t.Errorf("%s with CAP_SYS_ADMIN does not allow %s", name, probe)
		}
		if !strings.Contains(admin.Source, "capabilities CAP_SYS_ADMIN") {
			t.Errorf("source does not name the capabilities: %q", admin.Source)
		}
	}
	if _, err := Builtin("nope", Options{}); err == nil || !strings.Contains(err.Error(), "docker-default") {
		t.Errorf("unknown builtin: %v", err)
	}
}

// The moby v0.2.3 default profile the fixtures were captured with
// (test/helpers/docker-profile, Docker's default capabilities) is what
// builtin:docker-default resolves to on this kernel.
func TestBuiltinDockerDefaultMatchesFixtureProfile(t *testing.T) {
	fx, err := Load(testfixture.Path(t, "moby-default-v0.2.3.profile.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Builtin("docker-default", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fx.Seccomp.Syscalls) != len(p.Seccomp.Syscalls) {
		t.Fatalf("%d rules, fixture has %d", len(p.Seccomp.Syscalls), len(fx.Seccomp.Syscalls))
	}
	for i := range p.Seccomp.Syscalls {
		a, b := p.Seccomp.Syscalls[i], fx.Seccomp.Syscalls[i]
		if !slices.Equal(a.Names, b.Names) || a.Action != b.Action || len(a.Args) != len(b.Args) {
			t.Errorf("rule %d: %v %s, fixture %v %s", i, a.Names, a.Action, b.Names, b.Action)
		}
	}
}

// The pinned versions named in Source must be the ones go.mod builds.
func TestPinnedVersions(t *testing.T) {
	mod := string(mustRead(t, "../../go.mod"))
	for _, req := range []string{"github.com/moby/profiles/seccomp " + MobyProfilesVersion,
		"github.com/containers/common " + ContainersCommonVersion} {
		if !strings.Contains(mod, req) {
			t.Errorf("go.mod does not require %s", req)
		}
	}
}

// The ENOSYS stub decides like runc's: numbers above the profile's highest
// go to ENOSYS, the rest (and other architectures) to the filter.
func TestEnosysStub(t *testing.T) {
	stub, err := enosysStub([]archMax{
		{arch.X86_64, 450}, {arch.X32, arch.X32SyscallBit | 540}, {arch.X86, 460}, {arch.S390X, 440},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The program the stub falls through to: KILL_PROCESS, so that every
	// input shows whether it was decided by the stub.
	prog := append(stub, bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActKillProcess)})
	f, err := bytecode.NewFilter(prog)
	if err != nil {
		t.Fatal(err)
	}
	enosys := bytecode.ActErrno | errnoENOSYS
	for _, tc := range []struct {
		arch uint32
		nr   uint32
		want bytecode.Action
	}{
		{arch.X86_64.Audit, 0, bytecode.ActKillProcess},
		{arch.X86_64.Audit, 450, bytecode.ActKillProcess},
		{arch.X86_64.Audit, 451, enosys},
		{arch.X86_64.Audit, arch.X32SyscallBit | 540, bytecode.ActKillProcess},
		{arch.X86_64.Audit, arch.X32SyscallBit | 541, enosys},
		{arch.X86_64.Audit, arch.X32SyscallBit, bytecode.ActKillProcess},
		{arch.X86.Audit, 460, bytecode.ActKillProcess},
		{arch.X86.Audit, 461, enosys},
		{arch.S390X.Audit, 0, enosys}, // the multiplexer
		{arch.S390X.Audit, 1, bytecode.ActKillProcess},
		{arch.S390X.Audit, 441, enosys},
		{arch.AArch64.Audit, 9999, bytecode.ActKillProcess}, // not listed: to the filter
	} {
		if got := f.Run(&bytecode.Data{Arch: tc.arch, Nr: tc.nr}); got != tc.want {
			t.Errorf("arch %#x nr %#x: %v, want %v", tc.arch, tc.nr, got, tc.want)
		}
	}
	// x86_64 without x32 leaves x32 numbers to the filter, and vice versa.
	stub, err = enosysStub([]archMax{{arch.X86_64, 450}})
	if err != nil {
		t.Fatal(err)
	}
	f, err = bytecode.NewFilter(append(stub, prog[len(prog)-1]))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Run(&bytecode.Data{Arch: arch.X86_64.Audit, Nr: arch.X32SyscallBit | 999}); got != bytecode.ActKillProcess {
		t.Errorf("x32 number with only x86_64 listed: %v", got)
	}
	if stub, _ := enosysStub(nil); stub != nil {
		t.Errorf("no architectures: stub %v", stub)
	}
}

func TestParseCapabilities(t *testing.T) {
	for in, want := range map[string]string{
		"":                                 "<nil>",
		"none":                             "",
		"sys_admin, CAP_BPF,CAP_SYS_ADMIN": "CAP_BPF,CAP_SYS_ADMIN",
		"podman-default":                   strings.Join(slices.Sorted(slices.Values(PodmanDefaultCapabilities())), ","),
		"docker-default,SYS_ADMIN":         strings.Join(slices.Sorted(slices.Values(append(DockerDefaultCapabilities(), "CAP_SYS_ADMIN"))), ","),
	} {
		got, err := ParseCapabilities(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		s := strings.Join(got, ",")
		if got == nil {
			s = "<nil>"
		}
		if s != want {
			t.Errorf("%q: %q, want %q", in, s, want)
		}
	}
	if _, err := ParseCapabilities("CAP_SYS_ADMN"); err == nil || !strings.Contains(err.Error(), `"CAP_SYS_ADMN"`) {
		t.Errorf("misspelt capability: %v", err)
	}
}

// Load and LoadBundle read only regular files within the profile cap: a
// device, a FIFO (also as a bundle's config.json) or a sparse 1 GiB file is
// refused at once, naming the file.
func TestLoadRefusesWhatIsNotAProfileFile(t *testing.T) {
	load := func(path string) error { _, err := Load(path, Options{}); return err }
	for _, c := range inputfiletest.Cases(t) {
		if c.Name == "directory" {
			continue // a bundle, below
		}
		inputfiletest.CheckRefused(t, c, load)
		bundle := t.TempDir()
		if err := os.Symlink(c.Path, filepath.Join(bundle, "config.json")); err != nil {
			t.Fatal(err)
		}
		inputfiletest.CheckRefused(t, inputfiletest.Case{Name: "bundle with a config.json to " + c.Name,
			Path: bundle, Want: c.Want}, load)
	}
}
