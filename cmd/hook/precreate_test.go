package main

import (
	"bytes"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrecreateStage(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "r.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	argv := []string{"--socket=/run/x.sock", "--config", "/etc/c.yaml", "--record-socket=" + socket, "precreate"}
	if !isPrecreate(argv) || isPrecreate([]string{"createRuntime"}) || isPrecreate(nil) {
		t.Fatal("isPrecreate")
	}
	var out, errb bytes.Buffer
	if code := precreate(argv, strings.NewReader(`{"annotations":{"seccomp-attest.dev/record":"n"}}`), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"listenerPath":"`+socket+`"`) {
		t.Errorf("out: %s", out.String())
	}
	out.Reset()
	plain := `{"annotations":{"a":"b"}}`
	if code := precreate(argv, strings.NewReader(plain), &out, &errb); code != 0 || out.String() != plain {
		t.Errorf("without the annotation: exit %d, %s", code, out.String())
	}
	// Fails closed: no recorder, a relative socket, a stray argument.
	for _, a := range [][]string{
		{"--record-socket=" + socket + ".none", "precreate"},
		{"--record-socket=rel.sock", "precreate"},
		{"extra", "precreate"},
	} {
		errb.Reset()
		out.Reset()
		if code := precreate(a, strings.NewReader(`{"annotations":{"seccomp-attest.dev/record":"n"}}`), &out, &errb); code != exitError || out.Len() != 0 {
			t.Errorf("%v: exit %d, out %q", a, code, out.String())
		}
	}
}
