package attest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
		l := Link{File: filepath.Base(p), Digest: r.Digest, Chain: r.Predicate().Chain, HostID: r.Predicate().Host.ID, Key: r.Predicate().Host.KeyFingerprint}
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

// The head file saves a directory listing per append; a head that names a
// file that never made it to disk (a crash between the two writes), or no
// head at all, falls back to the listing. Either way the chain continues
// where the newest file on disk is.
func TestStoreHeadAndItsFallback(t *testing.T) {
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
	setHead := func(h storeHead) {
		f, err := os.OpenFile(filepath.Join(s.Dir, lockFile), os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := writeHead(f, h); err != nil {
			t.Fatal(err)
		}
	}
	// A long id first: the shorter heads after it must replace it whole.
	p1, c1 := appendOne("a-rather-long-container-id-0123456789abcdef")
	_, c2 := appendOne("b")
	if c1.Sequence != 1 || c2.Sequence != 2 || c2.Previous != sha256Hex(mustRead(t, p1)) {
		t.Fatalf("chain %+v %+v", c1, c2)
	}
	var h storeHead
	if err := json.Unmarshal(mustRead(t, filepath.Join(s.Dir, lockFile)), &h); err != nil || h.File != "00000002-b.intoto.jsonl" {
		t.Fatalf("head after a shorter name: %+v, %v", h, err)
	}
	// A crash after the head was written but before the attestation was.
	setHead(storeHead{Sequence: 3, File: "00000003-lost.intoto.jsonl", SHA256: sha256Hex([]byte("lost")), Boot: bootID()})
	p3, c3 := appendOne("c")
	if c3.Sequence != 3 || filepath.Base(p3) != "00000003-c.intoto.jsonl" {
		t.Fatalf("after a lost write: %+v %s", c3, p3)
	}
	if err := os.Truncate(filepath.Join(s.Dir, lockFile), 0); err != nil {
		t.Fatal(err)
	}
	p4, c4 := appendOne("d")
	if c4.Sequence != 4 || c4.Previous != sha256Hex(mustRead(t, p3)) {
		t.Fatalf("without a head: %+v", c4)
	}

	// The head is not synced: after a crash of the machine it can name an
	// older file than the newest durable one. Written in another boot, it
	// is not trusted...
	if bootID() == "" {
		t.Skip("no boot id on this system")
	}
	stale := storeHead{Sequence: 3, File: filepath.Base(p3), SHA256: sha256Hex(mustRead(t, p3)), Boot: "another-boot"}
	setHead(stale)
	p5, c5 := appendOne("e")
	if c5.Sequence != 5 || c5.Previous != sha256Hex(mustRead(t, p4)) {
		t.Fatalf("after a head of another boot: %+v", c5)
	}
	// ...while in this boot the head is what Append believes (which is why
	// it is written before the attestation it names).
	stale.Sequence, stale.File, stale.SHA256, stale.Boot = 5, filepath.Base(p5), sha256Hex(mustRead(t, p5)), bootID()
	setHead(stale)
	if _, c6 := appendOne("f"); c6.Sequence != 6 {
		t.Fatalf("head of this boot not used: %+v", c6)
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
