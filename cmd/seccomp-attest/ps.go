package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
	"github.com/seccomp-attest/seccomp-attest/internal/procscan"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest/schema"
)

func init() { subcommands = append(subcommands, newPsCommand) }

// psOptions are the flags of ps.
type psOptions struct {
	format, storeDir, keyPath string
	all, noDigest             bool
	timeout                   time.Duration
}

func newPsCommand() *cobra.Command {
	var o psOptions
	cmd := &cobra.Command{
		Use:   "ps [--all] [--format table|json]",
		Short: "List containers (or all processes) with their seccomp state and attestation verdict",
		Long: `List the init process of every container on the host (--all: every process)
with its seccomp mode and filter count (from /proc/PID/status), the
container it belongs to (cgroup path of Docker, podman, CRI-O, containerd;
state directories of runc and crun, which also give the bundle), the
effective digest (SHA-256 of the filter stack read with ptrace, as
attestations name it; --no-digest skips the read), and the verdict of the
latest attestation of that container in the store.

The verdict column shows pass, fail or error, "none" for an attestation
without a verdict, "invalid" when --key is given and the attestation does
not verify, and a trailing "*" when the attested filters are not the ones
the process runs now. Without --key the store is read, not verified.`,
		Example: `  seccomp-attest ps
  seccomp-attest ps --all --no-digest
  seccomp-attest ps --format json --key /etc/seccomp-attest/keys/signing.pub`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.format != "table" && o.format != "json" {
				return fmt.Errorf("ps: --format %q: want table or json", o.format)
			}
			var verifier *attest.Verifier
			if o.keyPath != "" {
				v, err := attest.LoadVerifier(o.keyPath)
				if err != nil {
					return fmt.Errorf("ps: %w", err)
				}
				verifier = v
			}
			opts := procscan.Options{Digest: !o.noDigest}
			if !o.all {
				opts.Include = func(p *procscan.Process) bool { return p.Container != nil && p.Container.Init }
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), o.timeout)
			defer cancel()
			procs, err := procscan.Scan(ctx, opts)
			if err != nil {
				return fmt.Errorf("ps: %w", err)
			}
			index, err := indexStore(cmd, o.storeDir, verifier)
			if err != nil {
				return fmt.Errorf("ps: %w", err)
			}
			rows := make([]psRow, len(procs))
			for i, p := range procs {
				rows[i] = psRow{Process: p}
				if p.Container != nil {
					rows[i].Attestation = index.lookup(p.Container.ID, p.Digest)
				}
			}
			if o.format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Processes []psRow `json:"processes"`
				}{rows})
			}
			return writePsTable(cmd.OutOrStdout(), rows)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "table", "output format: table or json")
	f.BoolVar(&o.all, "all", false, "list every process, not only the init process of each container")
	f.BoolVar(&o.noDigest, "no-digest", false, "do not read filters (no ptrace): no effective digest")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "stop reading filters after this long (the rest get no digest)")
	f.StringVar(&o.storeDir, "store", attest.DefaultStore, "attestation store whose verdicts to show")
	f.StringVar(&o.keyPath, "key", "", "public key: verify the attestations shown (default: read them unverified)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagDirname("store")
	return cmd
}

// psRow is one line of ps: a process and the attestation of its container.
type psRow struct {
	*procscan.Process
	Attestation *psAttestation `json:"attestation,omitempty"`
}

// psAttestation is the latest attestation of a container in the store.
type psAttestation struct {
	File     string `json:"file"`
	Sequence uint64 `json:"sequence"`
	// Verdict is pass, fail, error, none (no policy applied) or invalid
	// (did not verify with --key).
	Verdict  string   `json:"verdict"`
	Score    *float64 `json:"score,omitempty"`
	Verified bool     `json:"verified"`
	// Kubernetes is the container's pod as the attestation names it.
	Kubernetes *attest.Kubernetes `json:"kubernetes,omitempty"`
	// Current is whether the process runs the attested filters now; absent
	// when the digest was not computed.
	Current *bool `json:"current,omitempty"`

	digests map[string]bool
}

