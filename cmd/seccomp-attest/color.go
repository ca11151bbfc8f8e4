package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"sync"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// colorFlag is --color: auto (on a terminal, unless NO_COLOR or
// TERM=dumb), always or never.
type colorFlag struct{ mode string }

// register adds --color to a command whose text output colours actions
// (allowing green, denying red, delegating yellow) and comments.
func (c *colorFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.mode, "color", "auto", "colour the text output: auto (on a terminal), always or never")
}

// output returns the writer the command's text goes to: its output,
// through an ansiWriter where colour is on. Close the writer (flush) when done.
func (c *colorFlag) output(cmd *cobra.Command) (io.WriteCloser, error) {
	out := cmd.OutOrStdout()
	on := false
	switch c.mode {
	case "always":
		on = true
	case "never":
	case "auto", "":
		on = isTerminal(out) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	default:
		return nil, fmt.Errorf("--color %q: want auto, always or never", c.mode)
	}
	// Buffered: eval's path and a listing are hundreds of short lines.
	buf := &flushCloser{bufio.NewWriter(out)}
	if !on {
		return buf, nil
	}
	return &ansiWriter{w: buf}, nil
}

// flushCloser is a buffered writer whose Close flushes it.
type flushCloser struct{ *bufio.Writer }

func (f *flushCloser) Close() error { return f.Flush() }

// isTerminal reports whether w is a terminal (TCGETS succeeds on it).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// ANSI SGR sequences.
const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
)

var (
	// Actions as Action.String prints them.
	allowRe    = lazyRegexp(`\b(ALLOW|LOG)\b`)
	denyRe     = lazyRegexp(`\b(KILL_PROCESS|KILL_THREAD|TRAP\(\d+\)|ERRNO\(\d+\)|UNKNOWN\(0x[0-9a-f]+\))`)
	delegateRe = lazyRegexp(`\b(TRACE\(\d+\)|USER_NOTIF)`)
	commentRe  = lazyRegexp(`  # .*$`)
)

// ansiWriter colours whole lines of text as they pass.
type ansiWriter struct {
	w       io.WriteCloser
	pending []byte
}

func (a *ansiWriter) Write(p []byte) (int, error) {
	a.pending = append(a.pending, p...)
	for {
		i := bytes.IndexByte(a.pending, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := colorLine(a.pending[:i])
		a.pending = a.pending[i+1:]
		if _, err := a.w.Write(append(line, '\n')); err != nil {
			return len(p), err
		}
	}
}

// Close writes the last, unterminated line and flushes.
func (a *ansiWriter) Close() error {
	if len(a.pending) > 0 {
		if _, err := a.w.Write(colorLine(a.pending)); err != nil {
			return err
		}
		a.pending = nil
	}
	return a.w.Close()
}

// colorLine colours the comment of a line dim and its actions by kind.
func colorLine(line []byte) []byte {
	var comment []byte
	if loc := commentRe().FindIndex(line); loc != nil {
		comment = []byte(ansiDim + string(line[loc[0]:]) + ansiReset)
		line = line[:loc[0]]
	}
	line = allowRe().ReplaceAll(line, []byte(ansiGreen+"$1"+ansiReset))
	line = denyRe().ReplaceAll(line, []byte(ansiRed+"$1"+ansiReset))
	line = delegateRe().ReplaceAll(line, []byte(ansiYellow+"$1"+ansiReset))
	return append(append([]byte(nil), line...), comment...)
}

// lazyRegexp compiles a pattern when first used, not at every start.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
