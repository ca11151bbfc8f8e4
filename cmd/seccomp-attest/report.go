package main

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/internal/inputfile"
	"github.com/seccomp-attest/seccomp-attest/internal/report"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/knowledge"
)

func init() { subcommands = append(subcommands, newReportCommand) }

// reportKnowledge rates every syscall the knowledge base knows and
// explains those of its two highest risk tiers on the page; explaining the
// others would drown them.
func reportKnowledge(name string) report.Explanation {
	s := knowledge.Default().Lookup(name)
	if !s.Known {
		return report.Explanation{}
	}
	e := report.Explanation{Tier: s.Tier}
	if s.Tier <= knowledge.TierHigh {
		e.Text = fmt.Sprintf("tier %d: %s %s", s.Tier, s.What, s.Risk)
		if len(s.CVEs) > 0 {
			e.Text += " (" + strings.Join(s.CVEs, ", ") + ")"
		}
	}
	return e
}

// reportOptions are the flags of report.
type reportOptions struct {
	htmlOut, storeDir, keyPath, title string
}

func newReportCommand() *cobra.Command {
	var o reportOptions
	cmd := &cobra.Command{
		Use:   "report ATTESTATION... --html OUT | report --store DIR --html OUT",
		Short: "Render attestations as one self-contained HTML page for auditors",
		Long: `Render attestation files (or the latest attestation of every container in a
store, with a fleet summary) as one HTML page: per container the verdict, the
score, and per architecture a side by side of the intended and the effective
decision for every syscall the filters allow, allow conditionally or decide
differently from the intended profile, colored by allow/deny/conditional,
weaker rows first with their confirmed counterexample, and what the knowledge
base says about the riskiest syscalls (tiers 1 and 2). Syscalls denied alike
are listed compactly. The effective side is decoded from the raw filters in
the attestation; the intended side comes from the diff the policy pipeline
recorded (without one, the page shows the effective side and says so).

The page has no script and loads nothing: it can be mailed and opened
offline. --key verifies every signature (and the store's chain with --store);
without it the page says that it shows unverified claims.
OUT "-" writes to stdout; otherwise OUT is replaced atomically.`,
		Example: `  seccomp-attest report /var/lib/seccomp-attest/00000007-web.intoto.jsonl --html web.html
  seccomp-attest report --store /var/lib/seccomp-attest --key /etc/seccomp-attest/keys/signing.pub --html fleet.html`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.htmlOut == "" {
				return fmt.Errorf("report: --html OUT is required")
			}
			if (o.storeDir == "") == (len(args) == 0) {
				return fmt.Errorf("report: give attestation files or --store DIR (not both)")
			}
			opts := report.Options{Knowledge: reportKnowledge, Title: o.title,
				Generated: time.Now().UTC().Format(time.RFC3339)}
			if o.keyPath != "" {
				v, err := attest.LoadVerifier(o.keyPath)
				if err != nil {
					return fmt.Errorf("report: %w", err)
				}
				opts.Verifier, opts.KeyName = v, o.keyPath
			}
			var inputs []report.Input
			for _, f := range args {
				data, err := inputfile.Read(f, inputfile.Attestation)
				if err != nil {
					return fmt.Errorf("report: %w", err)
				}
				inputs = append(inputs, report.Input{File: f, Data: data})
			}
			if o.storeDir != "" {
				if opts.Verifier != nil {
					heads := attest.Store{Dir: o.storeDir}.ReadHeads(cmd.Context(), opts.Verifier)
					opts.Heads = &heads
				}
				if sp := readSpool(o.storeDir); sp != nil {
					opts.Spooled, opts.SetAside = sp.Waiting, sp.SetAside
				}
				entries, err := attest.Store{Dir: o.storeDir}.Entries()
				if err != nil {
					return fmt.Errorf("report: %w", err)
				}
				if len(entries) == 0 {
					return fmt.Errorf("report: store %s holds no attestations", o.storeDir)
				}
				for _, e := range entries {
					data, err := inputfile.Read(e.Path, inputfile.Attestation)
					if err != nil {
						return fmt.Errorf("report: %w", err)
					}
					inputs = append(inputs, report.Input{File: e.Path, Data: data, Sequence: e.Sequence})
				}
				opts.Latest, opts.Store = true, true
			}
			page, err := report.Build(cmd.Context(), inputs, opts)
			if err != nil {
				return fmt.Errorf("report: %w", err)
			}
			var buf bytes.Buffer
			if err := report.Render(&buf, page); err != nil {
				return fmt.Errorf("report: render: %w", err)
			}
			if o.htmlOut == "-" {
				_, err = cmd.OutOrStdout().Write(buf.Bytes())
				return err
			}
			if err := attest.WriteFileAtomic(o.htmlOut, buf.Bytes(), 0o644); err != nil {
				return fmt.Errorf("report: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), o.htmlOut)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.htmlOut, "html", "", "write the HTML page to OUT (- for stdout)")
	f.StringVar(&o.storeDir, "store", "", "report on the latest attestation of every container of this store")
	f.StringVar(&o.keyPath, "key", "", "public key (PKIX PEM): verify signatures (and the store's chain)")
	f.StringVar(&o.title, "title", "", "page title")
	_ = cmd.MarkFlagDirname("store")
	_ = cmd.MarkFlagFilename("html", "html")
	return cmd
}
