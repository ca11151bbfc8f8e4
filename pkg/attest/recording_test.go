package attest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func testRecordingAttestation(t *testing.T, profile []byte) (*RecordingAttestation, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(path, profile, 0o644); err != nil {
		t.Fatal(err)
	}
	sd, err := SeccompDigest(&specs.LinuxSeccomp{DefaultAction: specs.ActErrno})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	return &RecordingAttestation{
		Recordings: []RecordedWorkload{{File: "/tmp/rec.json", Digest: sha256Hex([]byte("rec")), Container: "c1",
			Image: "busybox", Command: []string{"sh", "-c", "true"}, Started: now, Recorder: "seccomp-attest test", Complete: true}},
		Profile: GeneratedProfile{Path: path, Format: "oci", SeccompDigest: sd, Complete: true},
		Host:    Host{ID: "h", Kernel: "6.18", Arch: "x86_64"},
		Tool:    Tool{Name: "seccomp-attest", Version: "test"},
		Time:    now,
	}, path
}

func TestRecordingAttestationVerifies(t *testing.T) {
	s, v, _ := testKey(t, KeyECDSAP256)
	profile := []byte(`{"defaultAction":"SCMP_ACT_ERRNO"}`)
	p, path := testRecordingAttestation(t, profile)
	env, err := SignRecording(context.Background(), p, profile, s)
	if err != nil {
		t.Fatal(err)
	}
	r := Verify(context.Background(), "rec.intoto.jsonl", env, v, VerifyOptions{})
	if !r.Valid() || !r.Passing() || r.Recording == nil || r.Predicate() != nil {
		t.Fatalf("problems %v, recording %v", r.Problems, r.Recording)
	}
	if r.Recording.Profile.Digest != sha256Hex(profile) || r.Recording.Host.KeyFingerprint == "" {
		t.Errorf("profile digest %s, key %s", r.Recording.Profile.Digest, r.Recording.Host.KeyFingerprint)
	}

	// The profile changed after signing.
	if err := os.WriteFile(path, []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r = Verify(context.Background(), "rec.intoto.jsonl", env, v, VerifyOptions{})
	if r.Valid() || !strings.Contains(strings.Join(r.Problems, "\n"), "the profile was changed") {
		t.Errorf("changed profile: problems %v", r.Problems)
	}
	// Gone: nothing to compare, said so.
	os.Remove(path)
	r = Verify(context.Background(), "rec.intoto.jsonl", env, v, VerifyOptions{})
	if !r.Valid() || len(r.Notes) == 0 {
		t.Errorf("profile gone: problems %v notes %v", r.Problems, r.Notes)
	}
	// Another key.
	_, other, _ := testKey(t, KeyEd25519)
	if r := Verify(context.Background(), "rec.intoto.jsonl", env, other, VerifyOptions{}); r.Valid() {
		t.Error("verified with another key")
	}
}

func TestRecordingAttestationRefusesIncompleteAsComplete(t *testing.T) {
	s, _, _ := testKey(t, KeyECDSAP256)
	profile := []byte(`{}`)
	p, _ := testRecordingAttestation(t, profile)
	p.Recordings[0].Complete = false
	if _, err := SignRecording(context.Background(), p, profile, s); err == nil {
		t.Error("signed a complete profile made from an incomplete recording")
	}
	p.Profile.Complete = false
	if _, err := SignRecording(context.Background(), p, profile, s); err != nil {
		t.Error(err)
	}
}
