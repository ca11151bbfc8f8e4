package attest

import (
	"fmt"
	"slices"
)

// Link is one attestation as the chain check sees it.
type Link struct {
	File   string
	Digest string // sha256 of the file
	Chain  Chain  // from the verified predicate
	// NameSequence is the sequence number in the store file name, 0 when
	// the file does not come from a store listing.
	NameSequence uint64
	HostID       string
	Key          string // host.keyFingerprint
	// Break is set when the attestation is the store's record of a break.
	Break *StoreBreak
}

// ChainOptions says how complete the set of links is meant to be.
type ChainOptions struct {
	// Complete means the links are a whole store: it must start at
	// sequence 1. Otherwise an arbitrary run of a chain is accepted.
	Complete bool
}

// CheckChain checks that links, in the order given, form one unbroken
// host chain: sequence numbers strictly increasing without gaps or
// duplicates, each previous digest naming the file before it, store file
// names agreeing with the sequence inside, and one host and key
// throughout. It returns one message per problem found.
func CheckChain(links []Link, opts ChainOptions) []string {
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if len(links) == 0 {
		return nil
	}
	for i, l := range links {
		if l.Break != nil {
			bad("%s (sequence %d) records a break of the store: %s", l.File, l.Chain.Sequence, l.Break)
		}
		if l.NameSequence != 0 && l.NameSequence != l.Chain.Sequence {
			bad("%s: file name says sequence %d, the attestation says %d (renamed or moved)", l.File, l.NameSequence, l.Chain.Sequence)
		}
		if i > 0 {
			if p := links[i-1]; l.HostID != p.HostID || l.Key != p.Key {
				bad("%s: host %s key %.12s differs from %s (host %s key %.12s): one chain is one host's store", l.File, l.HostID, l.Key, p.File, p.HostID, p.Key)
			}
		}
	}

	// Duplicates and gaps are judged on the sorted sequence numbers, so
	// that they are reported as such even when the files are also out of
	// order.
	sorted := slices.Clone(links)
	slices.SortStableFunc(sorted, func(a, b Link) int { return cmpSeq(a.Chain.Sequence, b.Chain.Sequence) })
	if first := sorted[0].Chain.Sequence; opts.Complete && first != 1 {
		bad("the chain starts at sequence %d: %s missing", first, seqRange(1, first-1))
	}
	for i := 1; i < len(sorted); i++ {
		a, b := sorted[i-1], sorted[i]
		switch {
		case a.Chain.Sequence == b.Chain.Sequence && a.Digest == b.Digest:
			bad("sequence %d: %s and %s are the same attestation given twice", a.Chain.Sequence, a.File, b.File)
		case a.Chain.Sequence == b.Chain.Sequence:
			bad("sequence %d is used twice: %s and %s", a.Chain.Sequence, a.File, b.File)
		case b.Chain.Sequence > a.Chain.Sequence+1:
			bad("%s missing between %s and %s", seqRange(a.Chain.Sequence+1, b.Chain.Sequence-1), a.File, b.File)
		case b.Chain.Previous != a.Digest:
			bad("%s (sequence %d): previous is %.12s…, but %s (sequence %d) has sha256 %.12s… (replaced or altered)",
				b.File, b.Chain.Sequence, b.Chain.Previous, a.File, a.Chain.Sequence, a.Digest)
		}
	}
	for i := 1; i < len(links); i++ {
		if a, b := links[i-1], links[i]; b.Chain.Sequence < a.Chain.Sequence {
			bad("out of order: %s (sequence %d) comes after %s (sequence %d)", b.File, b.Chain.Sequence, a.File, a.Chain.Sequence)
		}
	}
	return probs
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func seqRange(from, to uint64) string {
	if from == to {
		return fmt.Sprintf("sequence %d is", from)
	}
	return fmt.Sprintf("sequences %d..%d are", from, to)
}
