package attest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
)

// DefaultStore is the host's attestation store.
const DefaultStore = "/var/lib/seccomp-attest"

// BundleFile is the name of the copy written into a container's bundle.
const BundleFile = "seccomp-attestation.intoto.jsonl"

// Store is a directory of attestation files, one DSSE envelope per file,
// named <sequence, 8+ digits>-<container id>.intoto.jsonl so that a sorted
// listing is in chain order.
type Store struct {
	Dir string
}

var (
	storeName   = regexp.MustCompile(`^([0-9]{8,})-(.+)\.intoto\.jsonl$`)
	safeIDChars = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

// StoreEntry is one attestation file of a store.
type StoreEntry struct {
	Path string
	// Sequence is the sequence number in the file name.
	Sequence uint64
}

// Entries lists the store's attestation files in sequence order (by name).
func (s Store) Entries() ([]StoreEntry, error) {
	des, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("read store: %w", err)
	}
	var out []StoreEntry
	for _, de := range des {
		m := storeName.FindStringSubmatch(de.Name())
		if m == nil || !de.Type().IsRegular() {
			continue
		}
		seq, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("store %s: file %s: bad sequence number: %w", s.Dir, de.Name(), err)
		}
		out = append(out, StoreEntry{Path: filepath.Join(s.Dir, de.Name()), Sequence: seq})
	}
	slices.SortStableFunc(out, func(a, b StoreEntry) int {
		if a.Sequence != b.Sequence {
			if a.Sequence < b.Sequence {
				return -1
			}
			return 1
		}
		return 0
	})
	return out, nil
}

// Append adds the next attestation of the chain. While holding an
// exclusive flock on <dir>/.lock, so that hooks running at the same time
// take distinct sequence numbers, it finds the last file, hashes it,
// calls build with the resulting Chain, and writes build's bytes
// atomically. It returns the path written.
func (s Store) Append(containerID string, build func(Chain) ([]byte, error)) (string, error) {
	if !safeIDChars.MatchString(containerID) {
		return "", fmt.Errorf("container id %q cannot name a store file (want letters, digits, '_', '.', '-')", containerID)
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return "", fmt.Errorf("create store: %w", err)
	}
	lock, err := s.lock()
	if err != nil {
		return "", err
	}
	// Closing the file releases the lock.
	defer lock.Close()

	boot := bootID()
	chain, err := s.last(lock, boot)
	if err != nil {
		return "", err
	}
	data, err := build(chain)
	if err != nil {
		return "", err
	}
	// verify, report and the next Append read a store file only up to
	// this cap: a larger one would be unverifiable and stop the chain.
	if int64(len(data)) > inputfile.Attestation.Max {
		return "", fmt.Errorf("attestation for %s: %d bytes exceeds the limit of %s for an attestation",
			containerID, len(data), inputfile.Attestation.Limit)
	}
	name := fmt.Sprintf("%08d-%s.intoto.jsonl", chain.Sequence, containerID)
	path := filepath.Join(s.Dir, name)
	// The head goes first: after a crash of this process between the two
	// writes it names a file that does not exist, and the next Append
	// scans instead. It never names an older file than the newest one in
	// the store.
	if err := writeHead(lock, storeHead{Sequence: chain.Sequence, File: name, SHA256: sha256Hex(data), Boot: boot}); err != nil {
		return "", err
	}
	if err := WriteFileAtomic(path, data, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// lockFile is locked by every Append and holds the store's head: the
// newest attestation, so that Append does not list a directory that grows
// with every container.
//
// The head is written in place without fsync, which would double the cost
// of an attestation: within one boot every process sees it through the
// page cache, and only while holding the lock. After a crash of the
// machine it may be older than the durable attestations (or torn); its
// boot id then no longer matches, and Append lists the store once.
const lockFile = ".lock"

// headSize is the fixed size of the head record: padding with blanks
// (which JSON ignores) means a shorter head fully replaces a longer one
// in a single write, without a truncate that a crash could separate from
// it.
const headSize = 512

type storeHead struct {
	Sequence uint64 `json:"sequence"`
	File     string `json:"file"`
	SHA256   string `json:"sha256"`
	Boot     string `json:"boot"`
}

// bootIDFile changes with every boot of the kernel.
const bootIDFile = "/proc/sys/kernel/random/boot_id"

// bootID is this boot's id, or "" when unknown (then no head is trusted).
func bootID() string {
	b, err := os.ReadFile(bootIDFile)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// last returns the chain link of the next attestation: from the head when
// this boot wrote it and the file it names exists, else by listing the
// store (a new store, a reboot, or a crash between head and attestation
// writes).
func (s Store) last(lock *os.File, boot string) (Chain, error) {
	buf := make([]byte, headSize)
	if n, err := lock.ReadAt(buf, 0); n > 0 && (err == nil || errors.Is(err, io.EOF)) {
		var h storeHead
		if json.Unmarshal(buf[:n], &h) == nil && h.Sequence > 0 && storeName.MatchString(h.File) && hexDigest.MatchString(h.SHA256) &&
			h.Boot != "" && h.Boot == boot {
			if _, err := os.Lstat(filepath.Join(s.Dir, h.File)); err == nil {
				return Chain{Sequence: h.Sequence + 1, Previous: h.SHA256}, nil
			}
		}
	}
	entries, err := s.Entries()
	if err != nil {
		return Chain{}, err
	}
	if n := len(entries); n > 0 {
		last := entries[n-1]
		data, err := inputfile.Read(last.Path, inputfile.Attestation)
		if err != nil {
			return Chain{}, fmt.Errorf("read the last attestation of the store: %w", err)
		}
		return Chain{Sequence: last.Sequence + 1, Previous: sha256Hex(data)}, nil
	}
	return Chain{Sequence: 1}, nil
}

func writeHead(lock *os.File, h storeHead) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if len(data) > headSize {
		// Never: file names are bounded by the sequence and a safe id,
		// but a long id must not corrupt the record.
		data = nil
	}
	rec := make([]byte, headSize)
	copy(rec, data)
	for i := len(data); i < headSize; i++ {
		rec[i] = ' '
	}
	if _, err := lock.WriteAt(rec, 0); err != nil {
		return fmt.Errorf("write the store's head in %s: %w", lock.Name(), err)
	}
	return nil
}

// lock opens and locks the store's lock file.
func (s Store) lock() (*os.File, error) {
	path := filepath.Join(s.Dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open store lock: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

// WriteFileAtomic replaces path with data so that readers see either the
// old file or the complete new one, also after a crash: it writes a
// temporary file in the same directory, syncs it, renames it over path and
// syncs the directory. On error nothing is left behind.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return writeAtomic(path, perm, true, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// ReplaceFile is WriteFileAtomic without the syncs: readers see the old
// file or the complete new one, and a crash of the machine may lose the
// new one. For copies whose original is durable elsewhere.
func ReplaceFile(path string, data []byte, perm os.FileMode) error {
	return writeAtomic(path, perm, false, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic writes through a temporary file and a rename, syncing file
// and directory when durable; the writing step is given by the caller, so
// tests can make it fail halfway.
func writeAtomic(path string, perm os.FileMode, durable bool, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if durable {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("write %s: sync: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: close: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if !durable {
		return nil
	}
	// The rename is durable only once the directory is synced.
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("write %s: open directory to sync: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("write %s: sync directory: %w", path, err)
	}
	return nil
}
