package attest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	// Signer signs what the store writes on its own: its checkpoint after
	// every append and the record of a break. Host (with its key
	// fingerprint) and Tool go into those records. Without a signer
	// Append writes neither, and a break is an error.
	Signer *Signer
	Host   Host
	Tool   Tool
	// OnBreak is what Append does when the store no longer holds what its
	// head recorded.
	OnBreak BreakPolicy
	// Commit, when set, is asked under the store's lock, just before the
	// attestation is written: an error (the check was given up, its
	// answer already went out) writes nothing.
	Commit func() error
	// Committed, when set, is called under the store's lock once the
	// attestation and the head that names it are durable, before the
	// checkpoint is signed and written: what must not outlive the append
	// (a handed-off record's spooled copy) goes then, not after the
	// checkpoint, which a crash would leave to be appended twice.
	Committed func()
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
		if err != nil || seq == 0 || seq > maxSequence {
			// No store gets there: a name made to wrap or exhaust the
			// numbering is not an attestation of this store.
			return nil, fmt.Errorf("store %s: file %s: sequence number out of range (1..%d)", s.Dir, de.Name(), uint64(maxSequence))
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
// take distinct sequence numbers, it finds the newest attestation from the
// store's head, checks that the store still holds it, calls build with
// the resulting Chain, and writes build's bytes atomically. It returns the
// path written.
//
// When the store no longer holds what its head recorded (the newest
// attestations were deleted or altered, the head was removed), Append
// never reuses a sequence number and never silently chains on whatever is
// left: with OnBreak BreakRecord it first appends a signed record of the
// break (what was expected, what was found), with BreakRefuse it fails.
// With a Signer it then replaces the store's signed checkpoint.
func (s Store) Append(containerID string, build func(Chain) ([]byte, error)) (string, error) {
	a, err := s.append(containerID, build)
	if err == nil && a.checkpointErr != nil {
		err = fmt.Errorf("attestation written (%s), but: %w", a.path, a.checkpointErr)
	}
	return a.path, err
}

// appended is what one append wrote.
type appended struct {
	path string
	// checkpoint is the signed checkpoint after it (nil without a
	// signer); checkpointErr why it could not be written, which does not
	// undo the durable, chained attestation.
	checkpoint    []byte
	checkpointErr error
}

func (s Store) append(containerID string, build func(Chain) ([]byte, error)) (appended, error) {
	if !safeIDChars.MatchString(containerID) || len(containerID) > maxIDLength {
		return appended{}, fmt.Errorf("container id %.80q cannot name a store file (want at most %d letters, digits, '_', '.', '-')", containerID, maxIDLength)
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return appended{}, fmt.Errorf("create store: %w", err)
	}
	lock, err := s.lock()
	if err != nil {
		return appended{}, err
	}
	// Closing the file releases the lock.
	defer lock.Close()

	boot := bootID()
	tip, brk, err := s.tip(lock, boot)
	if err != nil {
		return appended{}, err
	}
	if brk != nil {
		if tip, err = s.recordBreak(lock, boot, tip, brk); err != nil {
			return appended{}, err
		}
	}
	chain := tip.next()
	data, err := build(chain)
	if err != nil {
		return appended{}, err
	}
	// verify, report and the next Append read a store file only up to
	// this cap: a larger one would be unverifiable and stop the chain.
	if int64(len(data)) > inputfile.Attestation.Max {
		return appended{}, fmt.Errorf("attestation for %s: %d bytes exceeds the limit of %s for an attestation",
			containerID, len(data), inputfile.Attestation.Limit)
	}
	ref := HeadRef{Sequence: chain.Sequence, File: fmt.Sprintf("%08d-%s.intoto.jsonl", chain.Sequence, containerID), SHA256: sha256Hex(data)}
	if s.Commit != nil {
		if err := s.Commit(); err != nil {
			return appended{}, fmt.Errorf("attestation for %s not written: %w", containerID, err)
		}
	}
	if err := s.commit(lock, boot, tip, ref, data); err != nil {
		return appended{}, err
	}
	if s.Committed != nil {
		s.Committed()
	}
	a := appended{path: filepath.Join(s.Dir, ref.File)}
	a.checkpoint, a.checkpointErr = s.writeCheckpoint(ref)
	return a, nil
}

// maxSequence bounds sequence numbers far beyond any store, so that the
// next one never overflows.
const maxSequence = 1 << 48

// maxIDLength keeps a store file name, and the head that names it twice,
// within headSize.
const maxIDLength = 200

// commit writes one attestation after tip: the head first records it as
// pending, then the file is written durably, then the head names it. A
// crash (of this process or of the machine) between the steps leaves a
// head from which the next Append tells an interrupted write from a
// deletion.
func (s Store) commit(lock *os.File, boot string, tip HeadRef, ref HeadRef, data []byte) error {
	if err := writeHead(lock, storeHead{HeadRef: tip, Boot: boot, Pending: &ref}); err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(s.Dir, ref.File), data, 0o644); err != nil {
		return err
	}
	return writeHead(lock, storeHead{HeadRef: ref, Boot: boot})
}

