package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest/schema"
	"github.com/seccomp-attest/seccomp-attest/pkg/pipeline"
	"github.com/seccomp-attest/seccomp-attest/pkg/policy"
)

func init() { subcommands = append(subcommands, newVerifyCommand) }

// verifyOptions are the flags of verify.
type verifyOptions struct {
	keyPath, policyPath, storeDir, checkpointPath, format string
}

func newVerifyCommand() *cobra.Command {
	var o verifyOptions
	cmd := &cobra.Command{
		Use:   "verify FILE... --key PUB | verify --store DIR [--checkpoint FILE] --key PUB",
		Short: "Check signed attestations, their host chain and the store's checkpoints",
		Long: `Check attestation files: DSSE signature by PUB, payload and predicate types,
required predicate fields, subject digests (config.json against the bundle
when it still exists), the verdict, and that the files form one unbroken
host chain (no missing, duplicated, reordered or replaced attestation).

--store DIR checks a whole store, which must start at sequence 1, and
compares it with what the store itself recorded: its head (.lock) and its
signed checkpoint (checkpoint.intoto.jsonl). A store whose newest
attestations were deleted is reported, as is any break record the store
appended when it found attestations gone or altered.
--checkpoint FILE compares the store with a signed checkpoint kept
elsewhere (copied off the host, or sent by the configured checkpoint
sink): the store must still hold the attestation it names, unchanged,
with an unbroken chain after it. This detects truncation, rewriting or a
fork since the checkpoint even when the store looks whole (docs/checkpoints.md).
With --store, records seccomp-attestd handed off (STORE/spool) and has
not appended yet are listed as not yet in the chain, and spool files it
set aside (.bad) as never appended: the exit status judges the chain.
--policy FILE requires every verdict to come from that policy file.
Attestation files are read up to 16 MiB each, the key up to 64 KiB; they
must be regular files (docs/limits.md).

Exit status: 0 the evidence is intact and every verdict passes; 1 the
evidence is intact but records a fail or error verdict (or was made
under another policy than --policy); 2 usage or I/O error; 3 the evidence
was tampered with or is incomplete (a signature or format is bad, the
chain is broken, the store was cut short, rewritten or records a break).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.keyPath == "" {
				return fmt.Errorf("verify: --key is required")
			}
			if o.format != "text" && o.format != "json" {
				return fmt.Errorf("verify: --format %q: want text or json", o.format)
			}
			if (o.storeDir == "") == (len(args) == 0) {
				return fmt.Errorf("verify: give attestation files or --store DIR (not both)")
			}
			if o.checkpointPath != "" && o.storeDir == "" {
				return fmt.Errorf("verify: --checkpoint needs --store DIR")
			}
			v, err := attest.LoadVerifier(o.keyPath)
			if err != nil {
				return err
			}
			opts := attest.VerifyOptions{Schema: schema.Validate}
			if o.policyPath != "" {
				// The digest the pipeline records: of the file's bytes, or
				// of a shipped preset's.
				if _, opts.PolicyDigest, err = policy.Open(o.policyPath); err != nil {
					return err
				}
			}
			var external *attest.Checkpoint
			if o.checkpointPath != "" {
				data, err := inputfile.Read(o.checkpointPath, inputfile.Attestation)
				if err != nil {
					return err
				}
				// A checkpoint that does not verify is no evidence of
				// anything: say so and stop, as for a bad key.
				if external, err = attest.VerifyCheckpoint(cmd.Context(), o.checkpointPath, data, v); err != nil {
					return err
				}
			}
			files := args
			nameSeq := map[string]uint64{}
			store := attest.Store{Dir: o.storeDir}
			var heads attest.StoreHeads
			if o.storeDir != "" {
				heads = store.ReadHeads(cmd.Context(), v)
				entries, err := store.Entries()
				if err != nil {
					return err
				}
				for _, e := range entries {
					files = append(files, e.Path)
					nameSeq[e.Path] = e.Sequence
				}
			}
			out := verifyOutput{Files: []*attest.Report{}}
			var links []attest.Link
			for _, f := range files {
				data, err := inputfile.Read(f, inputfile.Attestation)
				if err != nil {
					return err
				}
				r := attest.Verify(cmd.Context(), f, data, v, opts)
				out.Files = append(out.Files, r)
				// A recording attestation (r.Recording) is no link of
				// a host chain.
				if p := r.Predicate(); r.Valid() && p != nil {
					links = append(links, attest.Link{File: f, Digest: r.Digest, Chain: p.Chain,
						NameSequence: nameSeq[f], HostID: p.Host.ID, Key: p.Host.KeyFingerprint, Break: p.Break})
				}
			}
			// The chain is judged on the valid files only; an invalid file
			// already fails verification and would only add noise.
			out.Chain.Problems = attest.CheckChain(links, attest.ChainOptions{Complete: o.storeDir != ""})
			if o.storeDir != "" {
				out.Chain.Problems = append(out.Chain.Problems, heads.Check(links, external)...)
			}
			if out.Chain.Problems == nil {
				out.Chain.Problems = []string{}
			}
			out.Chain.Checked = len(links)
			if o.storeDir != "" {
				out.Spool = readSpool(o.storeDir)
			}
			out.Valid, out.Passing = len(files) > 0, true
			for _, r := range out.Files {
				out.Valid = out.Valid && r.Valid()
				out.Passing = out.Passing && r.Passing()
			}
			out.Valid = out.Valid && len(out.Chain.Problems) == 0
			out.Passing = out.Passing && out.Valid
			if o.format == "json" {
				err = writeVerifyJSON(cmd.OutOrStdout(), &out)
			} else {
				writeVerifyText(cmd.OutOrStdout(), &out)
			}
			if err != nil {
				return err
			}
			switch {
			case !out.Valid:
				return errBrokenEvidence
			case !out.Passing:
				return errNegativeAnswer
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.keyPath, "key", "", "public key (PKIX PEM) that must have signed")
	f.StringVar(&o.policyPath, "policy", "", "policy file (or preset:NAME) whose digest every verdict must name")
	f.StringVar(&o.storeDir, "store", "", "verify every attestation of this store directory")
	f.StringVar(&o.checkpointPath, "checkpoint", "", "a signed checkpoint of the store kept elsewhere: the store must still hold what it names (with --store)")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	return cmd
}

// errBrokenEvidence is returned by verify when the evidence was tampered
// with or is incomplete (exit 3), after the report was printed.
var errBrokenEvidence = errors.New("evidence tampered with or incomplete")

// verifyOutput is the JSON form documented in docs/attestation.md.
type verifyOutput struct {
	Valid   bool             `json:"valid"`
	Passing bool             `json:"passing"`
	Files   []*attest.Report `json:"-"`
	Chain   struct {
		Checked  int      `json:"checked"`
		Problems []string `json:"problems"`
	} `json:"chain"`
	// Spool is what waits outside the chain in a store's spool
	// (--store): records seccomp-attestd handed off and has not appended
	// yet, and files it set aside as no record of its own (.bad).
	Spool *spoolState `json:"spool,omitempty"`
}

type spoolState struct {
	Waiting  []string `json:"waiting"`
	SetAside []string `json:"setAside"`
}

// readSpool lists the store's spool; nil when there is none.
func readSpool(store string) *spoolState {
	entries, err := os.ReadDir(filepath.Join(store, pipeline.SpoolDir))
	if err != nil {
		return nil
	}
	st := &spoolState{Waiting: []string{}, SetAside: []string{}}
	for _, e := range entries {
		switch name := e.Name(); {
		case strings.HasPrefix(name, "record-") && (strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".json.committing")):
			st.Waiting = append(st.Waiting, name)
		case strings.HasPrefix(name, "record-") && strings.HasSuffix(name, ".bad"):
			st.SetAside = append(st.SetAside, name)
		}
	}
	return st
}

type fileJSON struct {
	*attest.Report
	Valid     bool     `json:"valid"`
	Container string   `json:"container,omitempty"`
	Sequence  uint64   `json:"sequence,omitempty"`
	Verdict   string   `json:"verdict"`
	Reasons   []string `json:"reasons,omitempty"`
	// Kubernetes is the container's pod, from a valid attestation only.
	Kubernetes *attest.Kubernetes `json:"kubernetes,omitempty"`
}

func fileSummary(r *attest.Report) fileJSON {
	fj := fileJSON{Report: r, Valid: r.Valid(), Verdict: "invalid"}
	if rec := r.Recording; rec != nil && r.Valid() {
		// No verdict: a profile and the recordings it came from.
		fj.Verdict = "recording"
		fj.Reasons = []string{fmt.Sprintf("%s profile %s sha256 %s seccompDigest %s, from %d recording(s)",
			rec.Profile.Format, rec.Profile.Path, rec.Profile.Digest, rec.Profile.SeccompDigest, len(rec.Recordings))}
		return fj
	}
	if p := r.Predicate(); p != nil {
		fj.Container, fj.Sequence = p.Container.ID, p.Chain.Sequence
		if r.Valid() {
			fj.Kubernetes = p.Container.Kubernetes
			fj.Verdict = "none"
			if p.Verdict != nil {
				fj.Verdict, fj.Reasons = p.Verdict.Result, p.Verdict.Reasons
			}
			if p.Break != nil {
				fj.Verdict, fj.Reasons = attest.EventBreak, []string{p.Break.String()}
			}
		}
	}
	return fj
}

func writeVerifyJSON(w io.Writer, out *verifyOutput) error {
	files := make([]fileJSON, len(out.Files))
	for i, r := range out.Files {
		files[i] = fileSummary(r)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*verifyOutput
		Files []fileJSON `json:"files"`
	}{out, files})
}

func writeVerifyText(w io.Writer, out *verifyOutput) {
	for _, r := range out.Files {
		fj := fileSummary(r)
		status := "OK  "
		switch {
		case !r.Valid():
			status = "BAD "
		case fj.Verdict == attest.EventBreak:
			status = "BRK "
		case !r.Passing():
			status = "FAIL"
		}
		line := fmt.Sprintf("%s %s", status, filepath.Clean(r.File))
		if fj.Container != "" {
			line += fmt.Sprintf("  seq %d  container %s", fj.Sequence, fj.Container)
		}
		if fj.Kubernetes != nil {
			line += "  pod " + fj.Kubernetes.String()
		}
		fmt.Fprintf(w, "%s  verdict %s\n", line, fj.Verdict)
		for _, p := range r.Problems {
			fmt.Fprintf(w, "     problem: %s\n", p)
		}
		for _, u := range r.Unmet {
			fmt.Fprintf(w, "     unmet: %s\n", u)
		}
		for _, reason := range fj.Reasons {
			fmt.Fprintf(w, "     reason: %s\n", reason)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "     note: %s\n", n)
		}
	}
	switch {
	case out.Chain.Checked == 0 && len(out.Chain.Problems) == 0:
		fmt.Fprintf(w, "chain: not checked (no valid attestation)\n")
	case len(out.Chain.Problems) == 0:
		fmt.Fprintf(w, "chain: ok (%d attestations)\n", out.Chain.Checked)
	default:
		fmt.Fprintf(w, "chain: BROKEN\n     %s\n", strings.Join(out.Chain.Problems, "\n     "))
	}
	if sp := out.Spool; sp != nil {
		if n := len(sp.Waiting); n > 0 {
			// Not in the chain yet: the chain being whole says nothing
			// of them.
			fmt.Fprintf(w, "spool: %d handed-off record(s) NOT YET IN THE CHAIN (seccomp-attestd appends them; verify again later): %s\n", n, strings.Join(sp.Waiting, " "))
		}
		if n := len(sp.SetAside); n > 0 {
			fmt.Fprintf(w, "spool: %d file(s) set aside as no record of seccomp-attestd's, never appended: %s\n", n, strings.Join(sp.SetAside, " "))
		}
	}
}
