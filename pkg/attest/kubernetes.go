package attest

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Kubernetes names the workload of a container that a CRI runtime created
// for kubelet, so that an auditor can map an attestation to a pod. It is
// what the runtime wrote into the container's OCI annotations
// (containerd's io.kubernetes.cri.*), covered by the config.json subject
// digest: as trustworthy as whoever may create containers on the host
// (anyone who runs runc or podman directly can write these annotations).
type Kubernetes struct {
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	PodUID    string `json:"podUID,omitempty"`
	// Container is the container's name in the pod; empty for the pod's
	// sandbox.
	Container string `json:"container,omitempty"`
	Image     string `json:"image,omitempty"`
	// Sandbox marks the pod's sandbox (pause) container.
	Sandbox bool `json:"sandbox,omitempty"`
}

// The annotations containerd's CRI plugin writes into every container's
// config.json (containerd 1.x and 2.x).
const (
	annoContainerType = "io.kubernetes.cri.container-type"
	annoNamespace     = "io.kubernetes.cri.sandbox-namespace"
	annoPod           = "io.kubernetes.cri.sandbox-name"
	annoPodUID        = "io.kubernetes.cri.sandbox-uid"
	annoContainer     = "io.kubernetes.cri.container-name"
	annoImage         = "io.kubernetes.cri.image-name"
)

// maxKubernetesField bounds each field, in characters as the schema
// counts: Kubernetes names are at most 253, image references a few hundred.
const maxKubernetesField = 1024

// KubernetesFromAnnotations reads the workload from a container's OCI
// annotations; nil when they name no pod. A value that is too long, not
// UTF-8 or holds control characters is left out (it could not come from
// kubelet, and would reach terminals and reports).
func KubernetesFromAnnotations(a map[string]string) *Kubernetes {
	take := func(key string) string {
		v := a[key]
		if kubernetesFieldProblem(v) != "" {
			return ""
		}
		return v
	}
	k := &Kubernetes{
		Namespace: take(annoNamespace), Pod: take(annoPod), PodUID: take(annoPodUID),
		Container: take(annoContainer), Image: take(annoImage),
		Sandbox: a[annoContainerType] == "sandbox",
	}
	if k.Namespace == "" && k.Pod == "" && k.PodUID == "" {
		return nil
	}
	return k
}

// String is "namespace/pod/container" (the sandbox: "namespace/pod/(sandbox)").
func (k *Kubernetes) String() string {
	if k == nil {
		return ""
	}
	c := k.Container
	if k.Sandbox {
		c = "(sandbox)"
	}
	return k.Namespace + "/" + k.Pod + "/" + c
}

// problems lists the fields that KubernetesFromAnnotations would not
// have written: a signed predicate that has them was not made by it.
func (k *Kubernetes) problems() []string {
	var probs []string
	for name, v := range map[string]string{"namespace": k.Namespace, "pod": k.Pod, "podUID": k.PodUID, "container": k.Container, "image": k.Image} {
		if p := kubernetesFieldProblem(v); p != "" {
			probs = append(probs, fmt.Sprintf("container.kubernetes.%s %s", name, p))
		}
	}
	return probs
}

func kubernetesFieldProblem(v string) string {
	switch {
	case !utf8.ValidString(v):
		return "is not UTF-8"
	case utf8.RuneCountInString(v) > maxKubernetesField:
		return fmt.Sprintf("is %d characters, more than %d", utf8.RuneCountInString(v), maxKubernetesField)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return fmt.Sprintf("holds the control character %U", r)
		}
	}
	return ""
}
