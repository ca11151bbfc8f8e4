package filterfuzz

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// Known engine bugs whose fix is in progress: the items of issue 13 by
// their number, bugs this fuzzer finds from 101 on. A problem that matches
// one is reported as known so that CI stays green until the fix lands;
// every other problem fails the test. Items 1, 3 and 5 and the fuzzer's
// bugs 101 and 102 (compare decided a computed action, RET A, by one
// example) are fixed: what their checks find is new again.
const (
	New = 0
	// BugOCIWeaker: decompile --format oci, recompiled as crun does, is
	// weaker than the filter or refused by libseccomp; or the
	// decompilation takes seconds.
	BugOCIWeaker = 2
)

// knownBugs names the known bugs in messages.
var knownBugs = map[int]string{
	BugOCIWeaker: "issue 13 item 2 (OCI profile weaker than the filter, refused, or slow to write)",
}

// Problem is one way the engine disagrees with the concrete evaluator (or
// the evaluator with the kernel).
type Problem struct {
	Known int    // the known bug it matches, New when none
	Check string // which property failed
	Text  string
}

// Problems collects what the checks found.
type Problems []Problem

// New returns the problems that match no known bug.
func (ps Problems) New() Problems {
	var out Problems
	for _, p := range ps {
		if p.Known == New {
			out = append(out, p)
		}
	}
	return out
}

// Known names the known bugs the problems match.
func (ps Problems) Known() []string {
	var ids []int
	for _, p := range ps {
		if p.Known != New && !slices.Contains(ids, p.Known) {
			ids = append(ids, p.Known)
		}
	}
	slices.Sort(ids)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = knownBugs[id]
	}
	return out
}

func (ps Problems) String() string {
	var b strings.Builder
	for i, p := range ps {
		if i == 12 {
			fmt.Fprintf(&b, "... and %d more\n", len(ps)-i)
			break
		}
		known := ""
		if p.Known != New {
			known = fmt.Sprintf(" [known: %s]", knownBugs[p.Known])
		}
		fmt.Fprintf(&b, "%s%s: %s\n", p.Check, known, p.Text)
	}
	return b.String()
}

// Add records a problem, keeping the first few of each check and bug:
// one wrong row shows on many inputs. (Counting per bug keeps known
// problems from crowding out a new one.)
func (ps *Problems) Add(known int, check, format string, args ...any) {
	n := 0
	for _, p := range *ps {
		if p.Check == check && p.Known == known {
			n++
		}
	}
	if n < 8 {
		*ps = append(*ps, Problem{Known: known, Check: check, Text: fmt.Sprintf(format, args...)})
	}
}

// DataString formats an input compactly.
func DataString(d *bc.Data) string {
	return fmt.Sprintf("arch=%#x nr=%#x ip=%#x args=%#x", d.Arch, d.Nr, d.InstructionPointer, d.Args)
}

// Hex is the program as hex sock_filter bytes.
func Hex(prog []bpf.Instruction) string { return hex.EncodeToString(bpf.Encode(prog)) }

// Describe is the program as hex and disassembly, for reproducers.
func Describe(prog []bpf.Instruction) string {
	var b strings.Builder
	fmt.Fprintf(&b, "hex %s\n", Hex(prog))
	bc.WriteDisassembly(&b, prog, bc.DisasmOptions{})
	return b.String()
}

// CheckTable checks a decision table of stack s: the rows of every
// arch value partition all syscall numbers (both ends of the 32-bit space
// included), the arch tables partition all arch values, and on each input
// the table's answer agrees with the evaluator, read as Decide reads it
// and as a person reads the text (see checkReading).
func CheckTable(s bc.Stack, tab *bc.Table, inputs []bc.Data) Problems {
	var ps Problems
	checkPartition(tab, &ps)
	approxRule := false
	for i := range tab.Arches {
		for _, sr := range tab.Arches[i].Syscalls {
			for _, r := range sr.Rules {
				approxRule = approxRule || r.Approximate
			}
		}
	}
	if approxRule && !tab.Approximate {
		ps.Add(New, "table.Approximate", "a rule is approximate but Table.Approximate is false")
	}
	for i := range inputs {
		d := &inputs[i]
		want := s.Run(d).Effective()
		if n := routes(tab, d); n != 1 {
			ps.Add(New, "table.partition", "%s falls in %d rows, want exactly 1", DataString(d), n)
		}
		at, sr := tab.Lookup(d.Arch, d.Nr)
		if sr == nil {
			ps.Add(New, "table.lookup", "%s has no row (arch table %v); evaluator %v", DataString(d), at != nil, want)
			continue
		}
		got, exact, anyAction := tab.Decide(d)
		switch {
		case exact && (len(got) != 1 || got[0] != want):
			ps.Add(New, "table.decide", "%s: table %v (exact), evaluator %v; %s row %s: %s", DataString(d), got, want, at.Name(), sr.Label(), sr.String())
		case !exact && !anyAction && !slices.Contains(got, want):
			ps.Add(New, "table.decide", "%s: table one of %v, evaluator %v; %s row %s: %s", DataString(d), got, want, at.Name(), sr.Label(), sr.String())
		}
		checkReading(&ps, d, want, at, sr)
	}
	return ps
}

