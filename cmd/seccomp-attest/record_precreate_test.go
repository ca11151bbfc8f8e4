package main

import (
	"bytes"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func TestRecordPrecreate(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "r.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var out bytes.Buffer
	if err := precreate(socket, strings.NewReader(`{"annotations":{"seccomp-attest.dev/record":"n"}}`), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"listenerPath":"`+socket+`"`) {
		t.Errorf("out: %s", out.String())
	}
	out.Reset()
	plain := `{"annotations":{"a":"b"}}`
	if err := precreate(socket, strings.NewReader(plain), &out); err != nil || out.String() != plain {
		t.Errorf("without the annotation: %v, %s", err, out.String())
	}
	// Fails closed: no recorder, a relative socket, an invalid name.
	for _, c := range []struct{ socket, config string }{
		{socket + ".none", `{"annotations":{"seccomp-attest.dev/record":"n"}}`},
		{"rel.sock", `{"annotations":{"seccomp-attest.dev/record":"n"}}`},
		{socket, `{"annotations":{"seccomp-attest.dev/record":"../evil"}}`},
	} {
		out.Reset()
		if err := precreate(c.socket, strings.NewReader(c.config), &out); err == nil || out.Len() != 0 {
			t.Errorf("%+v: %v, out %q", c, err, out.String())
		}
	}
	// Through the command line, as podman runs it: exit 2 on refusal.
	code, msg := runCLI(t, "record", "precreate", "--record-socket", socket+".none")
	if code != exitError || !strings.Contains(msg, "refusing") {
		t.Errorf("record precreate without a recorder: exit %d, %s", code, msg)
	}
}
