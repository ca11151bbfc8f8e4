// Package runtimemsg words what the hook and wrapper-runc tell a runtime
// so that engines pass it on as it is. podman's and Docker's error
// heuristics read errno texts in a runtime's error as the runtime's own
// failure: "no such file or directory" becomes "OCI runtime attempted to
// invoke a command that was not found" (exit 127), "permission denied" or
// "operation not permitted" becomes "OCI permission denied" (126), which
// would hide why a container was refused (a missing key or policy file).
package runtimemsg

import (
	"io"
	"strings"
)

var errnoWords = strings.NewReplacer(
	"no such file or directory", "does not exist (ENOENT)",
	"permission denied", "access refused (EACCES)",
	"operation not permitted", "not allowed (EPERM)",
	"executable file not found", "executable not found",
)

// Plain rewrites the errno texts engines take for their runtime's failure.
func Plain(msg string) string { return errnoWords.Replace(msg) }

// Writer writes through w with Plain applied to each write (callers write
// whole lines).
type Writer struct{ W io.Writer }

func (r Writer) Write(b []byte) (int, error) {
	if _, err := errnoWords.WriteString(r.W, string(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}
