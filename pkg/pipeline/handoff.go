package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
)

// The end of a container holds nothing up but its removal, and the runtime
// removes it only after poststop answers; the record of a container whose
// process exited before its filters could be read changes nothing about
// the answer either (there is nothing left to refuse). In seccomp-attestd
// these answer once their record is durably handed off: written and synced
// into the store's spool directory, one file per record (a single sync,
// where an attestation in the store costs two and a signature). The daemon
// appends the spooled records to the store right after, in the
// background; whoever appends to the store next (the daemon, or a hook in
// its own process) appends any record a daemon left in the spool when it
// stopped or crashed. Just before a record is written to the store its
// spooled copy is marked (renamed .committing, synced); it is removed once
// the record is durable. A crash in between leaves the mark, and the next
// pass looks for the record in the store (same container, event and time)
// before appending it: a record is never lost, nor appended twice. A
// handed-off record is not copied into the bundle,
// which the runtime removes next: the store holds it.

// SpoolDir is the directory of a store where handed-off records wait for
// the store.
const SpoolDir = "spool"

// spooledRecord is one handed-off record: the predicate as RecordStop or
// RecordFailure makes it, time included, and the bundle as it was when
// handed off (the runtime removes it next).
type spooledRecord struct {
	Predicate attest.Predicate `json:"predicate"`
	Bundle    *attest.Bundle   `json:"bundle,omitempty"`
}

// HandOffRecords makes this process answer poststop, and poststart for a
// process gone before its filters were read, once the record is in the
// store's spool, and append it to the store from the background: for
// seccomp-attestd, which outlives its requests. report receives what
// could not be appended (it stays in the spool).
func HandOffRecords(report func(error)) {
	handOff.mu.Lock()
	handOff.report = report
	handOff.mu.Unlock()
	handOff.enabled.Store(true)
}

// HandingOffRecords reports whether HandOffRecords was called.
func HandingOffRecords() bool { return handOff.enabled.Load() }

// FinishHandOffs waits until the records handed off so far are in their
// stores (or have failed), or ctx ends.
func FinishHandOffs(ctx context.Context) {
	handOff.mu.Lock()
	idle := handOff.idle
	handOff.mu.Unlock()
	if idle == nil {
		return
	}
	select {
	case <-idle:
	case <-ctx.Done():
	}
}

var handOff = &stopHandOff{stores: map[string]*spoolWriter{}}

type stopHandOff struct {
	enabled atomic.Bool
	report  func(error)
	// active counts the appenders running; idle, made when the first
	// starts, is closed when the last ends (nil: none runs). Not a
	// WaitGroup: a retry starts an appender whenever its timer fires,
	// also while FinishHandOffs waits.
	active int
	idle   chan struct{}
	mu     sync.Mutex
	stores map[string]*spoolWriter
}

// spoolWriter appends one store's spooled records, one goroutine at a
// time, with the newest pipeline handed to it (its key is the one
// configured now).
type spoolWriter struct {
	p       *Pipeline
	running bool
	again   bool
	// retry: a try failed and another is due after spoolRetry.
	retry *time.Timer
}

// spoolRetry is how long after a failed append (a full disk, say) the
// spool is appended again, when no hand-off to that store comes sooner:
// a record left there must not wait for the next container to stop.
var spoolRetry = 30 * time.Second

// kick has p's store's spool appended from the background.
func (h *stopHandOff) kick(p *Pipeline) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w, ok := h.stores[p.store.Dir]
	if !ok {
		w = &spoolWriter{}
		h.stores[p.store.Dir] = w
	}
	w.p = p
	if w.running {
		w.again = true
		return
	}
	w.running = true
	if h.active == 0 {
		h.idle = make(chan struct{})
	}
	h.active++
	go func() {
		for {
			h.mu.Lock()
			p, report := w.p, h.report
			w.again = false
			if w.retry != nil {
				w.retry.Stop()
				w.retry = nil
			}
			h.mu.Unlock()
			err := p.AppendSpooled(context.Background())
			if err != nil && report != nil {
				report(err)
			}
			h.mu.Lock()
			if !w.again {
				w.running = false
				if h.active--; h.active == 0 {
					close(h.idle)
					h.idle = nil
				}
				if err != nil && w.retry == nil {
					w.retry = time.AfterFunc(spoolRetry, func() {
						h.mu.Lock()
						p := w.p
						w.retry = nil
						h.mu.Unlock()
						h.kick(p)
					})
				}
				h.mu.Unlock()
				return
			}
			h.mu.Unlock()
		}
	}()
}

