package record

import (
	"bytes"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrecreate(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "record.sock")
	config := []byte(`{"ociVersion":"1.0.2","process":{"args":["sh"]},"x-unknown":{"kept":true},` +
		`"annotations":{"seccomp-attest.dev/record":"web","other":"1"},` +
		`"linux":{"namespaces":[{"type":"pid"}],"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"}}}`)
	o := ProfileOptions{ListenerPath: socket}

	// No recorder: refused, whatever else is right.
	if _, _, err := Precreate(config, o); err == nil || !strings.Contains(err.Error(), "no recorder answers at "+socket) {
		t.Fatalf("without a recorder: err = %v", err)
	}
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	out, name, err := Precreate(config, o)
	if err != nil {
		t.Fatal(err)
	}
	if name != "web" {
		t.Errorf("name = %q", name)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ociVersion", "process", "x-unknown", "annotations"} {
		var a, b any
		json.Unmarshal(got[k], &a)
		var orig map[string]json.RawMessage
		json.Unmarshal(config, &orig)
		json.Unmarshal(orig[k], &b)
		if ja, _ := json.Marshal(a); !bytes.Equal(ja, mustJSON(b)) {
			t.Errorf("%s changed: %s", k, got[k])
		}
	}
	var linux struct {
		Namespaces []map[string]string `json:"namespaces"`
		Seccomp    struct {
			ListenerPath     string `json:"listenerPath"`
			ListenerMetadata string `json:"listenerMetadata"`
			Syscalls         []struct {
				Action string `json:"action"`
			} `json:"syscalls"`
		} `json:"seccomp"`
	}
	if err := json.Unmarshal(got["linux"], &linux); err != nil {
		t.Fatal(err)
	}
	if len(linux.Namespaces) != 1 || linux.Namespaces[0]["type"] != "pid" {
		t.Errorf("linux.namespaces changed: %v", linux.Namespaces)
	}
	if linux.Seccomp.ListenerPath != socket || linux.Seccomp.ListenerMetadata != "web" ||
		len(linux.Seccomp.Syscalls) == 0 || linux.Seccomp.Syscalls[0].Action != "SCMP_ACT_NOTIFY" {
		t.Errorf("linux.seccomp is not the recording profile: %s", got["linux"])
	}

	// Without the annotation: the same bytes back.
	plain := []byte(`{"annotations":{"other":"1"},"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"}}}`)
	if out, name, err := Precreate(plain, o); err != nil || name != "" || !bytes.Equal(out, plain) {
		t.Errorf("without the annotation: %s %q %v", out, name, err)
	}
	// An empty name: the recorder names the file by the container's ID.
	if out, name, err := Precreate([]byte(`{"annotations":{"seccomp-attest.dev/record":""}}`), o); err != nil || name != "" ||
		!strings.Contains(string(out), `"listenerPath":"`+socket+`"`) || strings.Contains(string(out), "listenerMetadata") {
		t.Errorf("empty name: %s %q %v", out, name, err)
	}
	for _, bad := range []string{
		`{"annotations":{"seccomp-attest.dev/record":"../etc"}}`,
		`{"annotations":{"seccomp-attest.dev/record":".hidden"}}`,
		`{"annotations":{"seccomp-attest.dev/record":1}}`,
		`[]`, `null`, `{`,
		`{"annotations":{"seccomp-attest.dev/record":"x"},"linux":[]}`,
	} {
		if _, _, err := Precreate([]byte(bad), o); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestReadConfigBounded(t *testing.T) {
	if _, err := ReadConfig(bytes.NewReader(make([]byte, MaxConfig+1))); err == nil {
		t.Error("an oversized configuration was read")
	}
	if data, err := ReadConfig(strings.NewReader("{}")); err != nil || string(data) != "{}" {
		t.Errorf("%q %v", data, err)
	}
}

func TestCheckRecorderNotASocket(t *testing.T) {
	if err := CheckRecorder(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is not a socket") {
		t.Errorf("a directory: %v", err)
	}
}
