// Package inputfiletest gives the tests of every loader the files a user
// can name by mistake or malice, and checks that the loader refuses each at
// once through package inputfile.
package inputfiletest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
)

// Case is a file no loader may read, and the error its refusal wraps.
type Case struct {
	Name, Path string
	Want       error
}

// Cases returns /dev/zero, /dev/urandom, a FIFO, a directory and a sparse
// file of 1 GiB (larger than every cap), the last three in a temporary
// directory.
func Cases(t testing.TB) []Case {
	t.Helper()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse")
	if err := os.WriteFile(sparse, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sparse, 1<<30); err != nil {
		t.Fatal(err)
	}
	directory := filepath.Join(dir, "directory")
	if err := os.Mkdir(directory, 0o700); err != nil {
		t.Fatal(err)
	}
	return []Case{
		{"/dev/zero", "/dev/zero", inputfile.ErrNotRegular},
		{"/dev/urandom", "/dev/urandom", inputfile.ErrNotRegular},
		{"FIFO", fifo, inputfile.ErrNotRegular},
		{"directory", directory, inputfile.ErrNotRegular},
		{"sparse 1 GiB file", sparse, inputfile.ErrTooLarge},
	}
}

// CheckRefused runs load, which must return within 5 seconds an error that
// wraps c.Want and names the file on one line.
func CheckRefused(t *testing.T, c Case, load func(path string) error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- load(c.Path) }()
	select {
	case err := <-done:
		if !errors.Is(err, c.Want) || !strings.Contains(err.Error(), c.Path) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v; want one line wrapping %q and naming %s", c.Name, err, c.Want, c.Path)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: still reading %s after 5 s", c.Name, c.Path)
	}
}
