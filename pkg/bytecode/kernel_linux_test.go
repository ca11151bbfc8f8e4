package bytecode

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	"golang.org/x/sys/unix"
)

// kernelLoadEnv names the file with the filter a helper process loads.
const kernelLoadEnv = "BYTECODE_TEST_KERNEL_LOAD"

// Exit codes of the helper process.
const (
	helperLoaded  = 0   // the kernel attached the filter
	helperRefused = 100 // plus the errno seccomp(2) returned
)

// TestKernelLoadHelper is not a test: TestValidateAgreesWithKernel runs the
// test binary again with only this function selected, to load one filter
// into a throwaway process.
//
// The filter is attached to one locked thread only (no TSYNC), so other
// threads keep working: one of them reports the result, because the
// filtered thread may no longer be allowed any syscall, not even exit.
func TestKernelLoadHelper(t *testing.T) {
	path := os.Getenv(kernelLoadEnv)
	if path == "" {
		t.Skip("helper process of TestValidateAgreesWithKernel")
	}
	raw, err := os.ReadFile(path)
	if err != nil || len(raw) == 0 || len(raw)%bpf.InstructionSize != 0 {
		fmt.Fprintf(os.Stderr, "helper: bad filter file: %v\n", err)
		os.Exit(2)
	}
	runtime.GOMAXPROCS(2)
	var loaded atomic.Bool
	go func() {
		// Polled, not signalled: waking this goroutine would take a
		// futex call on the filtered thread.
		for !loaded.Load() {
			time.Sleep(100 * time.Microsecond)
		}
		os.Exit(helperLoaded)
	}()
	runtime.LockOSThread() // never unlocked: the thread dies with the process
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "helper: no_new_privs: %v\n", err)
		os.Exit(2)
	}
	prog := unix.SockFprog{
		Len:    uint16(len(raw) / bpf.InstructionSize),
		Filter: (*unix.SockFilter)(unsafe.Pointer(&raw[0])),
	}
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog)))
	if errno != 0 {
		os.Exit(helperRefused + int(errno))
	}
	loaded.Store(true)
	// The filtered thread waits without a system call (not even a
	// sleep's) until the watcher above, polling every 100µs, exits.
	//lint:ignore SA5002 a wait that makes no system call must spin
	for {
	}
}

