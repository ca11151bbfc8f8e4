package source

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
	"github.com/seccomp-attest/seccomp-attest/internal/inputfile/inputfiletest"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

const specTestdata = "../spec/testdata"

func TestParseEveryKind(t *testing.T) {
	for _, tc := range []struct {
		text string
		want Source
	}{
		{"pid:1", Source{Kind: PID, PID: 1}},
		{"pid:4194304", Source{Kind: PID, PID: 4194304}},
		{"bpf:a.bpf", Source{Kind: BPF, Paths: []string{"a.bpf"}}},
		{"bpf:0.bpf,1.bpf,-", Source{Kind: BPF, Paths: []string{"0.bpf", "1.bpf", "-"}}},
		{"profile:seccomp.json", Source{Kind: Profile, Paths: []string{"seccomp.json"}}},
		{"profile:-", Source{Kind: Profile, Paths: []string{"-"}}},
		{"bundle:/run/containers/x", Source{Kind: Bundle, Paths: []string{"/run/containers/x"}}},
		{"builtin:docker-default", Source{Kind: Builtin, Name: "docker-default"}},
		{"builtin:podman-4.3", Source{Kind: Builtin, Name: "podman-4.3"}},
		// A bare path: its kind is detected.
		{"filter.bpf", Source{Kind: BPF, Paths: []string{"filter.bpf"}}},
		{"-", Source{Kind: BPF, Paths: []string{"-"}}},
		{"x/profile.yaml", Source{Kind: Profile, Paths: []string{"x/profile.yaml"}}},
		{filepath.Join(specTestdata, "bundle"), Source{Kind: Bundle, Paths: []string{filepath.Join(specTestdata, "bundle")}}},
	} {
		got, err := CommandLine.Parse(tc.text)
		if err != nil {
			t.Errorf("%s: %v", tc.text, err)
			continue
		}
		tc.want.Text = tc.text
		if got.Text != tc.want.Text || got.Kind != tc.want.Kind || got.PID != tc.want.PID ||
			!slices.Equal(got.Paths, tc.want.Paths) || got.Name != tc.want.Name {
			t.Errorf("%s: %+v, want %+v", tc.text, *got, tc.want)
		}
	}
}

// Every malformed source is refused before anything is read, on one line
// that names the source and says what is wrong.
func TestParseRefusesMalformedSources(t *testing.T) {
	for _, tc := range []struct {
		syntax Syntax
		text   string
		want   string
	}{
		{CommandLine, "pid:0", "pid must be a positive number"},
		{CommandLine, "pid:-3", "pid must be a positive number"},
		{CommandLine, "pid:self", "pid must be a positive number"},
		{CommandLine, "pid:", "pid must be a positive number"},
		{CommandLine, "pid:99999999999999999999", "pid must be a positive number"},
		{CommandLine, "bpf:", "empty file name (want bpf:FILE[,FILE...])"},
		{CommandLine, "bpf:a.bpf,,b.bpf", "empty file name"},
		{CommandLine, "bpf:a.bpf,", "empty file name"},
		{CommandLine, "profile:", "empty file name (want profile:FILE)"},
		{CommandLine, "bundle:", "empty file name (want bundle:DIR)"},
		{CommandLine, "bundle:-", "a bundle is a directory; give its config.json on standard input as profile:-"},
		{CommandLine, "builtin:", `unknown builtin profile ""`},
		{CommandLine, "builtin:nope", `unknown builtin profile "nope" (want one of docker-default, docker-20.10, podman-default, podman-4.3)`},
		{CommandLine, "nope:x", `unknown kind "nope" (want pid:N, bpf:FILE[,FILE...], profile:FILE, bundle:DIR, ` +
			`builtin:NAME (docker-default, docker-20.10, podman-default, podman-4.3) or a path)`},
		{CommandLine, "PID:1", `unknown kind "PID"`},
		{Baseline, "pid:1", `a pid source is not accepted here (want builtin:NAME (docker-default, docker-20.10, podman-default, podman-4.3), ` +
			`profile:FILE, bundle:DIR or bpf:FILE[,FILE...])`},
		{Baseline, "filter.bpf", "no kind (want builtin:NAME"},
		{Baseline, "-", "no kind"},
		{Baseline, "container:abcd", `unknown kind "container"`},
	} {
		_, err := tc.syntax.Parse(tc.text)
		var se *Error
		switch {
		case err == nil:
			t.Errorf("%s: no error", tc.text)
		case !errors.As(err, &se) || se.Source != tc.text:
			t.Errorf("%s: %v does not name the source", tc.text, err)
		case !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n"):
			t.Errorf("%s: %q, want one line containing %q", tc.text, err, tc.want)
		case !strings.HasPrefix(err.Error(), `source "`+tc.text+`": `):
			t.Errorf("%s: %q does not start with the source", tc.text, err)
		}
	}
}

