package runtimemsg

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"regexp"
	"testing"
)

// podman's getOCIRuntimeError patterns (libpod/oci_conmon_common.go) and
// Docker's exit-127 test: none may match a message after Plain.
var engineHeuristics = regexp.MustCompile(`(?i).*permission denied.*|.*operation not permitted.*|.*executable file not found in.*|.*no such file or directory.*`)

func TestPlainDefeatsTheEnginesHeuristics(t *testing.T) {
	_, err := os.Open("/nonexistent/signing.key")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, msg := range []string{
		"seccomp-attest: createRuntime: private key: " + err.Error(),
		"open /etc/x: permission denied", "ptrace: operation not permitted",
		`exec: "x": executable file not found in $PATH`,
	} {
		if engineHeuristics.MatchString(msg) == false {
			t.Fatalf("%q: the heuristics do not match it to begin with", msg)
		}
		if got := Plain(msg); engineHeuristics.MatchString(got) {
			t.Errorf("Plain(%q) = %q, still taken for the runtime's own failure", msg, got)
		}
		var b bytes.Buffer
		if _, err := (Writer{&b}).Write([]byte(msg)); err != nil || b.String() != Plain(msg) {
			t.Errorf("Writer: %q %v", b.String(), err)
		}
	}
}
