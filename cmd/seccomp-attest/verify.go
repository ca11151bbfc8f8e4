package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest/schema"
	"github.com/seccomp-attest/seccomp-attest/pkg/policy"
)

func init() { subcommands = append(subcommands, newVerifyCommand) }

func newVerifyCommand() *cobra.Command {
	var (
		keyPath, policyPath, storeDir, format string
	)
	cmd := &cobra.Command{
		Use:   "verify FILE... --key PUB | verify --store DIR --key PUB",
		Short: "Check signed attestations and their host chain",
		Long: `Check attestation files: DSSE signature by PUB, payload and predicate types,
required predicate fields, subject digests (config.json against the bundle
when it still exists), the verdict, and that the files form one unbroken
host chain (no missing, duplicated, reordered or replaced attestation).
--store DIR checks a whole store, which must start at sequence 1.
--policy FILE requires every verdict to come from that policy file.
Attestation files are read up to 16 MiB each, the key up to 64 KiB; they
must be regular files (docs/limits.md).

Exit status: 0 all valid and passing, 1 an attestation is invalid or its
verdict is fail/error, or the chain is broken, 2 usage or I/O error.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPath == "" {
				return fmt.Errorf("verify: --key is required")
			}
			if format != "text" && format != "json" {
				return fmt.Errorf("verify: --format %q: want text or json", format)
			}
			if (storeDir == "") == (len(args) == 0) {
				return fmt.Errorf("verify: give attestation files or --store DIR (not both)")
			}
			v, err := attest.LoadVerifier(keyPath)
			if err != nil {
				return err
			}
			opts := attest.VerifyOptions{Schema: schema.Validate}
			if policyPath != "" {
				// The digest the pipeline records: of the file's bytes, or
				// of a shipped preset's.
				if _, opts.PolicyDigest, err = policy.Open(policyPath); err != nil {
					return err
				}
			}
			files := args
			nameSeq := map[string]uint64{}
			if storeDir != "" {
				entries, err := attest.Store{Dir: storeDir}.Entries()
				if err != nil {
					return err
				}
				if len(entries) == 0 {
					return fmt.Errorf("store %s holds no attestations", storeDir)
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
				if p := r.Predicate(); r.Valid() {
					links = append(links, attest.Link{File: f, Digest: r.Digest, Chain: p.Chain,
						NameSequence: nameSeq[f], HostID: p.Host.ID, Key: p.Host.KeyFingerprint})
				}
			}
			// The chain is judged on the valid files only; an invalid file
			// already fails verification and would only add noise.
			out.Chain.Problems = attest.CheckChain(links, attest.ChainOptions{Complete: storeDir != ""})
			if out.Chain.Problems == nil {
				out.Chain.Problems = []string{}
			}
			out.Chain.Checked = len(links)
			out.Valid, out.Passing = true, true
			for _, r := range out.Files {
				out.Valid = out.Valid && r.Valid()
				out.Passing = out.Passing && r.Passing()
			}
			out.Valid = out.Valid && len(out.Chain.Problems) == 0
			out.Passing = out.Passing && out.Valid
			if format == "json" {
				err = writeVerifyJSON(cmd.OutOrStdout(), &out)
			} else {
				writeVerifyText(cmd.OutOrStdout(), &out)
			}
			if err != nil {
				return err
			}
			if !out.Passing {
				return errNegativeAnswer
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyPath, "key", "", "public key (PKIX PEM) that must have signed")
	f.StringVar(&policyPath, "policy", "", "policy file (or preset:NAME) whose digest every verdict must name")
	f.StringVar(&storeDir, "store", "", "verify every attestation of this store directory")
	f.StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// verifyOutput is the JSON form documented in docs/attestation.md.
type verifyOutput struct {
	Valid   bool             `json:"valid"`
	Passing bool             `json:"passing"`
	Files   []*attest.Report `json:"-"`
	Chain   struct {
		Checked  int      `json:"checked"`
		Problems []string `json:"problems"`
	} `json:"chain"`
}

type fileJSON struct {
	*attest.Report
	Valid     bool     `json:"valid"`
	Container string   `json:"container,omitempty"`
	Sequence  uint64   `json:"sequence,omitempty"`
	Verdict   string   `json:"verdict"`
	Reasons   []string `json:"reasons,omitempty"`
}

func fileSummary(r *attest.Report) fileJSON {
	fj := fileJSON{Report: r, Valid: r.Valid(), Verdict: "invalid"}
	if p := r.Predicate(); p != nil {
		fj.Container, fj.Sequence = p.Container.ID, p.Chain.Sequence
		if r.Valid() {
			fj.Verdict = "none"
			if p.Verdict != nil {
				fj.Verdict, fj.Reasons = p.Verdict.Result, p.Verdict.Reasons
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
		case !r.Passing():
			status = "FAIL"
		}
		line := fmt.Sprintf("%s %s", status, filepath.Clean(r.File))
		if fj.Container != "" {
			line += fmt.Sprintf("  seq %d  container %s", fj.Sequence, fj.Container)
		}
		fmt.Fprintf(w, "%s  verdict %s\n", line, fj.Verdict)
		for _, p := range r.Problems {
			fmt.Fprintf(w, "     problem: %s\n", p)
		}
		for _, reason := range fj.Reasons {
			fmt.Fprintf(w, "     reason: %s\n", reason)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "     note: %s\n", n)
		}
	}
	if len(out.Chain.Problems) == 0 {
		fmt.Fprintf(w, "chain: ok (%d attestations)\n", out.Chain.Checked)
	} else {
		fmt.Fprintf(w, "chain: BROKEN\n     %s\n", strings.Join(out.Chain.Problems, "\n     "))
	}
}
