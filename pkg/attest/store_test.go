package attest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
)

// chainOf verifies the files and returns their links, failing the test on
// any verification problem.
func chainOf(t *testing.T, v *Verifier, paths []string, fromStore bool) []Link {
	t.Helper()
	var links []Link
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r := Verify(context.Background(), p, data, v, VerifyOptions{})
		if !r.Valid() {
			t.Fatalf("%s: %v", p, r.Problems)
		}
		l := Link{File: filepath.Base(p), Digest: r.Digest, Chain: r.Predicate().Chain, HostID: r.Predicate().Host.ID, Key: r.Predicate().Host.KeyFingerprint, Break: r.Predicate().Break}
		if fromStore {
			m := storeName.FindStringSubmatch(filepath.Base(p))
			l.NameSequence, _ = strconv.ParseUint(m[1], 10, 64)
		}
		links = append(links, l)
	}
	return links
}

func makeStore(t *testing.T, s *Signer, n int) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i := range n {
		paths = append(paths, attestOne(t, testRequest(s, dir, nil, fmt.Sprintf("c%d", i))).StorePath)
	}
	return dir, paths
}

func wantProblem(t *testing.T, probs []string, sub string) {
	t.Helper()
	if !strings.Contains(strings.Join(probs, "\n"), sub) {
		t.Errorf("problems %q do not mention %q", probs, sub)
	}
}

