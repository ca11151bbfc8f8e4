package attest

import (
	"context"
	"fmt"
	"os"
	"time"
)

// BreakPolicy says what Store.Append does when the store no longer holds
// what its head recorded.
type BreakPolicy string

const (
	// BreakRecord appends a signed record of the break, then goes on:
	// containers keep starting, and verify reports the break forever.
	BreakRecord BreakPolicy = "record"
	// BreakRefuse makes Append fail until an operator has looked (and
	// moved the damaged store aside): in enforce mode no container starts.
	BreakRefuse BreakPolicy = "refuse"
)

// ParseBreakPolicy reads a configuration value ("" is BreakRecord).
func ParseBreakPolicy(s string) (BreakPolicy, error) {
	switch BreakPolicy(s) {
	case "", BreakRecord:
		return BreakRecord, nil
	case BreakRefuse:
		return BreakRefuse, nil
	}
	return "", fmt.Errorf("store break policy %q: want record or refuse", s)
}

// EventBreak is the event of a store's record of its own break.
const EventBreak = "break"

// BreakContainerID is the container id of break records, which concern
// the store, not a container.
const BreakContainerID = "store-break"

// BreakSubjectName is the subject of a break record: the attestation the
// head expected (or, without a head, the newest one found).
const BreakSubjectName = "store-head"

// StoreBreak is what a store found instead of what its head recorded.
type StoreBreak struct {
	// Reason says what is wrong, in words.
	Reason string `json:"reason"`
	// Expected is the newest attestation the head recorded; nil when the
	// head itself is missing or unreadable.
	Expected *HeadRef `json:"expected,omitempty"`
	// Found is the newest attestation the store holds at or below the
	// expected sequence; nil when there is none.
	Found *HeadRef `json:"found,omitempty"`
}

func (b *StoreBreak) String() string {
	s := b.Reason
	if b.Expected != nil {
		s += "; the head recorded " + b.Expected.String()
	}
	if b.Found != nil {
		s += "; the store holds " + b.Found.String()
	} else {
		s += "; the store holds nothing before it"
	}
	return s
}

// recordBreak appends the signed record of brk after tip (or refuses, by
// OnBreak) and returns the new tip.
func (s Store) recordBreak(lock *os.File, boot string, tip HeadRef, brk *StoreBreak) (HeadRef, error) {
	if s.OnBreak == BreakRefuse {
		return HeadRef{}, fmt.Errorf("store %s is broken: %s: refusing to append (storeBreak: refuse; move the store aside to start a new chain)", s.Dir, brk)
	}
	if s.Signer == nil {
		return HeadRef{}, fmt.Errorf("store %s is broken: %s: no signing key to record the break", s.Dir, brk)
	}
	// Never reuse a number: after whatever the head and the disk know.
	after := tip
	if newest, err := s.newestOnDisk(); err == nil && newest.Sequence > after.Sequence {
		after = newest
	}
	if brk.Expected != nil && brk.Expected.Sequence > after.Sequence {
		after = *brk.Expected
	}
	if cp, ok, err := s.ReadCheckpoint(context.Background(), s.Signer.Verifier()); ok && err == nil && cp.Sequence > after.Sequence {
		after = cp.HeadRef
	}
	chain := after.next()
	// The subject is what the head expected, or the newest file found;
	// with neither (the head unreadable, the store emptied) the digest
	// of the empty string: a subject must name a digest.
	subject := &HeadRef{SHA256: sha256Hex(nil)}
	switch {
	case brk.Expected != nil:
		subject = brk.Expected
	case brk.Found != nil:
		subject = brk.Found
	}
	p := &Predicate{
		Event:     EventBreak,
		Container: Container{ID: BreakContainerID},
		Host:      s.Host,
		Effective: Effective{Threads: []ThreadGroup{}},
		Tool:      s.Tool,
		Time:      time.Now().UTC().Format(time.RFC3339),
		Chain:     chain,
		Break:     brk,
	}
	st := &Statement{Type: StatementType, PredicateType: PredicateType, Predicate: p,
		Subject: []Subject{{Name: BreakSubjectName, Digest: map[string]string{"sha256": subject.SHA256}}}}
	data, err := Sign(context.Background(), st, s.Signer)
	if err != nil {
		return HeadRef{}, fmt.Errorf("record the break of store %s: %w", s.Dir, err)
	}
	ref := HeadRef{Sequence: chain.Sequence, File: fmt.Sprintf("%08d-%s.intoto.jsonl", chain.Sequence, BreakContainerID), SHA256: sha256Hex(data)}
	if err := s.commit(lock, boot, tip, ref, data); err != nil {
		return HeadRef{}, fmt.Errorf("record the break of store %s: %w", s.Dir, err)
	}
	return ref, nil
}
