package pipeline

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
)

// An HTTP sink gets the checkpoint as it is, with its media type; a sink
// that refuses, or does not answer within its timeout, is an error that
// names it (and says what it said).
func TestSendCheckpointHTTP(t *testing.T) {
	checkpoint := []byte(`{"payloadType":"application/vnd.in-toto+json"}` + "\n")
	var got []byte
	var gotType string
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		gotType = r.Header.Get("Content-Type")
		w.WriteHeader(http.StatusCreated)
	}))
	defer ok.Close()
	if err := sendCheckpoint(context.Background(), &config.Sink{URL: ok.URL, Timeout: config.Duration(time.Second)}, checkpoint); err != nil {
		t.Fatal(err)
	}
	if string(got) != string(checkpoint) || gotType != CheckpointMediaType {
		t.Fatalf("sink got %q as %q", got, gotType)
	}

	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unknown host", http.StatusForbidden)
	}))
	defer refusing.Close()
	err := sendCheckpoint(context.Background(), &config.Sink{URL: refusing.URL, Timeout: config.Duration(time.Second)}, checkpoint)
	if err == nil || !strings.Contains(err.Error(), "403 Forbidden: unknown host") {
		t.Fatalf("refusing sink: %v", err)
	}

	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hanging.Close()
	defer close(release)
	err = sendCheckpoint(context.Background(), &config.Sink{URL: hanging.URL, Timeout: config.Duration(200 * time.Millisecond)}, checkpoint)
	if err == nil || !strings.Contains(err.Error(), "checkpoint sink") {
		t.Fatalf("hanging sink: %v", err)
	}
}

// An exec sink reads the checkpoint on stdin; its failure says what it
// wrote on stderr.
func TestSendCheckpointExec(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "got")
	script := filepath.Join(dir, "sink")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ncat >"+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := sendCheckpoint(context.Background(), &config.Sink{Exec: []string{script}, Timeout: config.Duration(time.Second)}, []byte("cp\n")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "cp\n" {
		t.Fatalf("exec sink got %q", b)
	}
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho witness unreachable >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := sendCheckpoint(context.Background(), &config.Sink{Exec: []string{script}, Timeout: config.Duration(time.Second)}, []byte("cp\n"))
	if err == nil || !strings.Contains(err.Error(), "exit status 3: witness unreachable") {
		t.Fatalf("failing exec sink: %v", err)
	}
}
