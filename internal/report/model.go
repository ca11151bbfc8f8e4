// Package report renders attestations as one self-contained HTML page for
// auditors: per container the verdict, the score and a per-syscall side by
// side of the intended and the effective decisions, and over a store a
// fleet view. It reads attestations and never changes them.
package report

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest/schema"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
)

// Page is everything one HTML page shows.
type Page struct {
	Title     string
	Generated string
	// KeyChecked is the public key the signatures were verified with,
	// empty when they were not verified.
	KeyChecked string
	Containers []*Container
	// Fleet is set when the page covers more than one attestation.
	Fleet *Fleet
	// Chain holds the problems of the store's chain (checked with a key
	// only); ChainChecked says it was checked.
	ChainChecked  bool
	ChainProblems []string
	// Spooled and SetAside name the files of the store's spool: records
	// handed off and not yet in the chain, and files set aside (.bad).
	Spooled, SetAside []string

	hasKnowledge bool
}

// Container is one attestation as shown on the page.
type Container struct {
	Anchor   string
	File     string
	Sequence uint64
	ID       string
	Runtime  string
	Bundle   string
	PID      int
	// Annotations are the OCI annotations that change how the filters
	// came to be (crun's raw filter, for one).
	Annotations map[string]string
	// Kubernetes is the pod of a container a CRI runtime created.
	Kubernetes *attest.Kubernetes
	Host       attest.Host
	Time       string
	Tool       string
	// Signature is "verified", "invalid" or "not checked".
	Signature string
	Problems  []string
	// Verdict is pass, fail, error or none (no policy was applied).
	Verdict  string
	Reasons  []string
	Score    *float64
	Intended *attest.Intended
	Policy   *attest.Policy
	Groups   []*Group
	// Weaker counts the weaker and undecided findings of every group.
	Weaker int
	// Unreadable marks a store file that is not an attestation at all.
	Unreadable bool
}

// Group is one group of threads with the same filters.
type Group struct {
	TIDs         string
	Mode         string
	Filters      int
	Instructions int
	Digest       string
	// HasIntended is true when the pipeline diffed this group against an
	// intended profile; without it the page shows the effective side only.
	HasIntended bool
	Counts      map[string]int
	Arches      []*ArchView
	// Error says why the filters could not be decoded or analysed.
	Error string
}

// ArchView is the decisions for one architecture: rows for the syscalls
// that are allowed, conditional or differ from the intended profile, and
// the syscalls both sides deny the same way, listed compactly per action.
type ArchView struct {
	Name   string
	Open   bool
	Rows   []*Row
	Denied []DeniedGroup
	// Omitted counts the rows left out of a large fleet page because both
	// sides agree on them.
	Omitted int
}

// DeniedGroup lists syscalls denied with one action and no difference.
type DeniedGroup struct {
	Action string
	Names  []string
}

// Row is one syscall (or unnamed number range) of one architecture.
type Row struct {
	Label     string
	Nr        string
	Effective []Rule
	// Class is allow, deny or cond (different actions for different
	// arguments), for the effective and the intended side.
	Class         string
	IntendedClass string
	// Intended is what the intended profile decides where it differs
	// from the effective filters; empty when both agree.
	Intended []Rule
	// Status is the worst finding kind: weaker, undecided, changed,
	// stricter; "" when both sides agree.
	Status    string
	Findings  []FindingView
	Knowledge string
	sortKey   [2]int
	first     uint32
}

// Rule is one condition -> action line.
type Rule struct {
	When   string
	Action string
	Class  string
}

// FindingView is one difference with its confirmed example input.
type FindingView struct {
	Kind      string
	Intended  string
	Effective string
	When      string
	Call      string
}

// Explanation is what a knowledge base says about a syscall: its risk tier
// (1 the most dangerous, 0 unknown) and a text for the reader (empty when
// not worth showing).
type Explanation struct {
	Tier int
	Text string
}

// Knowledge explains syscalls (a knowledge base); nil leaves the
// explanations out and ranks syscalls without tiers.
type Knowledge func(syscall string) Explanation

