package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
)

func init() { subcommands = append(subcommands, newDumpCommand) }

// dumpOptions are the flags of dump.
type dumpOptions struct {
	format    string
	outDir    string
	disasm    bool
	decompile bool
	limit     int
	timeout   time.Duration
}

func newDumpCommand() *cobra.Command {
	var o dumpOptions
	cmd := &cobra.Command{
		Use:   "dump PID | dump [flags] -- CMD [ARG...]",
		Short: "Show the seccomp filters the kernel enforces on a live process, or that a program installs",
		Long: `Show the seccomp filters the kernel enforces on every thread of process PID,
as PTRACE_SECCOMP_GET_FILTER returns them: mode, number of filters and, for
each filter (index 0 is the oldest), its length, sha256 of its raw bytes and
whether it was attached with SECCOMP_FILTER_FLAG_LOG. Threads with the same
filters are shown together.

Each thread is stopped for the read only and always let go. Needs root
(CAP_SYS_ADMIN, CAP_SYS_PTRACE) and must not itself run under seccomp.

--out DIR writes the raw filters (struct sock_filter arrays, host byte order)
as DIR/N.bpf, or DIR/TID-N.bpf per group of threads when threads differ. The
JSON output is described in docs/dump-json.md.

dump -- CMD [ARG...] starts CMD (static or dynamic) under ptrace instead and
stops it when it has installed its first seccomp filter (--limit N: its Nth,
counting every thread and child process; a TSYNC install counts once), or
when it exits, whichever comes first: every thread is held there, its
filters are read, and the program is killed without running further. The
program's standard output goes to dump's standard error, so that dump's own
output stays clean; --timeout bounds the whole run. --decompile prints the
decision table of each thread group's stack.`,
		Example: `  seccomp-attest dump $(runc state ID | jq .pid)
  seccomp-attest dump --format json --out filters/ 1234
  seccomp-attest dump --disasm -- /usr/bin/some-sandboxed-program --flag
  seccomp-attest dump --limit 2 --out filters/ -- ./two-filters`,
		Args: func(cmd *cobra.Command, args []string) error {
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				if dash != 0 || len(args) == 0 {
					return fmt.Errorf("dump: give either PID or -- CMD [ARG...]")
				}
				return nil
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.format != "text" && o.format != "json" {
				return fmt.Errorf("dump: --format %q: want text or json", o.format)
			}
			if cmd.ArgsLenAtDash() == 0 {
				return dumpProgram(cmd, args, &o)
			}
			if cmd.Flags().Changed("limit") || cmd.Flags().Changed("timeout") {
				return fmt.Errorf("dump: --limit and --timeout go with -- CMD")
			}
			pid, err := strconv.Atoi(args[0])
			if err != nil || pid <= 0 {
				return fmt.Errorf("dump: PID %q is not a positive number", args[0])
			}
			pf, err := procfilters.ReadProcessContext(cmd.Context(), pid)
			if err != nil {
				return err
			}
			d := newDump(pf)
			if o.outDir != "" {
				if err := d.write(o.outDir); err != nil {
					return err
				}
			}
			if o.format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(d)
			}
			if err := d.writeText(cmd.OutOrStdout(), o.disasm); err != nil {
				return err
			}
			if o.decompile {
				return d.writeTables(cmd.OutOrStdout())
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&o.outDir, "out", "", "write the raw filters into this directory")
	cmd.Flags().BoolVar(&o.disasm, "disasm", false, "disassemble each filter (text format)")
	cmd.Flags().BoolVar(&o.decompile, "decompile", false, "print the decision table of each thread group's filters (text format)")
	cmd.Flags().IntVar(&o.limit, "limit", 1, "with -- CMD: stop at the Nth filter install")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 30*time.Second, "with -- CMD: kill the program if it has not reached --limit nor exited by then")
	return cmd
}

// dumpOutput is the JSON form of dump (docs/dump-json.md); the text form
// is written from it too.
type dumpOutput struct {
	PID    int         `json:"pid"`
	Groups []dumpGroup `json:"groups"`

	filters [][]*bytecode.Filter // per group, for --out and --disasm
}

