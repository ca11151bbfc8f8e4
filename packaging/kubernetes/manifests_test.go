// Package kubernetes holds the Kubernetes manifests of seccomp-attest. This
// test, the package's only Go file, decodes every manifest strictly with
// the k8s.io/api types (no cluster runs here) and checks that the parts
// name each other consistently. No program imports it: k8s.io/api stays
// out of the shipped binaries.
package kubernetes

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"sigs.k8s.io/yaml"
)

// decoded are the manifests by kind.
type decoded struct {
	daemonSet *appsv1.DaemonSet
	namespace *corev1.Namespace
	configMap *corev1.ConfigMap
	runtime   *nodev1.RuntimeClass
	policy    *admissionv1.ValidatingAdmissionPolicy
	binding   *admissionv1.ValidatingAdmissionPolicyBinding
	documents int
}

// decodeAll reads every YAML document of the directory strictly: an
// unknown or duplicated field, a wrong type or an unknown kind fails.
func decodeAll(t *testing.T) *decoded {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	d := &decoded{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			where := fmt.Sprintf("%s document %d", f, i+1)
			var meta struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			kinds := map[string]any{
				"apps/v1 DaemonSet":           &d.daemonSet,
				"v1 Namespace":                &d.namespace,
				"v1 ConfigMap":                &d.configMap,
				"node.k8s.io/v1 RuntimeClass": &d.runtime,
				"admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy":        &d.policy,
				"admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding": &d.binding,
			}
			into, ok := kinds[meta.APIVersion+" "+meta.Kind]
			if !ok {
				t.Fatalf("%s: unexpected %s %s", where, meta.APIVersion, meta.Kind)
			}
			if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			d.documents++
		}
	}
	return d
}