// HandOffStop is RecordStop that answers once the record is durably in
// the store's spool (HandOffRecords), returning the spooled file; the
// record reaches the store from the background.
func (p *Pipeline) HandOffStop(ctx context.Context, c Container) (spooled string, err error) {
	c.Event = EventStop
	pred := p.basePredicate(&c)
	pred.Effective = attest.Effective{Threads: []attest.ThreadGroup{}}
	pred.Policy = nil
	return p.handOff(ctx, &c, pred)
}

// HandOffFailure is RecordFailure that answers once the record is durably
// in the store's spool, for a cause that does not change the answer (the
// process exited before its filters were read).
func (p *Pipeline) HandOffFailure(ctx context.Context, c Container, cause error) (spooled string, err error) {
	pred := p.basePredicate(&c)
	pred.Effective = attest.Effective{Threads: []attest.ThreadGroup{}}
	pred.Verdict = &attest.Verdict{Result: attest.ResultError, Reasons: []string{cause.Error()}}
	return p.handOff(ctx, &c, pred)
}

func (p *Pipeline) handOff(ctx context.Context, c *Container, pred *attest.Predicate) (spooled string, err error) {
	// The time of the event, not of the append.
	pred.Time = time.Now().UTC().Format(time.RFC3339)
	rec := spooledRecord{Predicate: *pred}
	if c.Bundle != "" {
		// The bytes only: a record names config.json by its digest, and
		// judges nothing in it.
		b, err := p.rawBundle(c.Bundle)
		switch {
		case err != nil && pred.Event == EventStop && errors.Is(err, fs.ErrNotExist):
			// Recorded without its bundle, as RecordStop does.
			rec.Predicate.Container.Bundle = c.Bundle
		case err != nil:
			return "", err
		default:
			rec.Bundle = b
		}
	}
	if p.signer == nil {
		return "", fmt.Errorf("attestation of %s: no signing key loaded", c.ID)
	}
	if err := commitCheck(ctx)(); err != nil {
		// Whoever asked gave up (it checks in its own process): one
		// record per container.
		return "", fmt.Errorf("record of %s not handed off: %w", c.ID, err)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return "", fmt.Errorf("record of %s: %w", c.ID, err)
	}
	if spooled, err = spool(filepath.Join(p.store.Dir, SpoolDir), data); err != nil {
		return "", fmt.Errorf("record of %s: %w", c.ID, err)
	}
	handOff.kick(p)
	return spooled, nil
}

// rawBundle is the bundle as read for this pipeline already, or read now
// without parsing its profile.
func (p *Pipeline) rawBundle(dir string) (*attest.Bundle, error) {
	if p.lastBundle != nil && p.lastBundle.dir == dir {
		return p.lastBundle.raw, nil
	}
	return attest.ReadBundle(dir)
}

// spool writes data durably as a new file of dir: named by the time, so
// that records are appended in the order they were handed off.
func spool(dir string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	if err := checkSpoolDir(dir); err != nil {
		return "", err
	}
	var suffix [6]byte
	rand.Read(suffix[:])
	path := filepath.Join(dir, fmt.Sprintf("record-%020d-%s.json", time.Now().UnixNano(), hex.EncodeToString(suffix[:])))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = unix.Fdatasync(int(f.Fd()))
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		// The new name is durable with its directory.
		werr = syncDir(dir)
	}
	if werr != nil {
		os.Remove(path)
		return "", fmt.Errorf("spool %s: %w", path, werr)
	}
	return path, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// maxSpooled bounds a spooled record: a predicate and a config.json
// (at most 4 MiB, docs/limits.md) in JSON.
const maxSpooled = 16 << 20