// checkReading reads a row as its text does: an exact row by its first
// rule that holds; a row with an approximate rule (its conditions
// over-approximate, so the rules must not be read in order) as the set
// of every action it may give.
func checkReading(ps *Problems, d *bc.Data, want bc.Action, at *bc.ArchTable, sr *bc.SyscallRules) {
	if slices.ContainsFunc(sr.Rules, func(r bc.Rule) bool { return r.Approximate }) {
		if acts := bc.PossibleActions(sr.Rules); acts != nil && !slices.Contains(acts, want) {
			ps.Add(New, "table.undecided-row", "%s: row says one of %v, evaluator %v; %s row %s", DataString(d), acts, want, at.Name(), sr.Label())
		}
		return
	}
	for _, r := range sr.Rules {
		if r.When.Holds(d) {
			if r.Action != want {
				ps.Add(New, "table.first-rule", "%s: first rule that holds (%s) says %v, evaluator %v; %s row %s: %s",
					DataString(d), r.When, r.Action, want, at.Name(), sr.Label(), sr.String())
			}
			return
		}
	}
	ps.Add(New, "table.first-rule", "%s: no rule holds; %s row %s: %s", DataString(d), at.Name(), sr.Label(), sr.String())
}

// routes counts the rows that hold d's arch and number, routing x86_64's
// AUDIT_ARCH value by the x32 bit as the kernel's ABIs do.
func routes(tab *bc.Table, d *bc.Data) int {
	n := 0
	for i := range tab.Arches {
		at := &tab.Arches[i]
		if !at.Values.Contains(d.Arch) || !inSpace(at, d.Nr) {
			continue
		}
		j := sort.Search(len(at.Syscalls), func(j int) bool { return at.Syscalls[j].Last >= d.Nr })
		for ; j < len(at.Syscalls) && at.Syscalls[j].First <= d.Nr; j++ {
			n++
		}
	}
	return n
}

// inSpace says whether an arch table holds number nr: on x86_64's
// AUDIT_ARCH value, the x32 table holds the numbers with the x32 bit.
func inSpace(at *bc.ArchTable, nr uint32) bool {
	if at.Arch == nil || at.Arch.Audit != arch.X86_64.Audit {
		return true
	}
	return (at.Arch == arch.X32) == (nr&arch.X32SyscallBit != 0)
}

// span is an interval in 64 bits, so that 0xffffffff+1 does not wrap.
type span struct{ first, last uint64 }

// gaps returns what spans leave uncovered of [0, 0xffffffff] and whether
// two of them overlap.
func gaps(spans []span) (missing []span, overlap bool) {
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.first, b.first), cmp.Compare(a.last, b.last))
	})
	next := uint64(0)
	for _, s := range spans {
		if s.first < next {
			overlap = true
		}
		if s.first > next {
			missing = append(missing, span{next, s.first - 1})
		}
		next = max(next, s.last+1)
	}
	if next <= 0xffffffff {
		missing = append(missing, span{next, 0xffffffff})
	}
	return missing, overlap
}

