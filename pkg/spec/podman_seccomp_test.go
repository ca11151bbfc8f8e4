//go:build linux && cgo && seccomp

package spec

import (
	"reflect"
	"testing"

	ccseccomp "github.com/containers/common/pkg/seccomp"
)

// containers/common's own resolver exists only with its `seccomp` build
// tag; where it is built, the translation through moby's resolver must
// give the same profile:
//
//	go test -tags 'libseccomp seccomp' -run PodmanResolver ./pkg/spec
func TestPodmanResolverAgrees(t *testing.T) {
	for _, caps := range [][]string{PodmanDefaultCapabilities(), {}, append(PodmanDefaultCapabilities(), "CAP_SYS_ADMIN", "CAP_BPF")} {
		want, err := ccseccomp.GetDefaultProfile(specWithCaps(caps))
		if err != nil {
			t.Fatal(err)
		}
		got, err := resolvePodman(ccseccomp.DefaultProfile(), caps)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("caps %v: translated profile differs from containers/common's:\n got %+v\nwant %+v", caps, got, want)
		}
	}
	body := string(mustRead(t, "testdata/podman.json"))
	want, err := ccseccomp.LoadProfile(body, specWithCaps(PodmanDefaultCapabilities()))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load("testdata/podman.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Seccomp, want) {
		t.Errorf("testdata/podman.json:\n got %+v\nwant %+v", p.Seccomp, want)
	}
}
