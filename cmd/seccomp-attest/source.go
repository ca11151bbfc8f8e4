package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// filterSource is where a filter stack comes from: a live process or raw
// filter files (a stack, oldest first).
type filterSource struct {
	desc  string
	stack bytecode.Stack
}

// loadFilterSource resolves SOURCE arguments of the bytecode commands:
// pid:N, bpf:FILE[,FILE...], or a path to a raw filter.
func loadFilterSource(src string) (*filterSource, error) {
	kind, rest, found := strings.Cut(src, ":")
	if !found {
		kind, rest = "bpf", src
	}
	switch kind {
	case "pid":
		pid, err := strconv.Atoi(rest)
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("source %q: pid must be a positive number", src)
		}
		return loadProcessSource(pid)
	case "bpf":
		fs := &filterSource{desc: src}
		for _, path := range strings.Split(rest, ",") {
			raw, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("source %q: %w", src, err)
			}
			f, err := bytecode.ParseFilter(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			fs.stack = append(fs.stack, f)
		}
		return fs, nil
	}
	return nil, fmt.Errorf("source %q: unknown kind %q (want pid:N, bpf:FILE[,FILE...] or a .bpf path)", src, kind)
}

// loadProcessSource reads the filters of a live process's main thread.
func loadProcessSource(pid int) (*filterSource, error) {
	pf, err := bytecode.ReadProcess(pid)
	if err != nil {
		return nil, err
	}
	for _, th := range pf.Threads {
		if th.TID == pid {
			return &filterSource{desc: fmt.Sprintf("pid:%d", pid), stack: th.Stack()}, nil
		}
	}
	return nil, fmt.Errorf("pid:%d: main thread not found", pid)
}
