//go:build !(linux && amd64)

package filterfuzz

import (
	"errors"
	"os/exec"
	"time"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// KernelOracleSupported says whether this platform has the oracle: it
// issues x86_64 system calls under ptrace.
const KernelOracleSupported = false

// ErrKernelUnavailable is what RunKernel returns here.
var ErrKernelUnavailable = errors.New("kernel oracle unavailable on this platform")

// KernelStop is what the kernel evaluated for one call.
type KernelStop struct {
	Data  bc.Data
	Index int
}

// KernelInputs keeps nothing here.
func KernelInputs(inputs []bc.Data, limit int) []bc.Data { return nil }

// RunKernel is unavailable here.
func RunKernel(helper *exec.Cmd, prog []bpf.Instruction, calls []bc.Data, timeout time.Duration) ([]KernelStop, error) {
	return nil, ErrKernelUnavailable
}

// KernelHelperMain is never started here.
func KernelHelperMain() { panic("kernel oracle helper on an unsupported platform") }

// CheckKernel has nothing to check here.
func CheckKernel(prog []bpf.Instruction, stops []KernelStop) Problems { return nil }
