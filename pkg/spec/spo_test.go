package spec

import (
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestLoadSPOSeccompProfile(t *testing.T) {
	p, err := Load(filepath.Join("testdata", "spo.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != FormatSPO || !strings.Contains(p.Source, "SeccompProfile deny-some") {
		t.Fatalf("format %s, source %q", p.Format, p.Source)
	}
	sc := p.Seccomp
	if sc.DefaultAction != specs.ActAllow || len(sc.Architectures) != 2 || sc.Architectures[1] != specs.ArchX86 {
		t.Fatalf("%+v", sc)
	}
	errno := map[string]uint{}
	for _, c := range sc.Syscalls {
		if c.ErrnoRet != nil {
			errno[c.Names[0]] = *c.ErrnoRet
		}
		if c.Names[0] == "socket" && (len(c.Args) != 1 || c.Args[0].Value != 40 || c.Args[0].Op != specs.OpEqualTo) {
			t.Errorf("socket args %+v", c.Args)
		}
	}
	// errnoRet as a name and as a number, as SPO releases wrote it.
	if errno["ptrace"] != 13 || errno["kexec_load"] != 38 {
		t.Errorf("errno %v", errno)
	}
}

func TestLoadSPOErrors(t *testing.T) {
	head := "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\nmetadata: {name: x}\n"
	for yaml, want := range map[string]string{
		"apiVersion: v1\nkind: ConfigMap\n":                                                "unknown format",
		"apiVersion: security-profiles-operator.x-k8s.io/v1alpha1\nkind: SeccompProfile\n": "want a Security Profiles Operator",
		head: "has no spec",
		head + "spec: {defaultAction: SCMP_ACT_ERRNO, sycalls: []}\n":                                                          `unknown field "sycalls"`,
		head + "spec: {defaultAction: SCMP_ACT_ERRNO, baseProfileName: runc-v1.0.0}\n":                                         "baseProfileName",
		head + "spec: {defaultAction: SCMP_ACT_ERRNO, syscalls: [{names: [kill], action: SCMP_ACT_ERRNO, errnoRet: ENOPE}]}\n": `unknown errno "ENOPE"`,
		head + "spec: [\n": "invalid YAML",
	} {
		_, err := Parse([]byte(yaml), "spo.yaml", Options{})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "spo.yaml") {
			t.Errorf("%q: error %v, want %q and the file name", yaml, err, want)
		}
	}
}
