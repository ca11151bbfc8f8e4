package record

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// SetBundleSeccomp sets linux.seccomp of the bundle's config.json,
// keeping every other member as it was, and returns the previous value
// (nil when there was none).
func SetBundleSeccomp(bundle string, seccomp json.RawMessage) (json.RawMessage, error) {
	path := filepath.Join(bundle, "config.json")
	top, linux, err := readConfigMembers(path)
	if err != nil {
		return nil, err
	}
	old := linux["seccomp"]
	linux["seccomp"] = seccomp
	return old, writeConfigMembers(path, top, linux)
}

// RestoreListenerPath gives a bundle whose profile notifies syscalls but
// names no listenerPath the recorder's socket: Docker 20.10 reads
// --security-opt seccomp=FILE into a type without listenerPath and drops
// it, so the recording profile reaches runc without it (runc then refuses
// the container). Any other bundle is left alone; changed says whether
// config.json was rewritten.
func RestoreListenerPath(bundle, socket string) (changed bool, err error) {
	path := filepath.Join(bundle, "config.json")
	top, linux, err := readConfigMembers(path)
	if err != nil {
		return false, err
	}
	raw, ok := linux["seccomp"]
	if !ok {
		return false, nil
	}
	var sc specs.LinuxSeccomp
	if err := json.Unmarshal(raw, &sc); err != nil {
		return false, fmt.Errorf("%s: linux.seccomp: %w", path, err)
	}
	if sc.ListenerPath != "" || !notifies(&sc) {
		return false, nil
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return false, fmt.Errorf("%s: linux.seccomp: %w", path, err)
	}
	if members["listenerPath"], err = json.Marshal(socket); err != nil {
		return false, err
	}
	if linux["seccomp"], err = json.Marshal(members); err != nil {
		return false, err
	}
	return true, writeConfigMembers(path, top, linux)
}

func notifies(sc *specs.LinuxSeccomp) bool {
	if sc.DefaultAction == specs.ActNotify {
		return true
	}
	for _, s := range sc.Syscalls {
		if s.Action == specs.ActNotify {
			return true
		}
	}
	return false
}

func readConfigMembers(path string) (top, linux map[string]json.RawMessage, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	linux = map[string]json.RawMessage{}
	if raw, ok := top["linux"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &linux); err != nil {
			return nil, nil, fmt.Errorf("%s: linux: %w", path, err)
		}
	}
	return top, linux, nil
}

func writeConfigMembers(path string, top, linux map[string]json.RawMessage) error {
	var err error
	if top["linux"], err = json.Marshal(linux); err != nil {
		return err
	}
	out, err := json.Marshal(top)
	if err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp := path + ".seccomp-attest-record"
	if err := os.WriteFile(tmp, append(out, '\n'), fi.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
