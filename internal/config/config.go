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
	// HooksTimeout is the timeout of the shipped hooks.d files: the
	// runtime kills a hook that runs longer, before it can say why.
	HooksTimeout = 10 * time.Second
	// MaxDeadline leaves the hook a second within HooksTimeout to report
	// a check that ran out of time.
	MaxDeadline = HooksTimeout - time.Second
	// DefaultSinkTimeout bounds one delivery of a checkpoint to its sink.
	DefaultSinkTimeout = 2 * time.Second
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
	// StoreBreak is what an append does when the store no longer holds
	// what its head recorded: "record" (default) a signed break record
	// and go on, or "refuse" to append (no container starts in enforce
	// mode until an operator moved the store aside).
	StoreBreak string `json:"storeBreak,omitempty"`
	// CheckpointSink sends the store's signed checkpoint off the host
	// after every attestation.
	CheckpointSink *Sink `json:"checkpointSink,omitempty"`

	// Source names the file the configuration came from, or "embedded
	// defaults".
	Source string `json:"-"`
}

// Sink is where checkpoints go: a command that reads one on stdin, or an
// HTTP(S) URL that receives it in a POST. Exactly one of Exec and URL.
type Sink struct {
	// Exec is the command and its arguments (no shell).
	Exec []string `json:"exec,omitempty"`
	// URL receives POST with Content-Type application/vnd.dsse+json.
	URL string `json:"url,omitempty"`
	// Timeout bounds one delivery (default 2s); a container start waits
	// for it at most this long.
	Timeout Duration `json:"timeout,omitempty"`
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
			return nil, fmt.Errorf("config %s: YAML: %s", name, yamlError(err))
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
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	return c, nil
}

// validate checks what the fields say together, where it is read: a
// deadline the runtime would cut short, a sink that names nothing.
func (c *Config) validate() error {
	if time.Duration(c.Deadline) > MaxDeadline {
		return fmt.Errorf("deadline %s: at most %s, so that the hook answers within the %s timeout of the shipped hooks.d files",
			time.Duration(c.Deadline), MaxDeadline, HooksTimeout)
	}
	if c.FilterWait > c.Deadline {
		return fmt.Errorf("filterWait %s exceeds deadline %s", time.Duration(c.FilterWait), time.Duration(c.Deadline))
	}
	switch c.StoreBreak {
	case "", "record", "refuse":
	default:
		return fmt.Errorf("storeBreak %q: want record or refuse", c.StoreBreak)
	}
	if s := c.CheckpointSink; s != nil {
		switch {
		case (len(s.Exec) == 0) == (s.URL == ""):
			return errors.New("checkpointSink: give exec or url (one of them)")
		case len(s.Exec) > 0 && !filepath.IsAbs(s.Exec[0]):
			return fmt.Errorf("checkpointSink.exec: %q is not an absolute path (hooks run without PATH)", s.Exec[0])
		case s.URL != "" && !strings.HasPrefix(s.URL, "https://") && !strings.HasPrefix(s.URL, "http://"):
			return fmt.Errorf("checkpointSink.url %q: want http:// or https://", s.URL)
		case time.Duration(s.Timeout) >= time.Duration(c.Deadline):
			return fmt.Errorf("checkpointSink.timeout %s: must be below deadline %s", time.Duration(s.Timeout), time.Duration(c.Deadline))
		}
	}
	return nil
}

// yamlError says what sigs.k8s.io/yaml found without its JSON detour
// ("error unmarshaling JSON: while decoding JSON: json: unknown field"):
// the file is YAML.
func yamlError(err error) string {
	msg := err.Error()
	for _, prefix := range []string{"error converting YAML to JSON: yaml: ", "error converting YAML to JSON: ",
		"error unmarshaling JSON: while decoding JSON: json: ", "error unmarshaling JSON: while decoding JSON: ", "error unmarshaling JSON: "} {
		if rest, ok := strings.CutPrefix(msg, prefix); ok {
			return rest
		}
	}
	return msg
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
	if c.CheckpointSink != nil && c.CheckpointSink.Timeout == 0 {
		c.CheckpointSink.Timeout = Duration(DefaultSinkTimeout)
	}
}