// HeadRef names one attestation of a store: what the store's head, its
// checkpoints and its break records point at.
type HeadRef struct {
	Sequence uint64 `json:"sequence"`
	File     string `json:"file"`
	SHA256   string `json:"sha256"`
}

func (r HeadRef) String() string {
	if r.Sequence == 0 {
		return "no attestation"
	}
	return fmt.Sprintf("sequence %d (%s, sha256 %.12s…)", r.Sequence, r.File, r.SHA256)
}

// next is the chain link of the attestation after r.
func (r HeadRef) next() Chain {
	if r.Sequence == 0 {
		return Chain{Sequence: 1}
	}
	return Chain{Sequence: r.Sequence + 1, Previous: r.SHA256}
}

// lockFile is locked by every Append and holds the store's head: the
// newest attestation, so that Append does not list a directory that grows
// with every container, and can tell when files were taken away.
//
// The head is written in place without fsync, which would double the cost
// of an attestation: within one boot every process sees it through the
// page cache, and only while holding the lock. After a crash of the
// machine it may be older than the durable attestations; its boot id then
// no longer matches, and Append checks that the files after it chain on
// it.
const lockFile = ".lock"

// headSize is the fixed size of the head record: padding with blanks
// (which JSON ignores) means a shorter head fully replaces a longer one
// in a single write, without a truncate that a crash could separate from
// it.
const headSize = 1024

