package attest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
)

// CheckpointPredicateType identifies a store's signed checkpoint: its head
// (sequence and digest of the newest attestation) at a time, signed by
// the host key. Like Certificate Transparency's signed tree heads, a
// checkpoint kept off the host (a witness, a fleet's collector) proves
// later that the store was not cut short, rewritten or forked since.
const CheckpointPredicateType = "https://seccomp-attest.dev/checkpoint/v1"

// CheckpointFile is the store's newest checkpoint, replaced at every
// append.
const CheckpointFile = "checkpoint.intoto.jsonl"

// Checkpoint is the predicate of a checkpoint statement, whose one subject
// is the newest attestation file (name and sha256).
type Checkpoint struct {
	// Store is the store's directory on the host.
	Store string `json:"store"`
	Host  Host   `json:"host"`
	HeadRef
	// Time is when the checkpoint was made, RFC 3339 in UTC.
	Time string `json:"time"`
}

// checkpointStatement is an in-toto Statement v1 with a checkpoint.
type checkpointStatement struct {
	Type          string      `json:"_type"`
	Subject       []Subject   `json:"subject"`
	PredicateType string      `json:"predicateType"`
	Predicate     *Checkpoint `json:"predicate"`
}

// writeCheckpoint signs the store's head after ref and replaces the
// checkpoint file with it. Not synced: after a crash of the machine the
// checkpoint may be older than the newest attestation, never newer, and
// an older checkpoint still proves everything up to it.
func (s Store) writeCheckpoint(ref HeadRef) ([]byte, error) {
	if s.Signer == nil {
		return nil, nil
	}
	cp := &Checkpoint{Store: s.Dir, Host: s.Host, HeadRef: ref, Time: time.Now().UTC().Format(time.RFC3339)}
	st := checkpointStatement{Type: StatementType, PredicateType: CheckpointPredicateType, Predicate: cp,
		Subject: []Subject{{Name: ref.File, Digest: map[string]string{"sha256": ref.SHA256}}}}
	payload, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	data, err := signPayload(context.Background(), payload, s.Signer)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if err := ReplaceFile(filepath.Join(s.Dir, CheckpointFile), data, 0o644); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return data, nil
}

// VerifyCheckpoint checks a checkpoint file's bytes: the DSSE signature by
// v, the statement and predicate types, that its one subject is the
// attestation it names, and that it names v's key. It returns the
// checkpoint, or an error that says what is wrong.
func VerifyCheckpoint(ctx context.Context, file string, data []byte, v *Verifier) (*Checkpoint, error) {
	r := &Report{File: file}
	payload, ok := verifyEnvelope(ctx, r, data, v)
	if !ok {
		return nil, fmt.Errorf("checkpoint %s: %s", file, r.Problems[0])
	}
	var st checkpointStatement
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("checkpoint %s: payload is not a JSON statement: %v", file, err)
	}
	if st.Type != StatementType || st.PredicateType != CheckpointPredicateType || st.Predicate == nil {
		return nil, fmt.Errorf("checkpoint %s: not a checkpoint statement (type %q, predicate type %q)", file, st.Type, st.PredicateType)
	}
	if err := validateInToto(payload); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %v", file, err)
	}
	cp := st.Predicate
	if cp.Sequence == 0 || !hexDigest.MatchString(cp.SHA256) || !storeName.MatchString(cp.File) {
		return nil, fmt.Errorf("checkpoint %s: names no attestation (sequence %d, file %q)", file, cp.Sequence, cp.File)
	}
	if len(st.Subject) != 1 || st.Subject[0].Name != cp.File || st.Subject[0].Digest["sha256"] != cp.SHA256 {
		return nil, fmt.Errorf("checkpoint %s: its subject is not the attestation it names (%s)", file, cp.HeadRef)
	}
	if err := v.checkFingerprint(cp.Host.KeyFingerprint); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", file, err)
	}
	return cp, nil
}