// AppendSpooled appends the records waiting in the store's spool to
// the store, oldest first, each signed with p's key and removed from the
// spool once appended. A record another process is appending is left to
// it. It stops at the first record the store refuses (it stays for the
// next try), and when ctx ends.
func (p *Pipeline) AppendSpooled(ctx context.Context) error {
	return p.appendSpooledUntil(ctx, time.Time{})
}

// AppendSpooledFor is AppendSpooled that begins no record once d has
// passed: a hook in its own process, which the runtime waits for, takes
// a bounded share of what a crashed daemon left (a record costs a
// signature and several syncs) and leaves the rest to the next append.
func (p *Pipeline) AppendSpooledFor(ctx context.Context, d time.Duration) error {
	return p.appendSpooledUntil(ctx, time.Now().Add(d))
}

func (p *Pipeline) appendSpooledUntil(ctx context.Context, until time.Time) error {
	dir := filepath.Join(p.store.Dir, SpoolDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := checkSpoolDir(dir); err != nil {
		// What is there may have been put there by anyone: not signed.
		return err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && isSpooledName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	var setAside []error
	for _, name := range names {
		if ctx.Err() != nil || (!until.IsZero() && !time.Now().Before(until)) {
			return errors.Join(setAside...)
		}
		if err := p.appendSpooled(ctx, filepath.Join(dir, name)); err != nil {
			var aside *setAsideError
			if errors.As(err, &aside) {
				// Out of the way now: the records after it go on.
				setAside = append(setAside, err)
				continue
			}
			return errors.Join(append(setAside, err)...)
		}
	}
	return errors.Join(setAside...)
}

// committingSuffix marks a spooled copy whose record's append began: it
// may be in the store already (AppendSpooled looks before appending it).
const committingSuffix = ".committing"

// isSpooledName tells a spooled record's file.
func isSpooledName(name string) bool {
	return strings.HasPrefix(name, "record-") && (strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".json"+committingSuffix))
}

// inStore reports whether the store holds pred already: an attestation
// of the same container (the store's file names carry its id) recording
// the same event at the same time.
func (p *Pipeline) inStore(pred *attest.Predicate) bool {
	id := pred.Container.ID
	if id == "" || strings.ContainsAny(id, "*?[\\/") {
		return false
	}
	files, _ := filepath.Glob(filepath.Join(p.store.Dir, "*-"+id+".intoto.jsonl"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		st, err := attest.DecodeUnverified(data)
		if err != nil {
			continue
		}
		if got := st.Predicate; got.Container.ID == id && got.Event == pred.Event && got.Time == pred.Time {
			return true
		}
	}
	return false
}

// setAsideError is a spooled file that is no record to append, moved
// aside (.bad).
type setAsideError struct{ err error }

func (e *setAsideError) Error() string { return e.err.Error() }
func (e *setAsideError) Unwrap() error { return e.err }

func (p *Pipeline) appendSpooled(ctx context.Context, path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // appended by another process meanwhile
	}
	if err != nil {
		return fmt.Errorf("spooled record: %w", err)
	}
	defer f.Close()
	// Held until the record is appended and removed: a second process
	// appending the spool skips it, and one that opened it before finds
	// it removed.
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Nlink == 0 {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSpooled+1))
	var rec spooledRecord
	if err == nil && len(data) > maxSpooled {
		err = fmt.Errorf("larger than %d bytes", maxSpooled)
	}
	if err == nil {
		err = json.Unmarshal(data, &rec)
	}
	if err == nil {
		err = handedOffKind(&rec.Predicate)
	}
	if err != nil {
		// Not a record this program wrote: kept aside for a person, out
		// of the way of the records after it.
		if rerr := os.Rename(path, path+".bad"); rerr != nil {
			return fmt.Errorf("spooled record %s (could not be moved aside: %v): %w", path, rerr, err)
		}
		return &setAsideError{fmt.Errorf("spooled record %s (moved to %s.bad): %w", path, filepath.Base(path), err)}
	}
	if strings.HasSuffix(path, committingSuffix) && p.inStore(&rec.Predicate) {
		// Appended by a process that stopped before it removed this
		// copy.
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("record of %s in the store, but its spooled copy stays: %w", rec.Predicate.Container.ID, err)
		}
		return nil
	}
	// Under the store's lock, just before the write, the copy is marked
	// as being appended (a crash from there on leaves it marked, and the
	// next pass looks for it in the store before appending it); it goes
	// as soon as the record is durably in the store, before the
	// checkpoint is signed and written.
	var removeErr error
	removed := false
	current := path
	commit := func() error {
		if strings.HasSuffix(current, committingSuffix) {
			return nil
		}
		if err := os.Rename(current, current+committingSuffix); err != nil {
			return fmt.Errorf("mark the spooled copy: %w", err)
		}
		current += committingSuffix
		return syncDir(filepath.Dir(current))
	}
	res, err := attest.Attest(ctx, attest.Request{Signer: p.signer, Store: p.store, Predicate: rec.Predicate, Bundle: rec.Bundle, NoBundleCopy: true,
		Commit: commit, Committed: func() { removed, removeErr = true, os.Remove(current) }})
	if err != nil {
		return fmt.Errorf("append the record of %s handed off in %s: %w", rec.Predicate.Container.ID, path, err)
	}
	if !removed {
		removeErr = os.Remove(current)
	}
	if removeErr != nil {
		return fmt.Errorf("record of %s appended (%s), but its spooled copy stays: %w", rec.Predicate.Container.ID, res.StorePath, removeErr)
	}
	o := &Outcome{Attestation: res}
	p.ship(ctx, o)
	if len(o.Warnings) > 0 {
		return errors.New(strings.Join(o.Warnings, "; "))
	}
	if res.CheckpointErr != nil {
		return res.CheckpointErr
	}
	return nil
}

