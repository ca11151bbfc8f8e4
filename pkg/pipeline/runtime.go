package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

var versionLine = regexp.MustCompile(`(?m)^(?:runc|crun) version ([^\s]+)`)

// RuntimeVersion is the version `EXE --version` prints for runc or crun,
// remembered per executable (path, size, modification time) in the
// store's cache so that only the first container pays for running it;
// "" when it cannot be told.
func RuntimeVersion(exe, store string) string {
	st, err := os.Stat(exe)
	if err != nil {
		return ""
	}
	id := sha256.Sum256(fmt.Appendf(nil, "%s %d %d", exe, st.Size(), st.ModTime().UnixNano()))
	cache := filepath.Join(store, "cache", "runtime-"+hex.EncodeToString(id[:8]))
	if b, err := os.ReadFile(cache); err == nil {
		return strings.TrimSpace(string(b))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, exe, "--version").Output()
	if err != nil {
		return ""
	}
	m := versionLine.FindSubmatch(out)
	if m == nil {
		return ""
	}
	v := string(m[1])
	if os.MkdirAll(filepath.Dir(cache), 0o700) == nil {
		os.WriteFile(cache, []byte(v+"\n"), 0o600)
	}
	return v
}
