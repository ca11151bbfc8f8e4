package attest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// PayloadType is the DSSE payload type of in-toto statements.
const PayloadType = "application/vnd.in-toto+json"

// StatementType is the in-toto Statement v1 type URI.
const StatementType = "https://in-toto.io/Statement/v1"

// Subject names. A filter subject is named after the first thread of its
// group, so a process whose threads share one filter stack has a single
// subject "seccomp-filters/<pid>".
const (
	ConfigSubjectName      = "config.json"
	FilterSubjectPrefix    = "seccomp-filters/"
	ContainerSubjectPrefix = "container/"
)

// Statement mirrors in-toto Statement v1. It is marshalled with
// encoding/json once, and those bytes are what gets signed and stored:
// the in-toto bindings are protobuf messages whose protojson output is
// deliberately unstable, so they are used to validate, never to encode.
type Statement struct {
	Type          string     `json:"_type"`
	Subject       []Subject  `json:"subject"`
	PredicateType string     `json:"predicateType"`
	Predicate     *Predicate `json:"predicate"`
}

// Subject is an in-toto ResourceDescriptor reduced to what we use.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// NewStatement wraps p with its subjects: the bundle's config.json when
// config is not nil, and one "seccomp-filters/<tid>" subject per thread
// group, whose digest is that of the group's filters concatenated in index
// order (oldest first), that is exactly StackDigest.
func NewStatement(p *Predicate, config []byte) *Statement {
	st := &Statement{Type: StatementType, PredicateType: PredicateType, Predicate: p}
	if config != nil {
		st.Subject = append(st.Subject, Subject{Name: ConfigSubjectName, Digest: map[string]string{"sha256": sha256Hex(config)}})
	}
	for _, g := range p.Effective.Threads {
		st.Subject = append(st.Subject, FilterSubject(g))
	}
	if len(st.Subject) == 0 {
		// Neither a bundle nor filters (the end of a container whose
		// bundle is gone): in-toto wants a subject, and the container is
		// what the record is about.
		st.Subject = append(st.Subject, ContainerSubject(p.Container.ID))
	}
	return st
}

// ContainerSubject stands for a container by its id: the SHA-256 of the
// id's bytes (`printf %s ID | sha256sum`).
func ContainerSubject(id string) Subject {
	return Subject{Name: ContainerSubjectPrefix + id, Digest: map[string]string{"sha256": sha256Hex([]byte(id))}}
}

// FilterSubject is the subject that stands for a thread group's filters.
func FilterSubject(g ThreadGroup) Subject {
	name := FilterSubjectPrefix
	if len(g.TIDs) > 0 {
		name += strconv.Itoa(g.TIDs[0])
	}
	return Subject{Name: name, Digest: map[string]string{"sha256": StackDigest(g.Filters)}}
}

// StackDigest is the lowercase hex SHA-256 of the raw bytes of filters
// concatenated in the given (index) order. An empty stack hashes the
// empty string.
func StackDigest(filters []LoadedFilter) string {
	var all bytes.Buffer
	for _, f := range filters {
		all.Write(f.BPF)
	}
	return sha256Hex(all.Bytes())
}

// RawFilter is one filter as read from the kernel.
type RawFilter struct {
	BPF []byte
	Log bool
}

// NewThreadGroup describes threads that share a filter stack, given oldest
// first.
func NewThreadGroup(tids []int, mode string, filters []RawFilter) ThreadGroup {
	g := ThreadGroup{TIDs: append([]int(nil), tids...), Mode: mode, Filters: []LoadedFilter{}}
	for i, f := range filters {
		g.Filters = append(g.Filters, LoadedFilter{
			Index:  i,
			Length: len(f.BPF) / 8,
			SHA256: sha256Hex(f.BPF),
			Log:    f.Log,
			BPF:    append([]byte(nil), f.BPF...),
		})
	}
	return g
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// subjectDigest returns the sha256 of the named subject.
func (st *Statement) subjectDigest(name string) (string, bool, error) {
	found := false
	var d string
	for _, s := range st.Subject {
		if s.Name != name {
			continue
		}
		if found {
			return "", false, fmt.Errorf("subject %q appears twice", name)
		}
		found, d = true, s.Digest["sha256"]
	}
	return d, found, nil
}
