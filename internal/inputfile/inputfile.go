// Package inputfile reads a user-supplied file of a given kind within that
// kind's size cap.
//
// Every file the programs read on a user's word (filters, profiles,
// config.json, policies, rules, keys, attestations, configuration) comes
// through here, because the file can be hostile or simply wrong: /dev/zero
// never ends, a FIFO blocks its reader forever, a sparse file of 1 GiB
// reports its size but would cost that much memory to read. A file is
// opened without blocking, its kind and size are checked on the opened
// descriptor (so a path swapped after the check cannot slip through), and
// at most cap+1 bytes are read (so a file that grows after the check is
// still bounded). Standard input, which the user asks for with "-", is read
// through the same cap.
//
// The caps are documented in docs/limits.md.
package inputfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Kind is what a file holds, with the most the programs read of it.
type Kind struct {
	// Name is what the file is, with its article, in messages: "a
	// seccomp filter", "an attestation".
	Name string
	// Max is the largest size in bytes accepted.
	Max int64
	// Limit states Max for people, in the unit that matters for the kind.
	Limit string
}

// The kinds of user-supplied files and their caps (docs/limits.md).
var (
	// Filter is a raw filter (struct sock_filter array): the kernel's
	// BPF_MAXINSNS instructions of 8 bytes.
	Filter = Kind{Name: "a seccomp filter", Max: 4096 * 8, Limit: "4096 instructions (32768 bytes)"}
	// Profile is an intended profile in any format, including an OCI
	// bundle's config.json. Real profiles are about 20 KB (Docker's and
	// podman's defaults); config.json adds the rest of the container's
	// configuration and crun's base64 raw filter (at most 44 KB).
	Profile = Kind{Name: "a profile or config.json", Max: 4 << 20, Limit: "4 MiB"}
	// Policy is a policy file; the shipped ones are a few KB.
	Policy = Kind{Name: "a policy", Max: 1 << 20, Limit: "1 MiB"}
	// Rules is a score rules file; the embedded rules are about 10 KB.
	Rules = Kind{Name: "a rules file", Max: 1 << 20, Limit: "1 MiB"}
	// Key is a PEM key; real ones are well under 4 KB.
	Key = Kind{Name: "a key", Max: 64 << 10, Limit: "64 KiB"}
	// Attestation is one signed attestation (one store file). It carries
	// the raw filters of every thread of a process and the diff.
	Attestation = Kind{Name: "an attestation", Max: 16 << 20, Limit: "16 MiB"}
	// Config is the configuration of the hook, daemon and wrapper.
	Config = Kind{Name: "a configuration file", Max: 1 << 20, Limit: "1 MiB"}
)

// Errors a refusal wraps, for callers that tell them apart (errors.Is).
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("too large")
)

// StdinName is how standard input ("-") is named in messages.
const StdinName = "standard input"

// Error is a refused file: one line naming the file and the problem.
type Error struct {
	Path    string
	Problem string
	// Err is ErrNotRegular or ErrTooLarge.
	Err error
}

func (e *Error) Error() string { return e.Path + ": " + e.Problem }
func (e *Error) Unwrap() error { return e.Err }

// Read returns the contents of the file at path, which must be a regular
// file (symbolic links are followed) of at most kind.Max bytes.
func Read(path string, kind Kind) ([]byte, error) {
	// A first look by path refuses devices and FIFOs without opening
	// them: opening some devices has effects of its own.
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if err := check(path, st, kind); err != nil {
		return nil, err
	}
	// O_NONBLOCK: should the path have become a FIFO since, the open
	// returns instead of waiting for a writer; fstat then refuses it. It
	// stays set: it changes nothing for a regular file on disk, and a
	// pseudo-file that would wait for data fails instead.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := check(path, st, kind); err != nil {
		return nil, err
	}
	return readCapped(f, path, st.Size(), kind)
}

// ReadArg reads a file named on the command line where "-" means standard
// input (stdin, read within the same cap). A refused non-regular file says
// that "-" reads standard input, the way to feed a pipe.
func ReadArg(arg string, stdin io.Reader, kind Kind) ([]byte, error) {
	if arg == "-" {
		return readCapped(stdin, StdinName, 0, kind)
	}
	data, err := Read(arg, kind)
	if e := (*Error)(nil); errors.As(err, &e) && e.Err == ErrNotRegular {
		e.Problem += " (or - for standard input)"
	}
	return data, err
}

// DisplayName is how messages name arg: "-" is standard input.
func DisplayName(arg string) string {
	if arg == "-" {
		return StdinName
	}
	return arg
}

func check(path string, st fs.FileInfo, kind Kind) error {
	if !st.Mode().IsRegular() {
		return &Error{Path: path, Err: ErrNotRegular,
			Problem: fmt.Sprintf("is %s; %s must be a regular file", typeName(st.Mode()), kind.Name)}
	}
	if st.Size() > kind.Max {
		return tooLarge(path, fmt.Sprintf("%d bytes", st.Size()), kind)
	}
	return nil
}

func tooLarge(path, size string, kind Kind) error {
	return &Error{Path: path, Err: ErrTooLarge,
		Problem: fmt.Sprintf("too large for %s: %s exceeds the limit of %s", kind.Name, size, kind.Limit)}
}

// readCapped reads r to its end, failing past kind.Max bytes. sizeHint is
// the size fstat reported (0 when unknown): the buffer starts there, so a
// regular file is read in one allocation; the limit reader bounds a file
// that grew since, and standard input.
func readCapped(r io.Reader, path string, sizeHint int64, kind Kind) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(sizeHint, kind.Max)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(r, kind.Max+1)); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(buf.Len()) > kind.Max {
		return nil, tooLarge(path, fmt.Sprintf("more than %d bytes", kind.Max), kind)
	}
	return buf.Bytes(), nil
}

func typeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}