type storeHead struct {
	HeadRef
	Boot string `json:"boot"`
	// Pending is the attestation being written after HeadRef.
	Pending *HeadRef `json:"pending,omitempty"`
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

// readHead reads the head record: ok is false for a store without one (a
// new store, or a lock file emptied), err set for a head that is there
// but unreadable.
func readHead(lock *os.File) (h storeHead, ok bool, err error) {
	buf := make([]byte, headSize)
	n, rerr := lock.ReadAt(buf, 0)
	if rerr != nil && !errors.Is(rerr, io.EOF) {
		return h, false, fmt.Errorf("read the store's head in %s: %w", lock.Name(), rerr)
	}
	rec := bytes.TrimSpace(buf[:n])
	if len(rec) == 0 {
		return h, false, nil
	}
	if err := json.Unmarshal(rec, &h); err != nil {
		return h, false, fmt.Errorf("the store's head in %s is not a head record: %v", lock.Name(), err)
	}
	refs := []HeadRef{}
	if h.Sequence > 0 { // 0: a new store whose first write is pending
		refs = append(refs, h.HeadRef)
	}
	if h.Pending != nil {
		refs = append(refs, *h.Pending)
	}
	for _, r := range refs {
		if r.Sequence > maxSequence {
			return h, false, fmt.Errorf("the store's head in %s names sequence %d, beyond any store", lock.Name(), r.Sequence)
		}
		if m := storeName.FindStringSubmatch(r.File); m == nil || m[1] != fmt.Sprintf("%08d", r.Sequence) || !hexDigest.MatchString(r.SHA256) {
			return h, false, fmt.Errorf("the store's head in %s names %q, not an attestation of sequence %d", lock.Name(), r.File, r.Sequence)
		}
	}
	return h, true, nil
}

// tip returns the newest attestation of the store, which the next one
// chains on, or a break: what the head recorded is no longer there. The
// HeadRef returned with a break is what the head expected (or, without a
// usable head, the newest file found), so that the break record continues
// the sequence numbers without reusing any.
func (s Store) tip(lock *os.File, boot string) (HeadRef, *StoreBreak, error) {
	h, ok, herr := readHead(lock)
	if herr != nil || !ok {
		newest, err := s.newestOnDisk()
		if err != nil {
			return HeadRef{}, nil, err
		}
		switch {
		case herr != nil:
			return newest, &StoreBreak{Reason: herr.Error(), Found: refOrNil(newest)}, nil
		case newest.Sequence > 0:
			return newest, &StoreBreak{Reason: "the store holds attestations but no head (its .lock was emptied or replaced)", Found: &newest}, nil
		}
		// Empty and headless: a new store, unless its checkpoint says
		// it held attestations.
		return s.checkOwnCheckpoint(HeadRef{})
	}
	tip := h.HeadRef
	if p := h.Pending; p != nil {
		// A write was under way: it completed if the file is there.
		switch got, err := s.digestOf(p.File); {
		case err == nil && got == p.SHA256:
			tip = *p
		case err == nil:
			return *p, &StoreBreak{Reason: fmt.Sprintf("%s was altered after it was written (sha256 %.12s…)", p.File, got),
				Expected: p, Found: s.found(p.Sequence)}, nil
		case !errors.Is(err, fs.ErrNotExist):
			return HeadRef{}, nil, err
		}
	}
	if tip.Sequence > 0 {
		switch got, err := s.digestOf(tip.File); {
		case errors.Is(err, fs.ErrNotExist):
			return tip, &StoreBreak{Reason: fmt.Sprintf("%s, the newest attestation the store's head records, is missing", tip.File),
				Expected: &tip, Found: s.found(tip.Sequence)}, nil
		case err != nil:
			return HeadRef{}, nil, err
		case got != tip.SHA256:
			return tip, &StoreBreak{Reason: fmt.Sprintf("%s was altered after it was written (sha256 %.12s…)", tip.File, got),
				Expected: &tip, Found: s.found(tip.Sequence)}, nil
		}
	}
	if h.Boot == "" || h.Boot != boot {
		// Written in another boot: attestations are durable before the
		// head is updated, so after a crash of the machine there may be
		// newer files, which must chain on the head.
		var brk *StoreBreak
		var err error
		if tip, brk, err = s.rollForward(tip); err != nil || brk != nil {
			return tip, brk, err
		}
	}
	return s.checkOwnCheckpoint(tip)
}

// checkOwnCheckpoint compares tip with the store's signed checkpoint: a
// head rolled back by hand (the newest attestations deleted, .lock
// rewritten) is older than the checkpoint, which only the host key can
// sign. Without a signer there is nothing to check it with.
func (s Store) checkOwnCheckpoint(tip HeadRef) (HeadRef, *StoreBreak, error) {
	if s.Signer == nil {
		return tip, nil, nil
	}
	cp, ok, err := s.ReadCheckpoint(context.Background(), s.Signer.Verifier())
	switch {
	case !ok && tip.Sequence > 0:
		// Every append leaves one: deleted (or a store from before
		// checkpoints, which this records once).
		return tip, &StoreBreak{Reason: "the store has no signed checkpoint: it was deleted, or the store predates checkpoints", Found: refOrNil(tip)}, nil
	case !ok:
		return tip, nil, nil
	case err != nil:
		// Replaced or damaged: the next append would sign over it.
		return tip, &StoreBreak{Reason: err.Error(), Found: refOrNil(tip)}, nil
	case cp.Sequence > tip.Sequence:
		return tip, &StoreBreak{Reason: fmt.Sprintf("the store's signed checkpoint records %s, newer than its head: attestations were removed and the head rolled back", cp.HeadRef),
			Expected: &cp.HeadRef, Found: s.found(cp.Sequence)}, nil
	case cp.Sequence == tip.Sequence && cp.SHA256 != tip.SHA256:
		return tip, &StoreBreak{Reason: fmt.Sprintf("the store's signed checkpoint records %s, the head another file at that sequence", cp.HeadRef),
			Expected: &cp.HeadRef, Found: refOrNil(tip)}, nil
	}
	return tip, nil, nil
}

// rollForward follows the files after tip, each of which must name the
// one before it.
func (s Store) rollForward(tip HeadRef) (HeadRef, *StoreBreak, error) {
	entries, err := s.Entries()
	if err != nil {
		return HeadRef{}, nil, err
	}
	for _, e := range entries {
		if e.Sequence <= tip.Sequence {
			continue
		}
		ref, chain, err := readLink(e)
		if err != nil || chain.Sequence != e.Sequence || chain != tip.next() {
			why := fmt.Sprintf("%s, written after the store's head, does not chain on %s", filepath.Base(e.Path), tip)
			if err != nil {
				why = fmt.Sprintf("%s, written after the store's head: %v", filepath.Base(e.Path), err)
			}
			return tip, &StoreBreak{Reason: why, Expected: &tip, Found: s.found(e.Sequence)}, nil
		}
		tip = ref
	}
	return tip, nil, nil
}

// readLink reads the chain link inside a store file (not its signature:
// verify checks that).
func readLink(e StoreEntry) (HeadRef, Chain, error) {
	data, err := inputfile.Read(e.Path, inputfile.Attestation)
	if err != nil {
		return HeadRef{}, Chain{}, err
	}
	st, err := DecodeUnverified(data)
	if err != nil {
		return HeadRef{}, Chain{}, err
	}
	return HeadRef{Sequence: e.Sequence, File: filepath.Base(e.Path), SHA256: sha256Hex(data)}, st.Predicate.Chain, nil
}

// digestOf is the sha256 of a store file.
func (s Store) digestOf(name string) (string, error) {
	data, err := inputfile.Read(filepath.Join(s.Dir, name), inputfile.Attestation)
	if err != nil {
		return "", err
	}
	return sha256Hex(data), nil
}

// newestOnDisk is the store file with the highest sequence number.
func (s Store) newestOnDisk() (HeadRef, error) {
	entries, err := s.Entries()
	if err != nil || len(entries) == 0 {
		return HeadRef{}, err
	}
	last := entries[len(entries)-1]
	sum, err := s.digestOf(filepath.Base(last.Path))
	if err != nil {
		return HeadRef{}, fmt.Errorf("read the newest attestation of the store: %w", err)
	}
	return HeadRef{Sequence: last.Sequence, File: filepath.Base(last.Path), SHA256: sum}, nil
}

func refOrNil(r HeadRef) *HeadRef {
	if r.Sequence == 0 {
		return nil
	}
	return &r
}

// found describes what the store holds where the head expected something
// else: the newest file up to seq, for the record of a break.
func (s Store) found(seq uint64) *HeadRef {
	entries, err := s.Entries()
	if err != nil {
		return nil
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if e := entries[i]; e.Sequence <= seq {
			sum, err := s.digestOf(filepath.Base(e.Path))
			if err != nil {
				return nil
			}
			return &HeadRef{Sequence: e.Sequence, File: filepath.Base(e.Path), SHA256: sum}
		}
	}
	return nil
}

func writeHead(lock *os.File, h storeHead) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if len(data) > headSize {
		// Never: ids are bounded by maxIDLength.
		return fmt.Errorf("the store's head record would be %d bytes, more than %d", len(data), headSize)
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
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open store lock: %w", err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("store lock %s is not a regular file", path)
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