// Input is one attestation file to show.
type Input struct {
	File string
	Data []byte
	// Sequence is the store's sequence number from the file name, 0 for
	// files outside a store.
	Sequence uint64
}

// Options tunes Build.
type Options struct {
	// Verifier checks signatures; nil shows them as "not checked".
	Verifier *attest.Verifier
	KeyName  string
	// Latest keeps only the latest attestation of each container id (by
	// sequence, then by order): the fleet view of a store.
	Latest bool
	// Store marks the inputs as one complete store: the chain is checked
	// (with a Verifier) from sequence 1, and a file that is not an
	// attestation is shown as invalid instead of failing the page (one
	// corrupt file must not hide the fleet).
	Store bool
	// Heads, with Store, is what the store said of its newest
	// attestation before it was listed: the chain is also compared with
	// its head and signed checkpoint.
	Heads *attest.StoreHeads
	// Spooled and SetAside, with Store: the files of the store's spool
	// (Page.Spooled, Page.SetAside).
	Spooled, SetAside []string
	Knowledge         Knowledge
	Title             string
	Generated         string
}

// Build turns attestation files into a page. A file that cannot be
// decoded at all is an error (the page would silently miss it) unless
// Options.Store; a file that decodes but does not verify is shown, marked
// invalid.
func Build(ctx context.Context, inputs []Input, opts Options) (*Page, error) {
	page := &Page{Title: opts.Title, Generated: opts.Generated, KeyChecked: opts.KeyName,
		Spooled: opts.Spooled, SetAside: opts.SetAside, hasKnowledge: opts.Knowledge != nil}
	cache := tableCache{}
	var links []attest.Link
	for i, in := range inputs {
		anchor := fmt.Sprintf("c%d", i+1)
		st, err := attest.DecodeUnverified(in.Data)
		if err != nil && !opts.Store {
			return nil, fmt.Errorf("%s: %w", in.File, err)
		}
		if err != nil {
			page.Containers = append(page.Containers, &Container{Anchor: anchor, File: in.File, Sequence: in.Sequence,
				ID: "(unreadable) " + in.File, Signature: "invalid", Verdict: "invalid", Problems: []string{err.Error()},
				Unreadable: true})
			continue
		}
		c := newContainer(in, st.Predicate, anchor)
		if opts.Verifier != nil {
			r := attest.Verify(ctx, in.File, in.Data, opts.Verifier, attest.VerifyOptions{Schema: schema.Validate})
			c.Problems = r.Problems
			c.Signature = "verified"
			if !r.Valid() {
				c.Signature, c.Verdict = "invalid", "invalid"
			} else {
				p := r.Predicate()
				links = append(links, attest.Link{File: in.File, Digest: r.Digest, Chain: p.Chain,
					NameSequence: in.Sequence, HostID: p.Host.ID, Key: p.Host.KeyFingerprint, Break: p.Break})
			}
		}
		c.Groups = groups(st.Predicate, cache, opts.Knowledge)
		for _, g := range c.Groups {
			c.Weaker += g.Counts[compare.Weaker.String()] + g.Counts[compare.Undecided.String()]
		}
		page.Containers = append(page.Containers, c)
	}
	if opts.Verifier != nil && opts.Store {
		page.ChainChecked = true
		page.ChainProblems = attest.CheckChain(links, attest.ChainOptions{Complete: true})
		if opts.Heads != nil {
			page.ChainProblems = append(page.ChainProblems, opts.Heads.Check(links, nil)...)
		}
	}
	all := len(page.Containers)
	if opts.Latest {
		page.Containers = latestPerContainer(page.Containers)
	}
	if all > 1 {
		page.Fleet = fleet(page.Containers, all, opts.Knowledge)
		foldAgreeingArches(page.Containers)
		if len(page.Containers) > fullDetailContainers {
			keepDifferencesOnly(page.Containers)
		}
	}
	if page.Title == "" {
		page.Title = "seccomp-attest report"
		if len(page.Containers) == 1 {
			page.Title += ": " + page.Containers[0].ID
		}
	}
	return page, nil
}