// storeIndex maps container ids to their latest attestation.
type storeIndex map[string]*psAttestation

// indexStore reads every attestation of the store. A missing store is an
// empty one (nothing attested yet); an unreadable or undecodable file is
// reported on stderr and skipped, so one bad file does not hide the rest.
func indexStore(cmd *cobra.Command, dir string, v *attest.Verifier) (storeIndex, error) {
	index := storeIndex{}
	entries, err := attest.Store{Dir: dir}.Entries()
	if errors.Is(err, fs.ErrNotExist) {
		return index, nil
	}
	if errors.Is(err, fs.ErrPermission) {
		// The store is root's (0700): a user still gets the processes.
		fmt.Fprintf(cmd.ErrOrStderr(), "seccomp-attest: ps: no verdicts: %v\n", err)
		return index, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		data, err := inputfile.Read(e.Path, inputfile.Attestation)
		if err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "seccomp-attest: ps: skipping %s: %v\n", e.Path, err)
			continue
		}
		a := &psAttestation{File: e.Path, Sequence: e.Sequence, digests: map[string]bool{}}
		if v != nil {
			a.Verified = attest.Verify(cmd.Context(), e.Path, data, v, attest.VerifyOptions{Schema: schema.Validate}).Valid()
		}
		// Decoded even when it did not verify: the row must say that the
		// container's attestation is invalid, not that there is none.
		st, err := attest.DecodeUnverified(data)
		if err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "seccomp-attest: ps: skipping %s: %v\n", e.Path, err)
			continue
		}
		p := st.Predicate
		switch {
		case v != nil && !a.Verified:
			a.Verdict = "invalid"
		case p.Verdict == nil:
			a.Verdict = "none"
		default:
			a.Verdict = p.Verdict.Result
		}
		a.Score = p.Score
		if a.Verdict != "invalid" {
			a.Kubernetes = p.Container.Kubernetes
		}
		for _, g := range p.Effective.Threads {
			a.digests[attest.StackDigest(g.Filters)] = true
		}
		if old := index[p.Container.ID]; old == nil || old.Sequence < a.Sequence {
			index[p.Container.ID] = a
		}
	}
	return index, nil
}

// lookup returns the container's attestation, marked current or not when
// the process's digest is known.
func (s storeIndex) lookup(id, digest string) *psAttestation {
	a := s[id]
	if a == nil {
		return nil
	}
	out := *a
	if digest != "" {
		current := a.digests[digest]
		out.Current = &current
	}
	return &out
}

func writePsTable(w io.Writer, rows []psRow) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PID\tCOMM\tCONTAINER\tPOD\tENGINE\tMODE\tFILTERS\tDIGEST\tVERDICT\tSCORE")
	for _, r := range rows {
		container, engine := "-", "-"
		if c := r.Container; c != nil {
			container = short(c.ID, 12)
			switch {
			case c.Engine != "" && c.Runtime != "":
				engine = c.Engine + "/" + c.Runtime
			case c.Engine != "":
				engine = c.Engine
			case c.Runtime != "":
				engine = c.Runtime
			}
		}
		digest := "-"
		switch {
		case r.Digest != "":
			digest = short(r.Digest, 12)
		case r.DigestError != "":
			digest = "?"
		}
		verdict, score, pod := "-", "-", "-"
		if a := r.Attestation; a != nil {
			if a.Kubernetes != nil {
				pod = a.Kubernetes.String()
			}
			verdict = a.Verdict
			if a.Current != nil && !*a.Current {
				verdict += "*"
			}
			if a.Score != nil {
				score = strconv.FormatFloat(*a.Score, 'f', 1, 64)
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.PID, r.Comm, container, pod, engine, r.Mode,
			strconv.Itoa(r.Filters), digest, verdict, score)
	}
	return tw.Flush()
}

// short keeps the first n characters of an id or digest, as docker ps does.
func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
