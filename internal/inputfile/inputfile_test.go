package inputfile

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

var small = Kind{Name: "a test file", Max: 16, Limit: "16 bytes"}

// Every kind of file a user can name, each answered at once: the content,
// or one line that names the file and the problem.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	writeFile(t, regular, "0123456789abcdef")
	exactlyOver := filepath.Join(dir, "over")
	writeFile(t, exactlyOver, "0123456789abcdefX")
	empty := filepath.Join(dir, "empty")
	writeFile(t, empty, "")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "socket")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	for _, tc := range []struct {
		name, path string
		kind       Kind
		want       string // content, when wantErr is nil
		wantErr    error
		wantMsg    string
	}{
		{name: "regular file at the cap", path: regular, kind: small, want: "0123456789abcdef"},
		{name: "empty file", path: empty, kind: small, want: ""},
		{name: "symlink to a regular file", path: link, kind: small, want: "0123456789abcdef"},
		{name: "one byte over the cap", path: exactlyOver, kind: small, wantErr: ErrTooLarge,
			wantMsg: exactlyOver + ": too large for a test file: 17 bytes exceeds the limit of 16 bytes"},
		{name: "sparse 1 GiB file", path: sparse, kind: Profile, wantErr: ErrTooLarge,
			wantMsg: sparse + ": too large for a profile or config.json: 1073741824 bytes exceeds the limit of 4 MiB"},
		{name: "FIFO", path: fifo, kind: Filter, wantErr: ErrNotRegular,
			wantMsg: fifo + ": is a FIFO; a seccomp filter must be a regular file"},
		{name: "socket", path: socket, kind: Policy, wantErr: ErrNotRegular,
			wantMsg: socket + ": is a socket; a policy must be a regular file"},
		{name: "directory", path: dir, kind: Key, wantErr: ErrNotRegular,
			wantMsg: dir + ": is a directory; a key must be a regular file"},
		{name: "/dev/zero", path: "/dev/zero", kind: Filter, wantErr: ErrNotRegular,
			wantMsg: "/dev/zero: is a character device; a seccomp filter must be a regular file"},
		{name: "/dev/urandom", path: "/dev/urandom", kind: Attestation, wantErr: ErrNotRegular,
			wantMsg: "/dev/urandom: is a character device; an attestation must be a regular file"},
		{name: "missing file", path: filepath.Join(dir, "missing"), kind: small, wantErr: os.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				data []byte
				err  error
			)
			allocated := allocatedBytes(func() {
				withDeadline(t, func() { data, err = Read(tc.path, tc.kind) })
			})
			if tc.wantErr == nil {
				if err != nil || string(data) != tc.want {
					t.Fatalf("Read = %q, %v; want %q", data, err, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Read = %d bytes, %v; want an error wrapping %v", len(data), err, tc.wantErr)
			}
			if tc.wantMsg != "" && err.Error() != tc.wantMsg {
				t.Errorf("message %q, want %q", err, tc.wantMsg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message on more than one line: %q", err)
			}
			if allocated > 1<<20 {
				t.Errorf("refusing the file allocated %d bytes", allocated)
			}
		})
	}
}

// A file that grows after the size check is still read only up to the cap:
// Read's limit reader, not the size fstat reported, bounds it.
func TestReadCappedStopsAtTheCap(t *testing.T) {
	endless := io.MultiReader(strings.NewReader("0123456789abcdef"), zeros{})
	_, err := readCapped(endless, "grown", 4, small)
	if !errors.Is(err, ErrTooLarge) || err.Error() != "grown: too large for a test file: more than 16 bytes exceeds the limit of 16 bytes" {
		t.Fatalf("readCapped of an endless stream: %v", err)
	}
}

func TestReadArg(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	writeFile(t, regular, "from the file")
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("stdin", func(t *testing.T) {
		data, err := ReadArg("-", strings.NewReader("from stdin"), small)
		if err != nil || string(data) != "from stdin" {
			t.Fatalf("ReadArg(-) = %q, %v", data, err)
		}
	})
	t.Run("endless stdin", func(t *testing.T) {
		var err error
		withDeadline(t, func() { _, err = ReadArg("-", zeros{}, Filter) })
		if !errors.Is(err, ErrTooLarge) ||
			err.Error() != "standard input: too large for a seccomp filter: more than 32768 bytes exceeds the limit of 4096 instructions (32768 bytes)" {
			t.Fatalf("ReadArg(-) of endless input: %v", err)
		}
	})
	t.Run("file", func(t *testing.T) {
		data, err := ReadArg(regular, strings.NewReader("from stdin"), Profile)
		if err != nil || string(data) != "from the file" {
			t.Fatalf("ReadArg(file) = %q, %v", data, err)
		}
	})
	t.Run("FIFO names the way to read a pipe", func(t *testing.T) {
		var err error
		withDeadline(t, func() { _, err = ReadArg(fifo, strings.NewReader(""), Filter) })
		want := fifo + ": is a FIFO; a seccomp filter must be a regular file (or - for standard input)"
		if !errors.Is(err, ErrNotRegular) || err.Error() != want {
			t.Fatalf("ReadArg(fifo) = %v, want %q", err, want)
		}
	})
}

// withDeadline fails the test instead of hanging it when fn blocks (a FIFO
// opened for reading waits for a writer forever).
func withDeadline(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("blocked for 5 s")
	}
}

func allocatedBytes(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