// Head is what the store itself says its newest attestation is: its head
// record (with a write that completed), for verify to compare the chain
// with. ok is false when the store has no head.
func (s Store) Head() (ref HeadRef, ok bool, err error) {
	// Not following a link, not waiting on a FIFO: a store someone
	// tampered with must not hang verify.
	f, err := os.OpenFile(filepath.Join(s.Dir, lockFile), os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return HeadRef{}, false, nil
	}
	if err != nil {
		return HeadRef{}, false, fmt.Errorf("open the store's head: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return HeadRef{}, false, fmt.Errorf("the store's head %s is not a regular file", f.Name())
	}
	h, ok, err := readHead(f)
	if err != nil || !ok {
		return HeadRef{}, ok, err
	}
	if p := h.Pending; p != nil {
		if sum, err := s.digestOf(p.File); err == nil && sum == p.SHA256 {
			return *p, true, nil
		}
	}
	return h.HeadRef, true, nil
}

// ReadCheckpoint reads and verifies the store's own checkpoint; ok is
// false when it has none.
func (s Store) ReadCheckpoint(ctx context.Context, v *Verifier) (cp *Checkpoint, ok bool, err error) {
	path := filepath.Join(s.Dir, CheckpointFile)
	data, err := inputfile.Read(path, inputfile.Attestation)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	cp, err = VerifyCheckpoint(ctx, path, data, v)
	return cp, true, err
}

// CheckHead checks that links, a whole store in chain order, still hold
// the attestation ref names (what a checkpoint or the store's head
// recorded, described by what): a store that ends before it was cut
// short, one whose attestation at that sequence differs was rewritten or
// forked. Links after it are judged by CheckChain.
func CheckHead(links []Link, ref HeadRef, what string) []string {
	var newest uint64
	for _, l := range links {
		newest = max(newest, l.Chain.Sequence)
		if l.Chain.Sequence != ref.Sequence {
			continue
		}
		if l.Digest != ref.SHA256 {
			return []string{fmt.Sprintf("%s records %s, but the store's attestation %d is %s (sha256 %.12s…): rewritten or forked since",
				what, ref, ref.Sequence, l.File, l.Digest)}
		}
		return nil
	}
	if newest < ref.Sequence {
		return []string{fmt.Sprintf("%s records %s, but the store ends at sequence %d: truncated since", what, ref, newest)}
	}
	return []string{fmt.Sprintf("%s records %s, which the store no longer holds", what, ref)}
}

// StoreHeads is what a store says of its own newest attestation: its head
// and its signed checkpoint, read before its files are listed (a store
// that grows meanwhile only holds more than they name).
type StoreHeads struct {
	dir           string
	head          HeadRef
	hasHead       bool
	headErr       error
	own           *Checkpoint
	hasCheckpoint bool
	checkpointErr error
}

// ReadHeads reads the store's head and its checkpoint (verified with v).
func (s Store) ReadHeads(ctx context.Context, v *Verifier) StoreHeads {
	h := StoreHeads{dir: s.Dir}
	h.head, h.hasHead, h.headErr = s.Head()
	h.own, h.hasCheckpoint, h.checkpointErr = s.ReadCheckpoint(ctx, v)
	return h
}

// Check compares links, the whole store in chain order as listed after
// ReadHeads, with the head, the checkpoint and external, a checkpoint kept
// elsewhere (nil: none). It returns one message per problem: a store cut
// short, rewritten or forked since.
func (h StoreHeads) Check(links []Link, external *Checkpoint) []string {
	var probs []string
	if len(links) == 0 {
		probs = append(probs, fmt.Sprintf("store %s holds no valid attestation", h.dir))
	}
	switch {
	case h.headErr != nil:
		probs = append(probs, h.headErr.Error())
	case h.hasHead && h.head.Sequence > 0:
		probs = append(probs, CheckHead(links, h.head, "the store's head (.lock)")...)
	case len(links) > 0:
		probs = append(probs, "the store has no head (.lock): it was removed or replaced")
	}
	switch {
	case h.checkpointErr != nil:
		probs = append(probs, h.checkpointErr.Error())
	case h.hasCheckpoint:
		probs = append(probs, CheckHead(links, h.own.HeadRef, "the store's checkpoint")...)
	}
	if external != nil {
		if len(links) > 0 && links[0].HostID != external.Host.ID {
			probs = append(probs, fmt.Sprintf("the checkpoint is of host %s, the store of host %s", external.Host.ID, links[0].HostID))
		}
		probs = append(probs, CheckHead(links, external.HeadRef, fmt.Sprintf("the checkpoint of %s", external.Time))...)
	}
	return probs
}
