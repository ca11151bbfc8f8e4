package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// bundleConfig is the part of an OCI config.json that decides the filter.
// The hooks decode one per container start, so the rest of specs.Spec
// (mounts, resources, hooks...) is skipped rather than decoded.
type bundleConfig struct {
	OCIVersion  *string           `json:"ociVersion"`
	Root        json.RawMessage   `json:"root"`
	Annotations map[string]string `json:"annotations"`
	Process     *struct {
		Capabilities *specs.LinuxCapabilities `json:"capabilities"`
	} `json:"process"`
	Linux *struct {
		Seccomp *specs.LinuxSeccomp `json:"seccomp"`
	} `json:"linux"`
}

// parseConfig reads an OCI runtime config.json. Engines write the resolved
// profile there (Docker and podman resolve capabilities before they write
// the bundle), so linux.seccomp is taken as is.
func parseConfig(data []byte, name string) (*Profile, error) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("%s: not an OCI runtime config (not a JSON object)", name)
	}
	var cfg bundleConfig
	// Not strict: config.json carries fields of newer spec versions and
	// runtime extensions that do not concern seccomp.
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, jsonError(name, data, err)
	}
	if cfg.OCIVersion == nil && cfg.Root == nil && cfg.Process == nil && cfg.Linux == nil {
		return nil, fmt.Errorf("%s: not an OCI runtime config (no ociVersion, process, linux or root key)", name)
	}
	p := &Profile{Source: name, Format: FormatBundle, Annotations: cfg.Annotations}
	if cfg.Process != nil && cfg.Process.Capabilities != nil {
		p.Capabilities = cfg.Process.Capabilities.Bounding
	}
	if cfg.Linux != nil && cfg.Linux.Seccomp != nil {
		p.Seccomp = cfg.Linux.Seccomp
	} else {
		p.Notes = append(p.Notes, "the config has no linux.seccomp: runtimes load no filter from it")
	}
	if b64, ok := cfg.Annotations[AnnotationBPFData]; ok {
		f, err := decodeBPFAnnotation(b64)
		if err != nil {
			return nil, fmt.Errorf("%s: annotation %s: %w", name, AnnotationBPFData, err)
		}
		p.RawFilter = f
		p.Notes = append(p.Notes, fmt.Sprintf("annotation %s holds a raw filter (%d instructions, sha256 %x): "+
			"crun loads it instead of linux.seccomp, runc ignores it; under crun the profile in the config is not what runs",
			AnnotationBPFData, f.Len(), sha256.Sum256(f.Bytes())))
	}
	return p, nil
}

// decodeBPFAnnotation decodes the annotation as crun does: base64 of
// struct sock_filter bytes. crun passes the bytes to the kernel unchecked,
// so a filter the kernel would refuse is an error here too.
func decodeBPFAnnotation(b64 string) (*bytecode.Filter, error) {
	b64 = strings.TrimSpace(b64)
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		// Tolerate missing padding, which base64 tools differ on.
		raw2, err2 := base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "="))
		if err2 != nil {
			return nil, fmt.Errorf("not base64: %v", err)
		}
		raw = raw2
	}
	f, err := bytecode.ParseFilter(raw)
	if err != nil {
		return nil, err
	}
	return f, nil
}
