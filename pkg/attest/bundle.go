package attest

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
)

// BundleAnnotation tells how an OCI annotation is recorded.
type annotationRule struct {
	key    string
	prefix bool // key is a prefix (Kubernetes per-container keys)
	digest bool // record sha256:<hex> of the value instead of the value
}

// relevantAnnotations are the annotations that change which filter a
// runtime installs. run.oci.seccomp_bpf_data makes crun load raw BPF
// instead of compiling linux.seccomp, so its presence is what matters;
// its value can be large and is recorded as a digest.
var relevantAnnotations = []annotationRule{
	{key: "run.oci.seccomp_bpf_data", digest: true},
	{key: "run.oci.seccomp.receiver"},
	{key: "run.oci.seccomp_fail_unknown_syscall"},
	{key: "io.podman.annotations.seccomp"},
	{key: "seccomp.security.alpha.kubernetes.io/pod"},
	{key: "container.seccomp.security.alpha.kubernetes.io/", prefix: true},
}

// RelevantAnnotations picks from all the annotations those that affect
// seccomp (see relevantAnnotations); nil if there are none.
func RelevantAnnotations(all map[string]string) map[string]string {
	var out map[string]string
	for k, v := range all {
		for _, r := range relevantAnnotations {
			if k != r.key && !(r.prefix && strings.HasPrefix(k, r.key)) {
				continue
			}
			if out == nil {
				out = map[string]string{}
			}
			if r.digest {
				v = "sha256:" + sha256Hex([]byte(v))
			}
			out[k] = v
		}
	}
	return out
}

// Bundle is what an attestation takes from an OCI bundle.
type Bundle struct {
	Dir         string
	Config      []byte // config.json as it is on disk, the subject
	Annotations map[string]string
}

// ReadBundle reads dir/config.json.
func ReadBundle(dir string) (*Bundle, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", dir, err)
	}
	path := filepath.Join(abs, "config.json")
	data, err := inputfile.Read(path, inputfile.Profile)
	if err != nil {
		return nil, fmt.Errorf("read bundle config: %w", err)
	}
	var cfg struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("bundle config %s: %w", path, err)
	}
	return &Bundle{Dir: abs, Config: data, Annotations: RelevantAnnotations(cfg.Annotations)}, nil
}