// kernelAccepts asks the running kernel whether it attaches prog as a
// seccomp filter.
func kernelAccepts(dir string, i int, prog []bpf.Instruction) (bool, error) {
	path := filepath.Join(dir, strconv.Itoa(i)+".bpf")
	if err := os.WriteFile(path, bpf.Encode(prog), 0o600); err != nil {
		return false, err
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKernelLoadHelper$", "-test.count=1")
	// No async preemption: its signal's sigreturn would run on the
	// filtered thread.
	cmd.Env = append(os.Environ(), kernelLoadEnv+"="+path, "GODEBUG=asyncpreemptoff=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.ExitCode() == helperRefused+int(syscall.EINVAL):
		return false, nil
	case errors.As(err, &exit) && exit.ExitCode() > helperRefused:
		return false, fmt.Errorf("program %d: seccomp(2) failed with errno %d, not EINVAL: %s", i, exit.ExitCode()-helperRefused, out)
	}
	return false, fmt.Errorf("helper for program %d: %v\n%s", i, err, out)
}

// TestValidateAgreesWithKernel loads programs into the running kernel and
// checks that bpf.Validate accepts exactly those the kernel attaches. The
// programs are random but reproducible, biased towards the edges of the
// rules: opcodes next to allowed ones, offsets and shifts at their limits,
// jumps to the last instruction and one past it, scratch slots read before
// and after a store.
func TestValidateAgreesWithKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process per program")
	}
	if os.Getenv(kernelLoadEnv) != "" {
		t.Skip("inside the helper")
	}
	var progs [][]bpf.Instruction
	for _, s := range seeds(t) {
		p, err := bpf.Decode(s)
		if err != nil {
			t.Fatal(err)
		}
		progs = append(progs, p)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 1000
	if raceEnabled {
		n = 60
	}
	for range n {
		progs = append(progs, randomProgram(rng))
	}
	// A helper process per program, as many at once as there are CPUs.
	dir := t.TempDir()
	accepts := make([]bool, len(progs))
	errs := make([]error, len(progs))
	var wg sync.WaitGroup
	running := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, p := range progs {
		running <- struct{}{}
		wg.Go(func() {
			defer func() { <-running }()
			accepts[i], errs[i] = kernelAccepts(dir, i, p)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for i, p := range progs {
		kernel := accepts[i]
		err := bpf.Validate(p)
		if kernel != (err == nil) {
			var b []byte
			for _, l := range Disassemble(p, DisasmOptions{}) {
				b = append(b, l.String()+"\n"...)
			}
			t.Errorf("program %d: kernel accepts: %v, Validate: %v\n%s", i, kernel, err, b)
		}
		if kernel {
			accepted++
		}
	}
	// The generator must exercise both outcomes to mean anything.
	if accepted < len(progs)/5 || accepted > len(progs)*4/5 {
		t.Errorf("kernel accepted %d of %d programs: generator unbalanced", accepted, len(progs))
	}
	t.Logf("kernel accepted %d of %d programs", accepted, len(progs))
}

// allowedOps are the opcodes seccomp_check_filter lets through.
var allowedOps = []bpf.Opcode{
	bpf.Load(bpf.SizeW, bpf.ModeABS), bpf.Load(bpf.SizeW, bpf.ModeLEN), bpf.LoadX(bpf.SizeW, bpf.ModeLEN),
	bpf.Load(bpf.SizeW, bpf.ModeIMM), bpf.LoadX(bpf.SizeW, bpf.ModeIMM), bpf.Load(bpf.SizeW, bpf.ModeMEM), bpf.LoadX(bpf.SizeW, bpf.ModeMEM), bpf.Store, bpf.StoreX,
	bpf.ALU(bpf.AluADD, bpf.SrcK), bpf.ALU(bpf.AluSUB, bpf.SrcX), bpf.ALU(bpf.AluMUL, bpf.SrcK), bpf.ALU(bpf.AluDIV, bpf.SrcK),
	bpf.ALU(bpf.AluDIV, bpf.SrcX), bpf.ALU(bpf.AluAND, bpf.SrcK), bpf.ALU(bpf.AluOR, bpf.SrcX), bpf.ALU(bpf.AluXOR, bpf.SrcK),
	bpf.ALU(bpf.AluLSH, bpf.SrcK), bpf.ALU(bpf.AluRSH, bpf.SrcK), bpf.ALU(bpf.AluLSH, bpf.SrcX), bpf.ALU(bpf.AluNEG, bpf.SrcK),
	bpf.Jump(bpf.JmpJA, bpf.SrcK), bpf.Jump(bpf.JmpJEQ, bpf.SrcK), bpf.Jump(bpf.JmpJGT, bpf.SrcX), bpf.Jump(bpf.JmpJGE, bpf.SrcK),
	bpf.Jump(bpf.JmpJSET, bpf.SrcK), bpf.Ret(bpf.RetK), bpf.Ret(bpf.RetA), bpf.Misc(bpf.MiscTAX), bpf.Misc(bpf.MiscTXA),
}

// randomProgram makes a short program that is valid with some probability.
func randomProgram(rng *rand.Rand) []bpf.Instruction {
	n := 1 + rng.IntN(6)
	prog := make([]bpf.Instruction, n)
	for i := range prog {
		var in bpf.Instruction
		switch r := rng.IntN(20); {
		case r == 0:
			in.Op = bpf.Opcode(rng.IntN(256)) // anything classic BPF has
		case r == 1:
			in.Op = allowedOps[rng.IntN(len(allowedOps))] ^ 1<<rng.IntN(8) // a neighbour
		default:
			in.Op = allowedOps[rng.IntN(len(allowedOps))]
		}
		switch rng.IntN(4) {
		case 0:
			in.K = rng.Uint32()
		default:
			in.K = []uint32{0, 1, 2, 4, 15, 16, 31, 32, 60, 62, 63, 64}[rng.IntN(12)]
		}
		left := n - i - 1 // instructions after this one
		pick := func() uint8 {
			if rng.IntN(8) == 0 {
				return uint8(left) // one past the end
			}
			return uint8(rng.IntN(left + 1))
		}
		in.Jt, in.Jf = pick(), pick()
		if in.Op == bpf.Jump(bpf.JmpJA, bpf.SrcK) && rng.IntN(4) != 0 {
			in.K = uint32(rng.IntN(left + 1))
		}
		prog[i] = in
	}
	if rng.IntN(5) != 0 {
		prog[n-1] = bpf.Instruction{Op: bpf.Ret(bpf.RetK), K: uint32(ActAllow)}
	}
	return prog
}
