//go:build cgo && libseccomp

package source

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
	"github.com/seccomp-attest/seccomp-attest/pkg/spec"
)

// A builtin is compiled as Runtime would and resolved for Capabilities.
func TestResolveBuiltin(t *testing.T) {
	resolve := func(r *Resolver) *Resolved {
		t.Helper()
		got, err := r.ResolveText(Baseline, "builtin:docker-20.10")
		if err != nil {
			t.Fatal(err)
		}
		if got.Profile == nil || got.Profile.Format != spec.FormatBuiltin || len(got.Stack) != 1 {
			t.Fatalf("%+v", got)
		}
		return got
	}
	runc, crun := resolve(&Resolver{}), resolve(&Resolver{Runtime: spec.RuntimeCrun})
	if !strings.HasSuffix(runc.Description, ", as compiled by runc)") || !strings.HasSuffix(crun.Description, ", as compiled by crun)") {
		t.Errorf("descriptions: %q, %q", runc.Description, crun.Description)
	}
	// runc's ENOSYS stub is the only difference.
	res, err := compare.Stacks(runc.Stack, crun.Stack)
	if err != nil {
		t.Fatal(err)
	}
	if res.Equivalent() || res.Count(compare.Weaker) != 0 || res.Count(compare.Stricter) != 0 {
		t.Errorf("runc vs crun: %d weaker, %d stricter, %d changed", res.Count(compare.Weaker), res.Count(compare.Stricter), res.Count(compare.Changed))
	}
	admin := resolve(&Resolver{Capabilities: append(spec.DockerDefaultCapabilities(), "CAP_SYS_ADMIN")})
	if !slices.Contains(admin.Profile.Capabilities, "CAP_SYS_ADMIN") || slices.Contains(runc.Profile.Capabilities, "CAP_SYS_ADMIN") {
		t.Errorf("capabilities: %v / %v", admin.Profile.Capabilities, runc.Profile.Capabilities)
	}
	if res, err := compare.Stacks(runc.Stack, admin.Stack); err != nil || res.Count(compare.Weaker) == 0 {
		t.Errorf("CAP_SYS_ADMIN allows nothing more: %v", err)
	}
}

// A bundle keeps its own bounding set and annotations, whatever the
// resolver's capabilities; relative paths are read from Dir; under crun the
// annotation's raw filter is the stack and the description says so.
func TestResolveBundle(t *testing.T) {
	dir, err := filepath.Abs(specTestdata)
	if err != nil {
		t.Fatal(err)
	}
	r := &Resolver{Dir: dir, Capabilities: []string{"CAP_SYS_ADMIN"}}
	got, err := r.ResolveText(Baseline, "bundle:bundle")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Profile.Capabilities, []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}) || len(got.Stack) != 1 {
		t.Errorf("bundle: %v, %d filters", got.Profile.Capabilities, len(got.Stack))
	}
	// profile: of a bundle directory reads the bundle too.
	if p, err := r.ResolveText(Baseline, "profile:bundle"); err != nil || p.Profile.Format != spec.FormatBundle {
		t.Errorf("profile:DIR: %v", err)
	}
	crun := &Resolver{Dir: dir, Runtime: spec.RuntimeCrun}
	got, err = crun.ResolveText(Baseline, "bundle:bundle-crun-bpf")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Stack) != 1 || got.Stack[0] != got.Profile.RawFilter || got.Profile.Annotations[spec.AnnotationBPFData] == "" ||
		!strings.Contains(got.Description, "the raw filter of annotation "+spec.AnnotationBPFData) || len(got.Notes()) == 0 {
		t.Errorf("crun: %q, notes %v", got.Description, got.Notes())
	}
	if got.Stack.Run(&bytecode.Data{}) != bytecode.ActAllow {
		t.Errorf("the annotation's filter is RET ALLOW")
	}
}