func TestDetect(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"ociVersion":"1.0.2"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]Kind{
		dir:                                 Bundle,
		filepath.Join(dir, "config.json"):   Profile,
		"x/profile.JSON":                    Profile,
		"x/spo.yaml":                        Profile,
		"x/spo.YML":                         Profile,
		"x/filter.bpf":                      BPF,
		"-":                                 BPF,
		t.TempDir():                         BPF, // a directory without config.json
		filepath.Join(specTestdata, "none"): BPF,
	} {
		if got := Detect(path); got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
}

// allowAll and denyAll are one-instruction filters.
var (
	allowAll = []bpf.Instruction{{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActAllow)}}
	denyAll  = []bpf.Instruction{{Op: bpf.Ret(bpf.RetK), K: uint32(bytecode.ActErrno | 1)}}
)

func writeFilter(t *testing.T, dir, name string, prog []bpf.Instruction) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, bpf.Encode(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// bpf: is a stack, oldest first; relative paths are read from Dir.
func TestResolveFilters(t *testing.T) {
	dir := t.TempDir()
	writeFilter(t, dir, "allow.bpf", allowAll)
	deny := writeFilter(t, dir, "deny.bpf", denyAll)
	r := &Resolver{Dir: dir}
	got, err := r.ResolveText(Baseline, "bpf:allow.bpf,"+deny)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Stack) != 2 || got.Stack[0].Len() != 1 || got.Description != "bpf:allow.bpf,"+deny || got.Profile != nil {
		t.Fatalf("%+v", got)
	}
	if a := got.Stack.Run(&bytecode.Data{}); a != bytecode.ActErrno|1 {
		t.Errorf("the stack runs %v, want the newer filter's ERRNO(1)", a)
	}
	// Without Dir, the same relative path is read from the working
	// directory, where it is not.
	if _, err := (&Resolver{}).ResolveText(Baseline, "bpf:allow.bpf"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("relative path without Dir: %v", err)
	}
}

