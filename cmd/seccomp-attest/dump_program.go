package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seccomp-attest/seccomp-attest/internal/execstop"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// programDump is the JSON form of dump -- CMD: the run, then each process
// of the program as dump PID describes one.
type programDump struct {
	Command   []string      `json:"command"`
	Limit     int           `json:"limit"`
	Installs  int           `json:"installs"`
	StoppedBy int           `json:"stopped_by,omitempty"`
	Exited    bool          `json:"exited"`
	Processes []*dumpOutput `json:"processes"`
}

// dumpProgram runs argv to its filter installs and dumps what it loaded.
func dumpProgram(cmd *cobra.Command, argv []string, o *dumpOptions) error {
	if o.limit < 1 {
		return fmt.Errorf("dump: --limit %d: at least 1", o.limit)
	}
	if o.timeout <= 0 {
		return fmt.Errorf("dump: --timeout %s: must be positive", o.timeout)
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), o.timeout)
	defer cancel()
	stdout := os.Stderr
	in, err := execstop.RunToInstalls(ctx, argv, execstop.InstallOptions{
		Limit: o.limit, Stdin: os.Stdin, Stdout: stdout, Stderr: os.Stderr})
	if err != nil {
		return fmt.Errorf("dump -- %s: %w", argv[0], err)
	}
	pd := programDump{Command: argv, Limit: o.limit, Installs: in.Installs, StoppedBy: in.By, Exited: in.Exited}
	for _, pf := range in.Processes {
		d := newDump(pf)
		if o.outDir != "" {
			dir := o.outDir
			if len(in.Processes) > 1 {
				dir = filepath.Join(o.outDir, strconv.Itoa(pf.PID))
			}
			if err := d.write(dir); err != nil {
				return err
			}
		}
		pd.Processes = append(pd.Processes, d)
	}
	w := cmd.OutOrStdout()
	if o.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(pd)
	}
	pd.writeSummary(w)
	for _, d := range pd.Processes {
		if err := d.writeText(w, o.disasm); err != nil {
			return err
		}
		if o.decompile {
			if err := d.writeTables(w); err != nil {
				return err
			}
		}
	}
	return nil
}

func (pd *programDump) writeSummary(w io.Writer) {
	what := "filter install"
	if pd.Installs != 1 {
		what += "s"
	}
	name := strings.Join(pd.Command, " ")
	if pd.Exited {
		fmt.Fprintf(w, "%s: exited after %d %s (limit %d); filters as each thread exited\n", name, pd.Installs, what, pd.Limit)
		return
	}
	fmt.Fprintf(w, "%s: stopped at %d %s (thread %d), killed before running further\n", name, pd.Installs, what, pd.StoppedBy)
}

// writeTables prints the decision table of each thread group's stack.
func (d *dumpOutput) writeTables(w io.Writer) error {
	for gi, g := range d.Groups {
		if len(d.filters[gi]) == 0 {
			continue
		}
		tids := make([]string, len(g.TIDs))
		for i, tid := range g.TIDs {
			tids[i] = strconv.Itoa(tid)
		}
		fmt.Fprintf(w, "decision table of thread(s) %s:\n", strings.Join(tids, ","))
		tab, err := bytecode.AnalyzeStack(bytecode.Stack(d.filters[gi]))
		if err != nil {
			return fmt.Errorf("thread %s: %w", tids[0], err)
		}
		if err := tab.WriteText(w); err != nil {
			return err
		}
	}
	return nil
}