// checkPartition checks the structure of the table: the arch tables'
// values partition the 32-bit space (x86_64 and x32 share theirs), and
// within each the rows partition the numbers.
func checkPartition(tab *bc.Table, ps *Problems) {
	var groups [][]*bc.ArchTable
	for i := range tab.Arches {
		at := &tab.Arches[i]
		k := slices.IndexFunc(groups, func(g []*bc.ArchTable) bool { return slices.Equal(g[0].Values, at.Values) })
		if k < 0 {
			groups = append(groups, []*bc.ArchTable{at})
		} else {
			groups[k] = append(groups[k], at)
		}
	}
	var archSpans []span
	for _, g := range groups {
		for _, iv := range g[0].Values {
			archSpans = append(archSpans, span{uint64(iv.First), uint64(iv.Last)})
		}
		var nrSpans []span
		for _, at := range g {
			prev := int64(-1)
			for _, sr := range at.Syscalls {
				if sr.First > sr.Last || int64(sr.First) <= prev {
					ps.Add(New, "table.rows", "%s: row %s out of order or empty", at.Name(), sr.Label())
				}
				prev = int64(sr.Last)
				x86 := at.Arch != nil && at.Arch.Audit == arch.X86_64.Audit
				if !inSpace(at, sr.First) || !inSpace(at, sr.Last) || x86 && sr.First>>30 != sr.Last>>30 {
					ps.Add(New, "table.rows", "%s: row %#x-%#x mixes x86_64 and x32 numbers", at.Name(), sr.First, sr.Last)
				}
				if len(sr.Rules) == 0 || len(sr.Rules[len(sr.Rules)-1].When) != 0 {
					ps.Add(New, "table.rows", "%s: row %s does not end in an unconditional rule", at.Name(), sr.Label())
				}
				nrSpans = append(nrSpans, span{uint64(sr.First), uint64(sr.Last)})
			}
		}
		missing, overlap := gaps(nrSpans)
		if len(missing) > 0 {
			ps.Add(New, "table.nr-partition", "arch values %v (%s): numbers %v have no row", g[0].Values, g[0].Name(), missing)
		}
		if overlap {
			ps.Add(New, "table.nr-partition", "arch values %v (%s): rows overlap", g[0].Values, g[0].Name())
		}
	}
	missing, overlap := gaps(archSpans)
	if len(missing) > 0 {
		ps.Add(New, "table.arch-partition", "arch values %v have no arch table", missing)
	}
	if overlap {
		ps.Add(New, "table.arch-partition", "arch tables overlap")
	}
}

// CheckPaths checks the paths of stack s on each input: without
// approximate paths, exactly one path holds and its action is the
// evaluator's; with them, some path that holds allows the evaluator's
// action.
func CheckPaths(s bc.Stack, paths []bc.Path, inputs []bc.Data) Problems {
	var ps Problems
	approx := slices.ContainsFunc(paths, func(p bc.Path) bool { return p.Approximate || p.AnyAction })
	ix := newNrIndex(paths)
	for i := range inputs {
		d := &inputs[i]
		want := s.Run(d).Effective()
		var holding []int
		for _, j := range ix.at(d.Nr) {
			p := &paths[j]
			if p.Arch.Contains(d.Arch) && p.Nr.Contains(d.Nr) && p.When.Holds(d) {
				holding = append(holding, j)
			}
		}
		if len(holding) == 0 {
			ps.Add(New, "paths.cover", "%s: no path holds; evaluator %v", DataString(d), want)
			continue
		}
		if !approx {
			if len(holding) > 1 {
				ps.Add(New, "paths.disjoint", "%s: %d exact paths hold (%s and %s)", DataString(d), len(holding),
					pathString(&paths[holding[0]]), pathString(&paths[holding[1]]))
			} else if p := &paths[holding[0]]; p.Action != want {
				ps.Add(New, "paths.action", "%s: path %s, evaluator %v", DataString(d), pathString(p), want)
			}
			continue
		}
		if !slices.ContainsFunc(holding, func(j int) bool { return paths[j].AnyAction || paths[j].Action == want }) {
			ps.Add(New, "paths.action", "%s: no holding path allows the evaluator's %v (first: %s)", DataString(d), want, pathString(&paths[holding[0]]))
		}
	}
	return ps
}

func pathString(p *bc.Path) string {
	return fmt.Sprintf("{arch %v nr %v when %s -> %v approx %v}", p.Arch, p.Nr, p.When, p.Action, p.Approximate)
}

// nrIndex finds the paths whose numbers may hold a value: the number
// space cut at every end of a path's interval, with the paths over each
// piece.
type nrIndex struct {
	starts []uint32
	ids    [][]int
}

func newNrIndex(paths []bc.Path) *nrIndex {
	starts := []uint32{0}
	for _, p := range paths {
		for _, iv := range p.Nr {
			starts = append(starts, iv.First)
			if iv.Last != 0xffffffff {
				starts = append(starts, iv.Last+1)
			}
		}
	}
	slices.Sort(starts)
	starts = slices.Compact(starts)
	ix := &nrIndex{starts: starts, ids: make([][]int, len(starts))}
	for j, p := range paths {
		for _, iv := range p.Nr {
			k, _ := slices.BinarySearch(starts, iv.First)
			for ; k < len(starts) && starts[k] <= iv.Last; k++ {
				ix.ids[k] = append(ix.ids[k], j)
			}
		}
	}
	return ix
}

func (ix *nrIndex) at(nr uint32) []int {
	k := sort.Search(len(ix.starts), func(k int) bool { return ix.starts[k] > nr }) - 1
	return ix.ids[k]
}

// Record writes a reproducer into dir (one file per distinct text) when
// dir is not empty: where fuzzing runs collect what they found.
func Record(dir, target, text string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(text))
	name := filepath.Join(dir, fmt.Sprintf("%s-%x.txt", target, sum[:6]))
	return os.WriteFile(name, []byte(text), 0o644)
}