// A file that is not a filter is refused naming the file, and the source
// when the source is not the bare path itself.
func TestResolveFilterErrors(t *testing.T) {
	dir := t.TempDir()
	odd := filepath.Join(dir, "odd.bpf")
	if err := os.WriteFile(odd, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Resolver{Stdin: NewStdin(bytes.NewReader(nil))}
	_, err := r.ResolveText(CommandLine, odd)
	if err == nil || !strings.HasPrefix(err.Error(), odd+": ") {
		t.Errorf("bare path: %v", err)
	}
	_, err = r.ResolveText(CommandLine, "bpf:"+odd)
	if err == nil || !strings.HasPrefix(err.Error(), `source "bpf:`+odd+`": `+odd+": ") {
		t.Errorf("bpf: %v", err)
	}
}

// Every file a source names goes through inputfile: devices, FIFOs,
// directories and sparse giants are refused at once, naming the file; where
// "-" is accepted, the refusal of a non-regular file points to it.
func TestResolveRefusesHostileFiles(t *testing.T) {
	for _, c := range inputfiletest.Cases(t) {
		for _, kind := range []string{"bpf:", "profile:", ""} {
			if c.Name == "directory" && kind != "bpf:" {
				continue // a bundle directory
			}
			inputfiletest.CheckRefused(t, c, func(path string) error {
				_, err := (&Resolver{}).ResolveText(CommandLine, kind+path)
				return err
			})
			inputfiletest.CheckRefused(t, c, func(path string) error {
				_, err := (&Resolver{Stdin: NewStdin(bytes.NewReader(nil))}).ResolveText(CommandLine, kind+path)
				if errors.Is(err, inputfile.ErrNotRegular) && !strings.HasSuffix(err.Error(), "(or - for standard input)") {
					t.Errorf("%s%s: %v does not point to -", kind, path, err)
				}
				return err
			})
		}
	}
}

// "-" reads standard input once for all the sources of a resolver and its
// copies, and is refused where there is none.
func TestResolveStandardInput(t *testing.T) {
	stdin := NewStdin(bytes.NewReader(bpf.Encode(denyAll)))
	r := &Resolver{Stdin: stdin}
	got, err := r.ResolveText(CommandLine, "-")
	if err != nil || len(got.Stack) != 1 || got.Stack.Run(&bytecode.Data{}) != bytecode.ActErrno|1 {
		t.Fatalf("-: %+v %v", got, err)
	}
	other := *r
	other.Capabilities = []string{}
	if _, err := other.ResolveText(CommandLine, "bpf:-"); err == nil || !strings.Contains(err.Error(), "give - once") {
		t.Errorf("second -: %v", err)
	}
	if _, err := (&Resolver{}).ResolveText(CommandLine, "-"); err == nil || !strings.Contains(err.Error(), "standard input (-) is not read here") {
		t.Errorf("- without Stdin: %v", err)
	}
	long := make([]bpf.Instruction, bpf.MaxInstructions+1)
	for i := range long {
		long[i] = allowAll[0]
	}
	r = &Resolver{Stdin: NewStdin(bytes.NewReader(bpf.Encode(long)))}
	if _, err := r.ResolveText(CommandLine, "-"); !errors.Is(err, inputfile.ErrTooLarge) || !strings.Contains(err.Error(), inputfile.StdinName) {
		t.Errorf("- of %d instructions: %v", len(long), err)
	}
}

// pid:N is the filter stack of the process's main thread.
func TestResolveProcess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("reading another process's filters needs root")
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	s, err := CommandLine.Parse("pid:" + strconv.Itoa(cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&Resolver{}).Resolve(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Stack) != 0 || got.Description != s.Text || got.Profile != nil {
		t.Errorf("sleep without seccomp: %d filters, %q", len(got.Stack), got.Description)
	}
}

// An intended profile keeps what the caller needs of it: the bundle's
// annotations and bounding set; a bundle: must be a bundle.
func TestResolveIntendedProfiles(t *testing.T) {
	_, err := (&Resolver{}).ResolveText(CommandLine, "bundle:"+filepath.Join(specTestdata, "oci.json"))
	if err == nil || !strings.Contains(err.Error(), "is a oci-seccomp profile, not an OCI bundle config") {
		t.Errorf("bundle: of a bare profile: %v", err)
	}
	_, err = (&Resolver{}).ResolveText(CommandLine, filepath.Join(specTestdata, "malformed.json"))
	if err == nil || !strings.Contains(err.Error(), "malformed.json:5:3") || !strings.Contains(err.Error(), "invalid JSON") {
		t.Errorf("malformed profile: %v", err)
	}
	_, err = (&Resolver{}).ResolveText(CommandLine, "profile:"+filepath.Join(specTestdata, "unknown.json"))
	if err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("profile: of an unknown format: %v", err)
	}
	_, err = (&Resolver{Runtime: "youki"}).ResolveText(CommandLine, "builtin:docker-default")
	if err == nil || !strings.Contains(err.Error(), `unknown runtime "youki"`) {
		t.Errorf("unknown runtime: %v", err)
	}
	if !spec.CompileSupported {
		_, err := (&Resolver{}).ResolveText(CommandLine, "builtin:docker-default")
		if err == nil || !strings.Contains(err.Error(), "libseccomp") {
			t.Errorf("builtin without libseccomp: %v", err)
		}
	}
}

// Files names what Resolve reads, from Dir.
func TestFiles(t *testing.T) {
	dir, err := filepath.Abs(specTestdata)
	if err != nil {
		t.Fatal(err)
	}
	r := &Resolver{Dir: dir}
	for text, want := range map[string][]string{
		"bpf:a.bpf,/abs/b.bpf,-": {filepath.Join(dir, "a.bpf"), "/abs/b.bpf"},
		"profile:oci.json":       {filepath.Join(dir, "oci.json")},
		"profile:bundle":         {filepath.Join(dir, "bundle", "config.json")},
		"bundle:bundle":          {filepath.Join(dir, "bundle", "config.json")},
		"builtin:docker-default": nil,
		"pid:1":                  nil,
	} {
		s, err := CommandLine.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Files(s); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", text, got, want)
		}
	}
}
