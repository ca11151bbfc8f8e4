// Package attest writes and verifies signed attestations of the seccomp
// filters a container runs under: in-toto Statement v1 in a DSSE envelope,
// kept in a per-host store where each attestation names its predecessor.
// docs/attestation.md describes the format for auditors.
package attest

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// Request is one attestation to make.
type Request struct {
	Signer *Signer
	// Store receives the attestation and numbers it in its chain.
	Store Store
	// Bundle, when not nil, adds the config.json subject and annotations,
	// and a copy of the attestation is written into the bundle unless
	// NoBundleCopy is set (the record of a container's end must not
	// replace the attestation of its start there).
	Bundle       *Bundle
	NoBundleCopy bool
	// Predicate holds what the caller knows: container, effective filters
	// and, from a pipeline, intended/diff/policy/verdict/score. Host,
	// time and chain are filled in by Attest when left empty.
	Predicate Predicate
	// Now defaults to time.Now.
	Now func() time.Time
	// Commit, when set, is asked just before the attestation is written,
	// under the store's lock (Store.Commit).
	Commit func() error
	// Committed, when set, is called once the attestation is durably in
	// the store, before its checkpoint is written (Store.Committed).
	Committed func()
}

// Result says where an attestation went.
type Result struct {
	StorePath  string
	BundlePath string
	Envelope   []byte
	// Checkpoint is the store's signed checkpoint after this attestation,
	// for a sink that keeps it off the host.
	Checkpoint []byte
	// CheckpointSequence is the sequence the checkpoint names.
	CheckpointSequence uint64
	// CheckpointErr is why the checkpoint could not be written; the
	// attestation is in the store all the same.
	CheckpointErr error
}

// Attest completes the predicate, signs it and writes it to the store (and
// the bundle). The store stays locked from choosing the sequence number to
// the rename, so the chain cannot fork.
func Attest(ctx context.Context, req Request) (*Result, error) {
	p := req.Predicate
	if p.Host.ID == "" {
		h, err := HostInfo()
		if err != nil {
			return nil, err
		}
		p.Host = h
	}
	fp, err := Fingerprint(req.Signer.Public())
	if err != nil {
		return nil, err
	}
	p.Host.KeyFingerprint = fp
	now := time.Now
	if req.Now != nil {
		now = req.Now
	}
	if p.Time == "" {
		p.Time = now().UTC().Format(time.RFC3339)
	}
	var config []byte
	if req.Bundle != nil {
		config = req.Bundle.Config
		p.Container.Bundle = req.Bundle.Dir
		if p.Container.Annotations == nil {
			p.Container.Annotations = req.Bundle.Annotations
		}
	}
	res := &Result{}
	// The store signs its checkpoint and any record of a break with the
	// same key, for the same host and tool.
	store := req.Store
	store.Signer, store.Host, store.Tool, store.Commit, store.Committed = req.Signer, p.Host, p.Tool, req.Commit, req.Committed
	a, err := store.append(p.Container.ID, func(c Chain) ([]byte, error) {
		p.Chain = c
		env, err := Sign(ctx, NewStatement(&p, config), req.Signer)
		res.Envelope = env
		return env, err
	})
	if err != nil {
		return nil, err
	}
	res.StorePath, res.Checkpoint, res.CheckpointErr = a.path, a.checkpoint, a.checkpointErr
	res.CheckpointSequence = p.Chain.Sequence
	if req.Bundle != nil && !req.NoBundleCopy {
		res.BundlePath = filepath.Join(req.Bundle.Dir, BundleFile)
		// Not synced: the store's copy is the durable one, and bundles do
		// not outlive a reboot (runtimes keep them on tmpfs or delete them).
		if err := ReplaceFile(res.BundlePath, res.Envelope, 0o644); err != nil {
			return res, fmt.Errorf("copy into bundle (the store has it: %s): %w", res.StorePath, err)
		}
	}
	return res, nil
}
