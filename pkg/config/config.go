// Package config is the configuration the OCI hook and the runtime wrapper
// share: which policy, which signing key, where attestations go, and how
// long each stage may take. One YAML file (default DefaultPath) with
// embedded defaults for everything, so both work with no file at all.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
)

// DefaultPath is where the hook and the wrapper look for their
// configuration when no path is given.
const DefaultPath = "/etc/seccomp-attest/config.yaml"

// Defaults of the fields a file leaves out.
const (
	DefaultKey   = "/etc/seccomp-attest/keys/signing.key"
	DefaultStore = "/var/lib/seccomp-attest"
	DefaultLog   = "/var/log/seccomp-attest.log"
	// DefaultDeadline stays below the timeout of the shipped hooks.d files
	// (10 s), so the hook always answers before the runtime kills it.
	DefaultDeadline = 8 * time.Second
	// DefaultFilterWait bounds the wait for a filter that the runtime
	// loads after the hook started (crun loads it just before exec).
	DefaultFilterWait = 2 * time.Second
)

// Config is the parsed configuration. Paths are absolute after Load.
type Config struct {
	// Policy is a policy file, or "builtin:default" / "preset:NAME" for a
	// shipped one. Empty means the embedded default policy.
	Policy string `json:"policy,omitempty"`
	// Mode overrides the policy's mode: "enforce" or "audit". Empty keeps
	// the policy's own.
	Mode string `json:"mode,omitempty"`
	// Key is the private signing key (PKCS#8 PEM, mode 0600).
	Key string `json:"key,omitempty"`
	// GenerateKey creates Key (ECDSA P-256) on first use when it does not
	// exist, as sshd does with host keys. An existing key is never
	// replaced.
	GenerateKey *bool `json:"generateKey,omitempty"`
	// Store is the host attestation store.
	Store string `json:"store,omitempty"`
	// Log is the logrus JSON log file operators read; "-" for stderr only.
	Log string `json:"log,omitempty"`
	// Deadline bounds one hook or wrapper check from start to answer.
	Deadline Duration `json:"deadline,omitempty"`
	// FilterWait bounds the wait for the container's filter to appear.
	FilterWait Duration `json:"filterWait,omitempty"`

	// Source names the file the configuration came from, or "embedded
	// defaults".
	Source string `json:"-"`
}

// Duration is a time.Duration written as "8s", "500ms".
type Duration time.Duration

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	if v <= 0 {
		return fmt.Errorf("duration %q: must be positive", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// Default is the configuration used when there is no file.
func Default() *Config {
	c := &Config{Source: "embedded defaults"}
	c.fill()
	return c
}

// Load reads the configuration at path. When path is empty, DefaultPath
// is read if it exists and the embedded defaults are used otherwise; an
// explicit path must exist.
func Load(path string) (*Config, error) {
	explicit := path != ""
	if !explicit {
		path = DefaultPath
	}
	data, err := inputfile.Read(path, inputfile.Config)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return Default(), nil
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path)
}

// Parse parses YAML (or JSON) read from name. Unknown keys are refused: a
// misspelt "mode" must not silently leave enforcement off.
func Parse(data []byte, name string) (*Config, error) {
	c := &Config{}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.UnmarshalStrict(data, c); err != nil {
			return nil, fmt.Errorf("config %s: %v", name, err)
		}
	}
	c.Source = name
	switch c.Mode {
	case "", "enforce", "audit":
	default:
		return nil, fmt.Errorf("config %s: mode %q: want enforce or audit", name, c.Mode)
	}
	dir := filepath.Dir(name)
	for _, p := range []*string{&c.Key, &c.Store, &c.Log} {
		if *p != "" && *p != "-" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	if c.Policy != "" && !strings.Contains(c.Policy, ":") && !filepath.IsAbs(c.Policy) {
		c.Policy = filepath.Join(dir, c.Policy)
	}
	c.fill()
	if c.FilterWait > c.Deadline {
		return nil, fmt.Errorf("config %s: filterWait %s exceeds deadline %s", name,
			time.Duration(c.FilterWait), time.Duration(c.Deadline))
	}
	return c, nil
}

func (c *Config) fill() {
	if c.Key == "" {
		c.Key = DefaultKey
	}
	if c.GenerateKey == nil {
		yes := true
		c.GenerateKey = &yes
	}
	if c.Store == "" {
		c.Store = DefaultStore
	}
	if c.Log == "" {
		c.Log = DefaultLog
	}
	if c.Deadline == 0 {
		c.Deadline = Duration(DefaultDeadline)
	}
	if c.FilterWait == 0 {
		c.FilterWait = Duration(DefaultFilterWait)
	}
}