func newContainer(in Input, p *attest.Predicate, anchor string) *Container {
	c := &Container{
		Anchor: anchor, File: in.File, Sequence: p.Chain.Sequence, ID: p.Container.ID,
		Bundle: p.Container.Bundle, PID: p.Container.PID, Annotations: p.Container.Annotations, Kubernetes: p.Container.Kubernetes,
		Host: p.Host, Time: p.Time,
		Tool: strings.TrimSpace(p.Tool.Name + " " + p.Tool.Version), Signature: "not checked",
		Verdict: "none", Score: p.Score, Intended: p.Intended, Policy: p.Policy,
	}
	if r := p.Container.Runtime; r != nil {
		c.Runtime = strings.TrimSpace(r.Name + " " + r.Version)
	}
	if p.Verdict != nil {
		c.Verdict, c.Reasons = p.Verdict.Result, p.Verdict.Reasons
	}
	return c
}

// diffRecord is the predicate's diff as the pipeline writes it: intended
// (A) against effective (B) for each group of threads
// (docs/attestation.md).
type diffRecord struct {
	Reference string `json:"reference"`
	Groups    []struct {
		TIDs     []int                   `json:"tids"`
		Counts   map[string]int          `json:"counts"`
		Findings []compare.FindingReport `json:"findings"`
	} `json:"groups"`
}

// groups builds the views of every thread group of the predicate.
func groups(p *attest.Predicate, cache tableCache, kb Knowledge) []*Group {
	var diff *diffRecord
	if len(p.Diff) > 0 {
		var d diffRecord
		if err := json.Unmarshal(p.Diff, &d); err == nil {
			diff = &d
		}
	}
	var out []*Group
	for _, tg := range p.Effective.Threads {
		g := &Group{TIDs: tidList(tg.TIDs), Mode: tg.Mode, Filters: len(tg.Filters),
			Digest: attest.StackDigest(tg.Filters), Counts: map[string]int{}}
		for _, f := range tg.Filters {
			g.Instructions += f.Length
		}
		var findings []compare.FindingReport
		if diff != nil {
			for _, dg := range diff.Groups {
				if len(tg.TIDs) > 0 && slices.Contains(dg.TIDs, tg.TIDs[0]) {
					g.HasIntended = true
					findings = dg.Findings
					for k, n := range dg.Counts {
						g.Counts[k] = n
					}
				}
			}
		}
		if len(tg.Filters) == 0 {
			g.Error = "no seccomp filter: the kernel allows every system call"
			out = append(out, g)
			continue
		}
		tab, err := cache.table(g.Digest, tg.Filters)
		if err != nil {
			g.Error = err.Error()
			out = append(out, g)
			continue
		}
		g.Arches = archViews(tab, findings, p.Host.Arch, kb)
		out = append(out, g)
	}
	return out
}

// tableCache analyses each distinct filter stack once: a fleet runs many
// containers under the same few profiles.
type tableCache map[string]cachedTable

type cachedTable struct {
	tab *bytecode.Table
	err error
}

func (c tableCache) table(digest string, filters []attest.LoadedFilter) (*bytecode.Table, error) {
	if t, ok := c[digest]; ok {
		return t.tab, t.err
	}
	var stack bytecode.Stack
	var err error
	for _, lf := range filters {
		var f *bytecode.Filter
		if f, err = bytecode.ParseFilter(lf.BPF); err != nil {
			err = fmt.Errorf("filter %d: %w", lf.Index, err)
			break
		}
		stack = append(stack, f)
	}
	var tab *bytecode.Table
	if err == nil {
		if tab, err = bytecode.AnalyzeStack(stack); err != nil {
			err = fmt.Errorf("analyse the filters: %w", err)
		}
	}
	c[digest] = cachedTable{tab, err}
	return tab, err
}

func tidList(tids []int) string {
	parts := make([]string, len(tids))
	for i, t := range tids {
		parts[i] = fmt.Sprint(t)
	}
	return strings.Join(parts, ", ")
}