// checkSpoolDir refuses a spool whose records this process did not
// necessarily write: whatever JSON is there gets signed with the host's
// key.
func checkSpoolDir(dir string) error {
	if err := checkPrivateDir(dir, "spool"); err != nil {
		return fmt.Errorf("%w (records there are not necessarily this program's)", err)
	}
	return nil
}

// checkPrivateDir refuses a directory of the store whose files this
// process did not necessarily write (the spool, the verdict cache): it
// must be a directory of its own (not a symbolic link), owned by this
// process's user, and writable by nobody else.
func checkPrivateDir(dir, what string) error {
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return fmt.Errorf("%s %s is a symbolic link: refused", what, dir)
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("%s %s is not a directory: refused", what, dir)
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s %s belongs to uid %d, not %d: refused", what, dir, st.Uid, os.Geteuid())
	case st.Mode&0o022 != 0:
		return fmt.Errorf("%s %s has mode %04o, writable by others: refused", what, dir, st.Mode&0o7777)
	}
	return nil
}

// handedOffKind refuses a spooled record of a kind that is never handed
// off: only stop records and the error records of a process gone before
// its filters were read wait in the spool, so a start record that passed
// (a forged one) is never signed from there.
func handedOffKind(pred *attest.Predicate) error {
	threads := len(pred.Effective.Threads)
	switch {
	case pred.Event == EventStop && threads == 0 && pred.Verdict == nil:
		return nil
	case pred.Event != EventStop && threads == 0 && pred.Verdict != nil && pred.Verdict.Result == attest.ResultError:
		return nil
	}
	verdict := "none"
	if pred.Verdict != nil {
		verdict = pred.Verdict.Result
	}
	return fmt.Errorf("not a record that is handed off (event %q, verdict %s, %d thread groups): only stop records and errors are", pred.Event, verdict, threads)
}

// SpoolHolds reports whether the spool of the store at dir holds records
// waiting for the store.
func SpoolHolds(dir string) bool {
	entries, err := os.ReadDir(filepath.Join(dir, SpoolDir))
	if err != nil {
		return false
	}
	for _, e := range entries {
		if isSpooledName(e.Name()) {
			return true
		}
	}
	return false
}

// AppendSpooledInBackground has the records waiting in p's store's spool
// appended from the background, as after a hand-off (HandOffRecords): a
// daemon that starts appends what the one before it left, rather than
// waiting for the next container to stop.
func (p *Pipeline) AppendSpooledInBackground() { handOff.kick(p) }
