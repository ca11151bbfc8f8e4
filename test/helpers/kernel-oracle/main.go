// Command kernel-oracle runs a raw seccomp filter in the kernel on a
// sample of its boundary inputs and prints, per input, what the kernel
// decided: the bats tests hold `seccomp-attest eval` against it. It uses
// the project's kernel oracle (internal/filterfuzz): every RET rewritten
// to RET TRACE with its index, the calls issued by a traced child and
// skipped at each seccomp stop, so that none runs.
//
//	kernel-oracle [-n N] FILE.bpf
//
// prints one line per call: nr, args[0..5], instruction pointer (as the
// kernel saw them, hex), the index of the RET the kernel reached and that
// RET's value. Needs root and linux/amd64.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/filterfuzz"
	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// helperEnv makes this program the oracle's traced child.
const helperEnv = "KERNEL_ORACLE_HELPER"

func main() {
	if os.Getenv(helperEnv) != "" {
		filterfuzz.KernelHelperMain()
	}
	n := flag.Int("n", 20, "how many inputs to sample")
	flag.Parse()
	if flag.NArg() != 1 || !filterfuzz.KernelOracleSupported {
		fmt.Fprintln(os.Stderr, "usage: kernel-oracle [-n N] FILE.bpf (linux/amd64)")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *n); err != nil {
		fmt.Fprintln(os.Stderr, "kernel-oracle:", err)
		os.Exit(1)
	}
}

func run(path string, n int) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	f, err := bc.ParseFilter(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	prog := f.Instructions()
	tab, err := bc.Analyze(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	inputs := filterfuzz.Inputs([][]bpf.Instruction{prog}, []*bc.Table{tab}, filterfuzz.InputOptions{OnlyArch: arch.X86_64.Audit})
	calls := filterfuzz.KernelInputs(inputs, n)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	helper := exec.Command(self)
	// No async preemption: its signals would interrupt the filtered thread.
	helper.Env = append(os.Environ(), helperEnv+"=1", "GODEBUG=asyncpreemptoff=1")
	stops, err := filterfuzz.RunKernel(helper, prog, calls, time.Minute)
	if err != nil {
		return err
	}
	if len(stops) != len(calls) {
		return fmt.Errorf("%d stops for %d calls", len(stops), len(calls))
	}
	for _, s := range stops {
		d := s.Data
		fmt.Printf("%#x %#x %#x %#x %#x %#x %#x %#x %d 0x%08x\n", d.Nr, d.Args[0], d.Args[1], d.Args[2], d.Args[3], d.Args[4], d.Args[5],
			d.InstructionPointer, s.Index, prog[s.Index].K)
	}
	return nil
}