func stripComments(doc string) string {
	var b bytes.Buffer
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func TestManifestsDecodeStrictly(t *testing.T) {
	d := decodeAll(t)
	if d.daemonSet == nil || d.namespace == nil || d.configMap == nil || d.runtime == nil || d.policy == nil || d.binding == nil {
		t.Fatalf("a manifest is missing: %+v", d)
	}
	if d.documents != 6 {
		t.Errorf("%d documents, want 6", d.documents)
	}
}

// A field the API does not have is an error, not ignored: the decoding
// above would catch a typo in a manifest.
func TestStrictDecodingRefusesUnknownFields(t *testing.T) {
	doc := "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: x}\nhandler: x\nhandlr: y\n"
	if err := yaml.UnmarshalStrict([]byte(doc), &nodev1.RuntimeClass{}); err == nil {
		t.Fatal("an unknown field passed")
	}
}

func TestManifestsAgree(t *testing.T) {
	d := decodeAll(t)
	ns := d.namespace.Name
	for what, got := range map[string]string{"DaemonSet": d.daemonSet.Namespace, "ConfigMap": d.configMap.Namespace} {
		if got != ns {
			t.Errorf("%s in namespace %q, want %q", what, got, ns)
		}
	}
	if d.namespace.Labels["pod-security.kubernetes.io/enforce"] != "privileged" {
		t.Error("the namespace does not allow the privileged pod security level the daemon needs")
	}
	// The runtime class names the handler packaging/containerd registers.
	if d.runtime.Handler != "seccomp-attest" || !fileContains(t, "../containerd/register.sh", "name=seccomp-attest\n") {
		t.Errorf("RuntimeClass handler %q is not register.sh's default", d.runtime.Handler)
	}
	// The NRI drop-in requires the plugin by the name it registers with,
	// and tolerates the annotation the DaemonSet's pods carry and the
	// admission policy guards.
	const annotation = "tolerate-missing-plugins.seccomp-attest.dev"
	if !fileContains(t, "containerd-nri.toml", "required_plugins = ['seccomp-attest']") ||
		!fileContains(t, "../../pkg/nriplugin/plugin.go", `const Name = "seccomp-attest"`) {
		t.Error("containerd-nri.toml does not require the plugin's name")
	}
	if !fileContains(t, "containerd-nri.toml", "tolerate_missing_plugins_annotation = '"+annotation+"'") ||
		d.daemonSet.Spec.Template.Annotations[annotation] != "true" ||
		!strings.Contains(d.policy.Spec.Validations[0].Expression, "startsWith('"+annotation+"')") {
		t.Error("the toleration annotation differs between containerd-nri.toml, the DaemonSet and the admission policy")
	}
	if d.binding.Spec.PolicyName != d.policy.Name || !slices.Contains(d.binding.Spec.ValidationActions, admissionv1.Deny) {
		t.Error("the admission policy is not bound to deny")
	}

	spec := d.daemonSet.Spec.Template.Spec
	if !spec.HostPID {
		t.Error("the daemon attaches to host pids: hostPID is needed")
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	hostPathOf := func(c corev1.Container, mountPath string) string {
		for _, m := range c.VolumeMounts {
			if m.MountPath == mountPath {
				if v, ok := volumes[m.Name]; ok && v.HostPath != nil {
					return v.HostPath.Path
				}
			}
		}
		return ""
	}
	containers := map[string]corev1.Container{}
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		containers[c.Name] = c
		for _, m := range c.VolumeMounts {
			if _, ok := volumes[m.Name]; !ok {
				t.Errorf("container %s mounts volume %s, which is not declared", c.Name, m.Name)
			}
		}
		sc := c.SecurityContext
		if sc == nil || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") ||
			sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("container %s does not drop every capability and keep its root read-only", c.Name)
		}
	}
	daemon, plugin := containers["daemon"], containers["nri-plugin"]
	// The daemon reads filters with ptrace: the capabilities it needs and
	// no seccomp of its own (the kernel refuses a caller under seccomp).
	if sc := daemon.SecurityContext; sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeUnconfined ||
		!slices.Equal(sc.Capabilities.Add, []corev1.Capability{"SYS_PTRACE", "SYS_ADMIN", "KILL", "DAC_READ_SEARCH"}) {
		t.Errorf("daemon security context %+v", sc)
	}
	if len(plugin.SecurityContext.Capabilities.Add) != 0 {
		t.Errorf("the NRI plugin needs no capability, has %v", plugin.SecurityContext.Capabilities.Add)
	}
	// The hook the plugin adds is the one the install container puts on
	// the host; the plugin's socket is the host's NRI socket directory;
	// the hook's default daemon socket is where the daemon listens.
	args := strings.Join(plugin.Command, " ")
	if hostPathOf(plugin, "/opt/seccomp-attest/bin") != "/opt/seccomp-attest/bin" ||
		hostPathOf(containers["install"], "/host/bin") != "/opt/seccomp-attest/bin" ||
		!strings.Contains(args, "--hook=/opt/seccomp-attest/bin/seccomp-attest-hook") {
		t.Errorf("the plugin's hook is not the installed one: %s", args)
	}
	if hostPathOf(plugin, "/var/run/nri") != "/var/run/nri" || !strings.Contains(args, "--nri-socket=/var/run/nri/nri.sock") ||
		!fileContains(t, "containerd-nri.toml", "socket_path = '/var/run/nri/nri.sock'") {
		t.Errorf("the plugin's NRI socket is not containerd's: %s", args)
	}
	if hostPathOf(daemon, "/run/seccomp-attest") != "/run/seccomp-attest" ||
		!slices.Contains(daemon.Command, "/run/seccomp-attest/hook.sock") {
		t.Errorf("the daemon does not listen where the hook looks: %v", daemon.Command)
	}
	// The configuration's paths are the host paths the daemon mounts.
	cfg := d.configMap.Data["config.yaml"]
	for _, p := range []struct{ key, mount string }{
		{"key: /etc/seccomp-attest/keys/signing.key", "/etc/seccomp-attest"},
		{"store: /var/lib/seccomp-attest", "/var/lib/seccomp-attest"},
		{"log: /var/log/seccomp-attest/seccomp-attest.log", "/var/log/seccomp-attest"},
	} {
		if !strings.Contains(cfg, p.key) || hostPathOf(daemon, p.mount) != p.mount {
			t.Errorf("config %q: the daemon does not mount host %s there", p.key, p.mount)
		}
	}
}

func fileContains(t *testing.T, path, s string) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(data, []byte(s))
}
