package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
)

// Open loads a policy named the way the CLI, the hook and the wrapper name
// one: "" or "builtin:default" for the embedded default, "preset:NAME" for
// a shipped preset, else a file. It also returns the lowercase hex SHA-256
// of the bytes the policy was parsed from, the digest attestations record:
// an auditor checks it with sha256sum on the same file.
func Open(src string) (*Policy, string, error) {
	name, isPreset := strings.CutPrefix(src, "preset:")
	switch {
	case src == "" || src == "builtin:default":
		name, isPreset = "default", true
	case !isPreset && strings.HasPrefix(src, "builtin:"):
		return nil, "", fmt.Errorf("policy %q: the only builtin policy is builtin:default (presets: preset:%s)", src, strings.Join(PresetNames(), ", preset:"))
	}
	if isPreset {
		if !slices.Contains(PresetNames(), name) {
			return nil, "", fmt.Errorf("unknown policy preset %q (want one of %s)", name, strings.Join(PresetNames(), ", "))
		}
		path := "presets/" + name + ".yaml"
		if name == "default" {
			path = "default.yaml"
		}
		data, err := embedded.ReadFile(path)
		if err != nil {
			return nil, "", fmt.Errorf("policy preset %s: %w", name, err)
		}
		p, err := Parse(data, "preset:"+name, "")
		return p, digest(data), err
	}
	data, err := inputfile.Read(src, inputfile.Policy)
	if err != nil {
		return nil, "", fmt.Errorf("policy: %w", err)
	}
	p, err := Parse(data, src, filepath.Dir(src))
	return p, digest(data), err
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
