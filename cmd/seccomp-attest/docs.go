package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/seccomp-attest/seccomp-attest/internal/version"
)

func init() { subcommands = append(subcommands, newDocsCommand) }

// docsOptions are the flags of docs.
type docsOptions struct {
	manDir, completionDir, markdownDir string
}

// newDocsCommand writes the man pages, shell completions and Markdown
// reference from the command definitions themselves, so they cannot
// disagree with the binary. The Makefile runs it at build and package time;
// it is hidden because users read its output, not run it.
func newDocsCommand() *cobra.Command {
	var o docsOptions
	cmd := &cobra.Command{
		Use:    "docs [--man DIR] [--completion DIR] [--markdown DIR]",
		Short:  "Generate man pages, shell completions and the Markdown CLI reference",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.manDir == "" && o.completionDir == "" && o.markdownDir == "" {
				return fmt.Errorf("docs: give at least one of --man, --completion, --markdown")
			}
			root := cmd.Root()
			// No "generated on DATE" lines: the same sources give the same
			// files (reproducible packages, clean diffs of docs/cli).
			root.DisableAutoGenTag = true
			if o.manDir != "" {
				if err := writeManPages(root, o.manDir); err != nil {
					return err
				}
			}
			if o.completionDir != "" {
				if err := writeCompletions(root, o.completionDir); err != nil {
					return err
				}
			}
			if o.markdownDir != "" {
				if err := os.MkdirAll(o.markdownDir, 0o755); err != nil {
					return fmt.Errorf("docs: %w", err)
				}
				if err := doc.GenMarkdownTree(root, o.markdownDir); err != nil {
					return fmt.Errorf("docs: markdown in %s: %w", o.markdownDir, err)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.manDir, "man", "", "write section 1 man pages (seccomp-attest.1, seccomp-attest-ps.1, ...) into DIR")
	f.StringVar(&o.completionDir, "completion", "", "write bash, zsh and fish completion scripts into DIR")
	f.StringVar(&o.markdownDir, "markdown", "", "write the Markdown CLI reference into DIR")
	return cmd
}

func writeManPages(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("docs: %w", err)
	}
	header := &doc.GenManHeader{
		Title:   "SECCOMP-ATTEST",
		Section: "1",
		Source:  "seccomp-attest " + version.String(),
		Manual:  "seccomp-attest manual",
		Date:    buildDate(),
	}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return fmt.Errorf("docs: man pages in %s: %w", dir, err)
	}
	return nil
}

// writeCompletions writes the scripts where each shell's package layout
// expects them once installed: bash-completion loads
// completions/seccomp-attest, zsh _seccomp-attest, fish seccomp-attest.fish.
func writeCompletions(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("docs: %w", err)
	}
	for _, c := range []struct {
		name string
		gen  func(string) error
	}{
		{"seccomp-attest.bash", func(p string) error { return root.GenBashCompletionFileV2(p, true) }},
		{"_seccomp-attest", root.GenZshCompletionFile},
		{"seccomp-attest.fish", func(p string) error { return root.GenFishCompletionFile(p, true) }},
	} {
		if err := c.gen(filepath.Join(dir, c.name)); err != nil {
			return fmt.Errorf("docs: completion %s: %w", c.name, err)
		}
	}
	return nil
}

// buildDate is SOURCE_DATE_EPOCH when set (reproducible builds), else now.
func buildDate() *time.Time {
	t := time.Now().UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
			t = time.Unix(sec, 0).UTC()
		}
	}
	return &t
}
