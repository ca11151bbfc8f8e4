package attest

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/attest/schema"
)

// The annotations containerd 2.4.2's CRI plugin wrote into a container's
// config.json here (crictl runp/create of pod p1 in namespace sa-test).
var containerdAnnotations = map[string]string{
	"io.kubernetes.cri.container-name":        "c1",
	"io.kubernetes.cri.container-type":        "container",
	"io.kubernetes.cri.image-name":            "localhost/seccomp-attest/busybox:latest",
	"io.kubernetes.cri.sandbox-id":            "70b6e3079cd9b0fafb4d937c1f946fb172b2ab657f56ad71764695d514fc96bb",
	"io.kubernetes.cri.sandbox-name":          "p1",
	"io.kubernetes.cri.sandbox-namespace":     "sa-test",
	"io.kubernetes.cri.sandbox-uid":           "178c580c-c5a0-44a5-9dc5-8e9337d650d1",
	"io.kubernetes.cri.sandbox-log-directory": "/var/log/pods/x",
}

func TestKubernetesFromContainerdAnnotations(t *testing.T) {
	k := KubernetesFromAnnotations(containerdAnnotations)
	want := Kubernetes{Namespace: "sa-test", Pod: "p1", PodUID: "178c580c-c5a0-44a5-9dc5-8e9337d650d1",
		Container: "c1", Image: "localhost/seccomp-attest/busybox:latest"}
	if k == nil || *k != want {
		t.Fatalf("got %+v, want %+v", k, want)
	}
	if s := k.String(); s != "sa-test/p1/c1" {
		t.Errorf("String() = %q", s)
	}
	sandbox := map[string]string{"io.kubernetes.cri.container-type": "sandbox",
		"io.kubernetes.cri.sandbox-name": "p1", "io.kubernetes.cri.sandbox-namespace": "sa-test"}
	if k := KubernetesFromAnnotations(sandbox); k == nil || !k.Sandbox || k.String() != "sa-test/p1/(sandbox)" {
		t.Errorf("sandbox: %+v", k)
	}
	for _, a := range []map[string]string{nil, {"run.oci.seccomp_bpf_data": "AAAA"}, {"io.kubernetes.cri.container-name": "c"}} {
		if k := KubernetesFromAnnotations(a); k != nil {
			t.Errorf("%v: %+v, want none (no pod named)", a, k)
		}
	}
}

// hostileValues could not come from kubelet: each is left out of the
// predicate, and a signed predicate that holds one fails both the Go
// checks and the published schema.
var hostileValues = map[string]string{
	"terminal escape": "p1\x1b[2J",
	"newline":         "p1\nOK   forged line",
	"C1 control":      "p1\u009b",
	"too long":        strings.Repeat("a", maxKubernetesField+1),
	"not UTF-8":       "p1\xff",
}

func TestKubernetesHostileValuesLeftOut(t *testing.T) {
	for name, v := range hostileValues {
		a := map[string]string{"io.kubernetes.cri.sandbox-namespace": "sa-test", "io.kubernetes.cri.sandbox-name": v}
		k := KubernetesFromAnnotations(a)
		if k == nil || k.Pod != "" || k.Namespace != "sa-test" {
			t.Errorf("%s: got %+v, want the pod left out", name, k)
		}
	}
	long := strings.Repeat("é", maxKubernetesField) // 1024 characters, 2048 bytes: the schema counts characters
	if k := KubernetesFromAnnotations(map[string]string{"io.kubernetes.cri.sandbox-name": long}); k == nil || k.Pod != long {
		t.Errorf("a name of %d characters was left out", maxKubernetesField)
	}
}

// The Go checks and the JSON schema agree on every value.
func TestKubernetesValidateAgreesWithSchema(t *testing.T) {
	s, _, _ := testKey(t, KeyECDSAP256)
	base := testRequest(s, t.TempDir(), nil, "c").Predicate
	fp, err := Fingerprint(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	base.Host.KeyFingerprint = fp
	base.Time, base.Chain = "2025-01-02T03:04:05Z", Chain{Sequence: 1}
	cases := map[string]string{"ordinary": "p1", "long but allowed": strings.Repeat("é", maxKubernetesField)}
	for name, v := range hostileValues {
		if name != "not UTF-8" { // JSON cannot carry it: encoding/json writes U+FFFD
			cases[name] = v
		}
	}
	for name, v := range cases {
		p := base
		p.Container.Kubernetes = &Kubernetes{Namespace: "sa-test", Pod: v}
		raw, err := json.Marshal(&p)
		if err != nil {
			t.Fatal(err)
		}
		goOK := len(p.Validate()) == 0
		schemaErr := schema.Validate(raw)
		if goOK != (schemaErr == nil) {
			t.Errorf("%s: Validate says %v (%q), the schema %v", name, goOK, p.Validate(), schemaErr)
		}
		if want := kubernetesFieldProblem(v) == ""; goOK != want {
			t.Errorf("%s: valid %v, want %v", name, goOK, want)
		}
	}
}

// A CRI container's attestation carries its pod, verifies, and keeps the
// predicate type; one made before the field existed still verifies.
func TestKubernetesAttestedAndBackwardCompatible(t *testing.T) {
	s, v, _ := testKey(t, KeyECDSAP256)
	req := testRequest(s, t.TempDir(), nil, "cri")
	req.Predicate.Container.Kubernetes = KubernetesFromAnnotations(containerdAnnotations)
	res := attestOne(t, req)
	r := Verify(context.Background(), "cri", res.Envelope, v, VerifyOptions{Schema: schema.Validate})
	if !r.Valid() {
		t.Fatalf("problems %q", r.Problems)
	}
	st, err := DecodeUnverified(res.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Predicate.Container.Kubernetes.String(); got != "sa-test/p1/c1" {
		t.Errorf("decoded workload %q", got)
	}
	if st.PredicateType != PredicateType {
		t.Errorf("predicate type %q", st.PredicateType)
	}

	old, err := os.ReadFile("testdata/pre-kubernetes.intoto.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	oldKey, err := LoadVerifier("testdata/pre-kubernetes.pub")
	if err != nil {
		t.Fatal(err)
	}
	r = Verify(context.Background(), "pre-kubernetes", old, oldKey, VerifyOptions{Schema: schema.Validate})
	if !r.Valid() {
		t.Fatalf("an attestation made before container.kubernetes existed: problems %q", r.Problems)
	}
}