func TestChain(t *testing.T) {
	s, v, _ := testKey(t, KeyECDSAP256)
	dir, paths := makeStore(t, s, 4)
	if want := filepath.Join(dir, "00000004-c3.intoto.jsonl"); paths[3] != want {
		t.Fatalf("fourth file is %s, want %s", paths[3], want)
	}
	links := chainOf(t, v, paths, true)
	if probs := CheckChain(links, ChainOptions{Complete: true}); len(probs) != 0 {
		t.Fatalf("intact chain: %q", probs)
	}

	t.Run("gap", func(t *testing.T) {
		l := append(append([]Link{}, links[:1]...), links[2:]...)
		wantProblem(t, CheckChain(l, ChainOptions{}), "sequence 2 is missing")
	})
	t.Run("first deleted", func(t *testing.T) {
		wantProblem(t, CheckChain(links[1:], ChainOptions{Complete: true}), "starts at sequence 2")
		if probs := CheckChain(links[1:], ChainOptions{}); len(probs) != 0 {
			t.Errorf("a run of a chain: %q", probs)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		l := append(append([]Link{}, links...), links[3])
		l[4].File = "copy"
		wantProblem(t, CheckChain(l, ChainOptions{}), "same attestation given twice")
	})
	t.Run("reordered", func(t *testing.T) {
		l := []Link{links[0], links[2], links[1], links[3]}
		wantProblem(t, CheckChain(l, ChainOptions{}), "out of order")
	})
	t.Run("renamed", func(t *testing.T) {
		l := append([]Link{}, links...)
		l[1].NameSequence, l[2].NameSequence = 3, 2
		wantProblem(t, CheckChain(l, ChainOptions{}), "file name says sequence 3")
	})
	t.Run("replaced", func(t *testing.T) {
		// A second, validly signed sequence 2 that is not the one
		// sequence 3 was chained to.
		d2, _ := makeStore(t, s, 1)
		other := attestOne(t, testRequest(s, d2, nil, "evil")).StorePath
		l := append([]Link{}, links...)
		l[1] = chainOf(t, v, []string{other}, true)[0]
		wantProblem(t, CheckChain(l, ChainOptions{}), "replaced or altered")
	})
	t.Run("other host", func(t *testing.T) {
		l := append([]Link{}, links...)
		l[2].HostID = "elsewhere"
		wantProblem(t, CheckChain(l, ChainOptions{}), "one host's store")
	})
}

// TestAppendConcurrent runs appends at the same time: the lock must give
// each a distinct sequence number and an intact chain.
func TestAppendConcurrent(t *testing.T) {
	s, v, _ := testKey(t, KeyEd25519)
	dir := t.TempDir()
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := Attest(context.Background(), testRequest(s, dir, nil, fmt.Sprintf("c%d", i)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	entries, err := Store{Dir: dir}.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range entries {
		paths = append(paths, e.Path)
	}
	if len(paths) != n {
		t.Fatalf("%d files, want %d", len(paths), n)
	}
	if probs := CheckChain(chainOf(t, v, paths, true), ChainOptions{Complete: true}); len(probs) != 0 {
		t.Fatalf("concurrent appends broke the chain: %q", probs)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestAtomicWriteFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.intoto.jsonl")
	boom := errors.New("disk on fire")
	err := writeAtomic(path, 0o644, true, func(w io.Writer) error {
		w.Write([]byte(`{"payloadType":`))
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v: want the write error naming %s", err, path)
	}
	if names := listDir(t, dir); len(names) != 0 {
		t.Fatalf("failed write left %v", names)
	}

	// A failed replacement keeps the old file whole.
	if err := WriteFileAtomic(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeAtomic(path, 0o644, true, func(w io.Writer) error { w.Write([]byte("new")); return boom })
	if got, _ := os.ReadFile(path); string(got) != "old\n" {
		t.Errorf("after a failed replacement the file holds %q", got)
	}
	if names := listDir(t, dir); len(names) != 1 {
		t.Errorf("failed replacement left %v", names)
	}
}

// mountTmpfs mounts a tmpfs on a new directory, or skips the test when
// that is not allowed (not root).
func mountTmpfs(t *testing.T, flags uintptr, opts string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", flags, opts); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

func TestStoreReadOnly(t *testing.T) {
	s, _, _ := testKey(t, KeyECDSAP256)
	// root ignores file modes, so only a read-only mount really refuses.
	dir := mountTmpfs(t, unix.MS_RDONLY, "")
	_, err := Attest(context.Background(), testRequest(s, dir, nil, "c"))
	if err == nil || !strings.Contains(err.Error(), dir) || !errors.Is(err, unix.EROFS) {
		t.Fatalf("read-only store: error %v, want EROFS naming %s", err, dir)
	}
}

func TestStoreFull(t *testing.T) {
	dir := mountTmpfs(t, 0, "size=16k")
	path := filepath.Join(dir, "00000001-c.intoto.jsonl")
	err := WriteFileAtomic(path, make([]byte, 1<<20), 0o644)
	if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("full store: error %v, want ENOSPC naming %s", err, path)
	}
	if names := listDir(t, dir); len(names) != 0 {
		t.Fatalf("full store: left %v", names)
	}
}

func TestUnsafeContainerID(t *testing.T) {
	s, _, _ := testKey(t, KeyECDSAP256)
	for _, id := range []string{"", "../x", "a/b", ".hidden"} {
		if _, err := Attest(context.Background(), testRequest(s, t.TempDir(), nil, id)); err == nil {
			t.Errorf("container id %q accepted as a file name", id)
		}
	}
}

// The head saves a directory listing per append and records the write
// under way: a crash between recording and writing (the file never made
// it) or between writing and recording (it did) continues the chain where
// the newest file is, without a break.
func TestStoreHeadRecoversInterruptedWrites(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	appendOne := func(id string) (string, Chain) {
		var got Chain
		path, err := s.Append(id, func(c Chain) ([]byte, error) {
			got = c
			return []byte(`{"n":"` + id + `"}`), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return path, got
	}
	// A long id first: the shorter heads after it must replace it whole.
	p1, c1 := appendOne("a-rather-long-container-id-0123456789abcdef")
	p2, c2 := appendOne("b")
	if c1.Sequence != 1 || c2.Sequence != 2 || c2.Previous != sha256Hex(mustRead(t, p1)) {
		t.Fatalf("chain %+v %+v", c1, c2)
	}
	h := readTestHead(t, s)
	if h.File != "00000002-b.intoto.jsonl" || h.Pending != nil {
		t.Fatalf("head after a shorter name: %+v", h)
	}
	// A crash after the head recorded the write, before the file was there.
	h.Pending = &HeadRef{Sequence: 3, File: "00000003-lost.intoto.jsonl", SHA256: sha256Hex([]byte("lost"))}
	setTestHead(t, s, h)
	p3, c3 := appendOne("c")
	if c3.Sequence != 3 || c3.Previous != sha256Hex(mustRead(t, p2)) || filepath.Base(p3) != "00000003-c.intoto.jsonl" {
		t.Fatalf("after a lost write: %+v %s", c3, p3)
	}
	// A crash after the file was written, before the head named it.
	h = readTestHead(t, s)
	data := []byte(`{"n":"d"}`)
	if err := os.WriteFile(filepath.Join(s.Dir, "00000004-d.intoto.jsonl"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	h.Pending = &HeadRef{Sequence: 4, File: "00000004-d.intoto.jsonl", SHA256: sha256Hex(data)}
	setTestHead(t, s, h)
	if _, c5 := appendOne("e"); c5.Sequence != 5 || c5.Previous != sha256Hex(data) {
		t.Fatalf("after a write the head did not record: %+v", c5)
	}
	if names := listDir(t, s.Dir); len(names) != 6 { // 5 attestations and .lock
		t.Fatalf("store holds %q", names)
	}
}

// Deleting or altering what the head recorded never lets the chain
// continue silently, and never reuses a sequence number: Append records
// the break (signed), or refuses by configuration, or without a key to
// sign the record fails.
func TestStoreBreaks(t *testing.T) {
	signer, v, _ := testKey(t, KeyECDSAP256)
	type step func(t *testing.T, dir string, paths []string)
	remove := func(which ...int) step {
		return func(t *testing.T, dir string, paths []string) {
			for _, i := range which {
				if err := os.Remove(paths[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, tc := range []struct {
		name       string
		damage     step
		wantReason string
		// wantSeq is the break record's sequence; the expected and found
		// sequences it names follow.
		wantSeq, wantExpected, wantFound uint64
		// byCheckpoint: only a store with the key sees it (its signed
		// checkpoint is what disagrees).
		byCheckpoint bool
	}{
		{"newest deleted", remove(3), "is missing", 5, 4, 3, false},
		{"two newest deleted", remove(3, 2), "is missing", 5, 4, 2, false},
		{"every file deleted", remove(0, 1, 2, 3), "is missing", 5, 4, 0, false},
		{"newest altered", func(t *testing.T, dir string, paths []string) {
			if err := os.WriteFile(paths[3], []byte("{}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "was altered", 5, 4, 4, false},
		{"head removed", func(t *testing.T, dir string, paths []string) {
			if err := os.Remove(filepath.Join(dir, lockFile)); err != nil {
				t.Fatal(err)
			}
		}, "no head", 5, 0, 4, false},
		{"head overwritten", func(t *testing.T, dir string, paths []string) {
			if err := os.WriteFile(filepath.Join(dir, lockFile), []byte("garbage"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "not a head record", 5, 0, 4, false},
		{"newest deleted, head rolled back by hand", func(t *testing.T, dir string, paths []string) {
			// An intruder who knows the head's format, but not the key:
			// the store's own signed checkpoint is newer than the head.
			remove(3)(t, dir, paths)
			setTestHead(t, Store{Dir: dir}, storeHead{HeadRef: HeadRef{Sequence: 3, File: filepath.Base(paths[2]), SHA256: sha256Hex(mustRead(t, paths[2]))}, Boot: bootID()})
		}, "newer than its head", 5, 4, 3, true},
		{"checkpoint replaced", func(t *testing.T, dir string, paths []string) {
			if err := os.WriteFile(filepath.Join(dir, CheckpointFile), mustRead(t, paths[0]), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "not a checkpoint", 5, 0, 4, true},
		{"newest deleted, head rolled back and checkpoint deleted", func(t *testing.T, dir string, paths []string) {
			remove(3)(t, dir, paths)
			if err := os.Remove(filepath.Join(dir, CheckpointFile)); err != nil {
				t.Fatal(err)
			}
			setTestHead(t, Store{Dir: dir}, storeHead{HeadRef: HeadRef{Sequence: 3, File: filepath.Base(paths[2]), SHA256: sha256Hex(mustRead(t, paths[2]))}, Boot: bootID()})
		}, "no signed checkpoint", 4, 0, 3, true},
		{"everything deleted but the checkpoint", func(t *testing.T, dir string, paths []string) {
			remove(0, 1, 2, 3)(t, dir, paths)
			if err := os.Remove(filepath.Join(dir, lockFile)); err != nil {
				t.Fatal(err)
			}
		}, "newer than its head", 5, 4, 0, true},
		{"head unreadable and every file deleted", func(t *testing.T, dir string, paths []string) {
			remove(0, 1, 2, 3)(t, dir, paths)
			if err := os.WriteFile(filepath.Join(dir, lockFile), []byte("garbage"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "not a head record", 5, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, paths := makeStore(t, signer, 4)
			tc.damage(t, dir, paths)
			next := attestOne(t, testRequest(signer, dir, nil, "after")).StorePath
			entries, err := Store{Dir: dir}.Entries()
			if err != nil {
				t.Fatal(err)
			}
			var links []Link
			for _, e := range entries {
				// An altered file fails verification; the chain is judged
				// on the others, as verify does.
				if r := Verify(context.Background(), e.Path, mustRead(t, e.Path), v, VerifyOptions{}); r.Valid() {
					links = append(links, chainOf(t, v, []string{e.Path}, true)...)
				}
			}
			last := links[len(links)-1]
			if last.File != filepath.Base(next) {
				t.Fatalf("newest file %s, want the new attestation %s", last.File, next)
			}
			if tc.wantReason == "" {
				if len(links) > 1 && links[len(links)-2].Break != nil {
					t.Fatalf("a break was recorded: %+v", links[len(links)-2].Break)
				}
				if last.Chain.Sequence != tc.wantSeq {
					t.Fatalf("sequence %d, want %d", last.Chain.Sequence, tc.wantSeq)
				}
				return
			}
			brk := links[len(links)-2]
			if brk.Break == nil || !strings.Contains(brk.Break.Reason, tc.wantReason) {
				t.Fatalf("no break record before the new attestation, or not for %q: %+v", tc.wantReason, brk)
			}
			if brk.Chain.Sequence != tc.wantSeq || last.Chain.Sequence != tc.wantSeq+1 || last.Chain.Previous != brk.Digest {
				t.Fatalf("break at %d then %d (previous %.12s), want %d then %d after it", brk.Chain.Sequence, last.Chain.Sequence, last.Chain.Previous, tc.wantSeq, tc.wantSeq+1)
			}
			var exp, found uint64
			if brk.Break.Expected != nil {
				exp = brk.Break.Expected.Sequence
			}
			if brk.Break.Found != nil {
				found = brk.Break.Found.Sequence
			}
			if exp != tc.wantExpected || found != tc.wantFound {
				t.Fatalf("break expected %d found %d, want %d and %d", exp, found, tc.wantExpected, tc.wantFound)
			}
			// verify sees the break in the chain, however whole it looks.
			probs := CheckChain(links, ChainOptions{Complete: true})
			wantProblem(t, probs, "records a break of the store")

			// With a policy of refusing, or without a key, nothing more
			// is appended.
			dir, paths = makeStore(t, signer, 4)
			tc.damage(t, dir, paths)
			before := listDir(t, dir)
			refusing := testRequest(signer, dir, nil, "refused")
			refusing.Store.OnBreak = BreakRefuse
			if _, err := Attest(context.Background(), refusing); err == nil || !strings.Contains(err.Error(), "refusing to append") {
				t.Fatalf("refusing store appended: %v", err)
			}
			if tc.byCheckpoint {
				return
			}
			if _, err := (Store{Dir: dir}).Append("unsigned", func(Chain) ([]byte, error) { return []byte("x"), nil }); err == nil || !strings.Contains(err.Error(), "no signing key") {
				t.Fatalf("store without a signer appended after a break: %v", err)
			}
			notLock := func(n string) bool { return n == lockFile }
			if after := listDir(t, dir); !slices.Equal(slices.DeleteFunc(after, notLock), slices.DeleteFunc(before, notLock)) {
				t.Fatalf("store changed from %q to %q", before, after)
			}
		})
	}
}

func readTestHead(t *testing.T, s Store) storeHead {
	t.Helper()
	f, err := os.Open(filepath.Join(s.Dir, lockFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, ok, err := readHead(f)
	if err != nil || !ok {
		t.Fatalf("head: %v %v", ok, err)
	}
	return h
}

func setTestHead(t *testing.T, s Store, h storeHead) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(s.Dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := writeHead(f, h); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Append writes nothing that verify, report and the next Append would
// refuse to read: an attestation beyond the cap leaves the store as it was.
func TestAppendRefusesAnAttestationTooLargeToRead(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	_, err := s.Append("big", func(Chain) ([]byte, error) {
		return make([]byte, inputfile.Attestation.Max+1), nil
	})
	if err == nil || !strings.Contains(err.Error(), "exceeds the limit of 16 MiB") {
		t.Fatalf("Append of %d bytes: %v", inputfile.Attestation.Max+1, err)
	}
	path, err := s.Append("small", func(c Chain) ([]byte, error) {
		if c.Sequence != 1 {
			t.Errorf("after a refused append the chain continues at %d", c.Sequence)
		}
		return []byte(`{}`), nil
	})
	if err != nil || filepath.Base(path) != "00000001-small.intoto.jsonl" {
		t.Fatalf("next Append: %s, %v", path, err)
	}
}

// After a crash of the machine the head (not synced) can be older than
// the durable attestations: written in another boot, Append follows the
// files after it, which must chain on it.
func TestStoreHeadOfAnotherBoot(t *testing.T) {
	if bootID() == "" {
		t.Skip("no boot id on this system")
	}
	signer, v, _ := testKey(t, KeyECDSAP256)
	dir, paths := makeStore(t, signer, 4)
	stale := storeHead{HeadRef: HeadRef{Sequence: 2, File: filepath.Base(paths[1]), SHA256: sha256Hex(mustRead(t, paths[1]))}, Boot: "another-boot"}
	setTestHead(t, Store{Dir: dir}, stale)
	next := attestOne(t, testRequest(signer, dir, nil, "next")).StorePath
	if l := chainOf(t, v, []string{next}, true)[0]; l.Chain.Sequence != 5 || l.Chain.Previous != sha256Hex(mustRead(t, paths[3])) {
		t.Fatalf("after a stale head: %+v", l.Chain)
	}

	// A file after the head that does not chain on it is a break.
	dir, paths = makeStore(t, signer, 4)
	stale.SHA256 = sha256Hex(mustRead(t, paths[1]))
	setTestHead(t, Store{Dir: dir}, stale)
	other, _ := makeStore(t, signer, 3)
	if err := os.Rename(filepath.Join(other, "00000003-c2.intoto.jsonl"), paths[2]); err != nil {
		t.Fatal(err)
	}
	attestOne(t, testRequest(signer, dir, nil, "next"))
	entries, _ := Store{Dir: dir}.Entries()
	brk := chainOf(t, v, []string{entries[len(entries)-2].Path}, true)[0]
	if brk.Break == nil || !strings.Contains(brk.Break.Reason, "does not chain on") {
		t.Fatalf("no break for a foreign file after the head: %+v", brk)
	}
}

// Every append leaves a signed checkpoint of the store's head, which
// VerifyCheckpoint accepts only with the host key and CheckHead uses to
// tell a store cut short or rewritten since.
func TestCheckpoint(t *testing.T) {
	signer, v, _ := testKey(t, KeyECDSAP256)
	dir, paths := makeStore(t, signer, 3)
	data := mustRead(t, filepath.Join(dir, CheckpointFile))
	cp, err := VerifyCheckpoint(context.Background(), "cp", data, v)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Sequence != 3 || cp.SHA256 != sha256Hex(mustRead(t, paths[2])) || cp.File != filepath.Base(paths[2]) || cp.Store != dir {
		t.Fatalf("checkpoint %+v", cp)
	}
	_, otherV, _ := testKey(t, KeyECDSAP256)
	if _, err := VerifyCheckpoint(context.Background(), "cp", data, otherV); err == nil {
		t.Fatal("checkpoint verified with another key")
	}
	tampered := strings.Replace(string(data), `"payload":"`, `"payload":"e`, 1)
	if _, err := VerifyCheckpoint(context.Background(), "cp", []byte(tampered), v); err == nil {
		t.Fatal("tampered checkpoint verified")
	}
	// An attestation is not a checkpoint.
	if _, err := VerifyCheckpoint(context.Background(), "att", mustRead(t, paths[0]), v); err == nil || !strings.Contains(err.Error(), "not a checkpoint") {
		t.Fatalf("attestation taken for a checkpoint: %v", err)
	}

	links := chainOf(t, v, paths, true)
	if probs := CheckHead(links, cp.HeadRef, "the checkpoint"); len(probs) != 0 {
		t.Fatalf("intact store: %q", probs)
	}
	wantProblem(t, CheckHead(links[:2], cp.HeadRef, "the checkpoint"), "truncated since")
	forked, fpaths := makeStore(t, signer, 3)
	_ = forked
	wantProblem(t, CheckHead(chainOf(t, v, fpaths, true), cp.HeadRef, "the checkpoint"), "rewritten or forked")
	// More appends after the checkpoint keep it valid.
	more := append(paths, attestOne(t, testRequest(signer, dir, nil, "later")).StorePath)
	if probs := CheckHead(chainOf(t, v, more, true), cp.HeadRef, "the checkpoint"); len(probs) != 0 {
		t.Fatalf("store grown after the checkpoint: %q", probs)
	}
	if head, ok, err := (Store{Dir: dir}).Head(); err != nil || !ok || head.Sequence != 4 {
		t.Fatalf("store head %+v %v %v", head, ok, err)
	}
}