type dumpGroup struct {
	TIDs           []int        `json:"tids"`
	Mode           string       `json:"mode"`
	SeccompFilters int          `json:"seccomp_filters"`
	Filters        []dumpFilter `json:"filters"`
}

type dumpFilter struct {
	Index        int    `json:"index"`
	Instructions int    `json:"instructions"`
	SHA256       string `json:"sha256"`
	Log          bool   `json:"log"`
	File         string `json:"file,omitempty"`
}

func newDump(pf *procfilters.ProcessFilters) *dumpOutput {
	d := &dumpOutput{PID: pf.PID}
	for _, g := range pf.Groups() {
		dg := dumpGroup{TIDs: g.TIDs, Mode: g.Mode.String(), SeccompFilters: g.Count, Filters: []dumpFilter{}}
		var fs []*bytecode.Filter
		for _, lf := range g.Filters {
			sum := sha256.Sum256(lf.Filter.Bytes())
			dg.Filters = append(dg.Filters, dumpFilter{
				Index:        lf.Index,
				Instructions: lf.Filter.Len(),
				SHA256:       hex.EncodeToString(sum[:]),
				Log:          lf.Log,
			})
			fs = append(fs, lf.Filter)
		}
		d.Groups = append(d.Groups, dg)
		d.filters = append(d.filters, fs)
	}
	return d
}

// write stores the raw filters in dir and records the file names.
func (d *dumpOutput) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dump: --out: %w", err)
	}
	for gi := range d.Groups {
		g := &d.Groups[gi]
		for fi := range g.Filters {
			name := strconv.Itoa(g.Filters[fi].Index) + ".bpf"
			if len(d.Groups) > 1 {
				name = strconv.Itoa(g.TIDs[0]) + "-" + name
			}
			if err := os.WriteFile(filepath.Join(dir, name), d.filters[gi][fi].Bytes(), 0o644); err != nil {
				return fmt.Errorf("dump: --out: %w", err)
			}
			g.Filters[fi].File = name
		}
	}
	return nil
}

func (d *dumpOutput) writeText(w io.Writer, disasm bool) error {
	threads := 0
	for _, g := range d.Groups {
		threads += len(g.TIDs)
	}
	fmt.Fprintf(w, "process %d: %d thread(s)", d.PID, threads)
	if len(d.Groups) > 1 {
		fmt.Fprintf(w, ", %d different filter sets", len(d.Groups))
	}
	fmt.Fprintln(w)
	for gi, g := range d.Groups {
		tids := make([]string, len(g.TIDs))
		for i, tid := range g.TIDs {
			tids[i] = strconv.Itoa(tid)
		}
		label := "thread"
		if len(tids) > 1 {
			label = "threads"
		}
		fmt.Fprintf(w, "%s %s: ", label, strings.Join(tids, ","))
		switch g.Mode {
		case procfilters.ModeDisabled.String():
			fmt.Fprintln(w, "no seccomp filter (mode disabled)")
			continue
		case procfilters.ModeStrict.String():
			fmt.Fprintln(w, "strict mode (read, write, _exit, sigreturn only), no filter")
			continue
		}
		fmt.Fprintf(w, "mode %s, %d filter(s) (Seccomp_filters %d), index 0 oldest\n", g.Mode, len(g.Filters), g.SeccompFilters)
		for fi, f := range g.Filters {
			log := "no"
			if f.Log {
				log = "yes"
			}
			fmt.Fprintf(w, "  filter %d: %d instructions, sha256 %s, log %s", f.Index, f.Instructions, f.SHA256, log)
			if f.File != "" {
				fmt.Fprintf(w, ", file %s", f.File)
			}
			fmt.Fprintln(w)
			if disasm {
				opts := bytecode.DisasmOptions{Arch: arch.Native()}
				if err := bytecode.WriteDisassembly(w, d.filters[gi][fi].Instructions(), opts); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
