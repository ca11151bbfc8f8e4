package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Annotation is the container annotation that asks for a recording (its
// value names the recording file; empty: the container's ID), like
// oci-seccomp-bpf-hook's io.containers.trace-syscall. The precreate hook
// (hooks.d/record/seccomp-attest-record-precreate.json) runs only for containers
// that carry it.
const Annotation = "seccomp-attest.dev/record"

// MaxConfig bounds the OCI configuration a precreate hook reads.
const MaxConfig = 8 << 20

// ReadConfig reads an OCI configuration of at most MaxConfig bytes.
func ReadConfig(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxConfig+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxConfig {
		return nil, fmt.Errorf("the configuration is larger than %d bytes", MaxConfig)
	}
	return data, nil
}

// CheckRecorder fails unless a unix socket exists at socket: a container
// asked to be recorded must not be started without a recorder (runc and
// crun would refuse it later too, with a less clear message).
func CheckRecorder(socket string) error {
	fi, err := os.Stat(socket)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("no recorder answers at %s (start seccomp-attestd serve --record-socket %s, or seccomp-attest record serve --socket %s)", socket, socket, socket)
	case err != nil:
		return fmt.Errorf("the recorder's socket: %w", err)
	case fi.Mode().Type() != os.ModeSocket:
		return fmt.Errorf("%s is not a socket: no recorder answers there", socket)
	}
	return nil
}

// Precreate is the precreate hook's work (podman's hooks.d stage that
// gets the container's OCI configuration and returns it changed, before
// the runtime creates the container): when config's annotations carry
// Annotation, it returns config with linux.seccomp replaced by the
// recording profile (o.ListenerPath, o.Arches; o.Name is taken from the
// annotation's value) and the recording's name; every other member is
// kept. Without the annotation config comes back as it was and name is
// "". It fails, and the container must not start, when the annotation's
// value cannot name a file or no recorder answers at o.ListenerPath.
func Precreate(config []byte, o ProfileOptions) (out []byte, name string, err error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(config, &top); err != nil {
		return nil, "", fmt.Errorf("the configuration: %w", err)
	}
	if top == nil {
		return nil, "", fmt.Errorf("the configuration is not a JSON object")
	}
	var annotations map[string]string
	if raw, ok := top["annotations"]; ok {
		if err := json.Unmarshal(raw, &annotations); err != nil {
			return nil, "", fmt.Errorf("the configuration's annotations: %w", err)
		}
	}
	name, ok := annotations[Annotation]
	if !ok {
		return config, "", nil
	}
	if name != "" && !ValidName(name) {
		return nil, "", fmt.Errorf("annotation %s=%q: a recording's name is letters, digits, '_', '.', '-' (at most 128, no leading dot)", Annotation, name)
	}
	o.Name = name
	profile, err := RecordingProfile(o)
	if err != nil {
		return nil, "", err
	}
	if err := CheckRecorder(o.ListenerPath); err != nil {
		return nil, "", err
	}
	linux := map[string]json.RawMessage{}
	if raw, ok := top["linux"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &linux); err != nil {
			return nil, "", fmt.Errorf("the configuration's linux: %w", err)
		}
	}
	if linux["seccomp"], err = json.Marshal(profile); err != nil {
		return nil, "", err
	}
	if top["linux"], err = json.Marshal(linux); err != nil {
		return nil, "", err
	}
	out, err = json.Marshal(top)
	return out, name, err
}
