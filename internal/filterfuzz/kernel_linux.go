//go:build linux && amd64

package filterfuzz

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/tracer"
	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
	bc "github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// The kernel oracle: the program, every RET K rewritten to RET TRACE with
// the instruction's index as data, runs in a child under ptrace with
// PTRACE_O_TRACESECCOMP. The child issues the calls one after the other;
// at each PTRACE_EVENT_SECCOMP stop the parent reads the index the kernel
// reached (PTRACE_GETEVENTMSG) and the registers it evaluated, then skips
// the call (orig_rax = -1), so that no call ever runs.

// KernelOracleSupported says whether this platform has the oracle.
const KernelOracleSupported = true

// TraceRewrite returns prog with every RET K at index i turned into
// RET TRACE|i. ok is false for programs the oracle cannot run: RET A
// (its value is computed, not rewritable) and division by X (X = 0
// kills the thread).
func TraceRewrite(prog []bpf.Instruction) (out []bpf.Instruction, ok bool) {
	out = slices.Clone(prog)
	for i, in := range out {
		switch {
		case in.Op == bpf.Ret(bpf.RetA), in.Op == bpf.ALU(bpf.AluDIV, bpf.SrcX):
			return nil, false
		case in.Op == bpf.Ret(bpf.RetK):
			out[i].K = uint32(bc.ActTrace) | uint32(i)
		}
	}
	return out, true
}

// Numbers never issued to the kernel: uretprobe and uprobe run without
// seccomp on this kernel (DESIGN.md names uretprobe; on 6.18.44 a call to
// uprobe, 336, under a RET TRACE filter ran without a stop too), so the
// call would really execute; and calls that would harm the machine if a
// stop were ever missed.
var unsafeNrs = map[uint32]bool{
	335: true, // uretprobe
	336: true, // uprobe
	62:  true, // kill
	200: true, // tkill
	234: true, // tgkill
	424: true, // pidfd_send_signal
	169: true, // reboot
	246: true, // kexec_load
	320: true, // kexec_file_load
	60:  true, // exit
	231: true, // exit_group
	15:  true, // rt_sigreturn
}

// runtimeNrs are the calls the Go runtime may make on the filtered thread
// between the oracle's calls; they are let through, every other stop that
// is not the expected call is skipped and reported.
var runtimeNrs = map[uint64]bool{
	202: true, // futex
	24:  true, // sched_yield
	35:  true, // nanosleep
	230: true, // clock_nanosleep
	14:  true, // rt_sigprocmask
	131: true, // sigaltstack
	9:   true, // mmap
	11:  true, // munmap
	28:  true, // madvise
	10:  true, // mprotect
	186: true, // gettid
	39:  true, // getpid
	231: true, // exit_group
	15:  true, // rt_sigreturn, after a signal handler
	13:  true, // rt_sigaction
	318: true, // getrandom
	1:   true, // write, of a crash report
}

// KernelInputs keeps the inputs the oracle can issue: x86_64's AUDIT_ARCH
// value (native and x32 numbers; i386 cannot be issued on these VMs), no
// unsafe number, each (nr, args) once, at most limit of them.
func KernelInputs(inputs []bc.Data, limit int) []bc.Data {
	var out []bc.Data
	seen := map[[7]uint64]bool{}
	for _, d := range inputs {
		if d.Arch != arch.X86_64.Audit || unsafeNrs[d.Nr&^arch.X32SyscallBit] {
			continue
		}
		key := [7]uint64{uint64(d.Nr), d.Args[0], d.Args[1], d.Args[2], d.Args[3], d.Args[4], d.Args[5]}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, d)
	}
	if limit > 0 && len(out) > limit {
		stride := (len(out) + limit - 1) / limit
		kept := out[:0]
		for i := 0; i < len(out); i += stride {
			kept = append(kept, out[i])
		}
		out = kept
	}
	return out
}

// KernelStop is what the kernel evaluated for one call: the seccomp_data
// (from the registers at the stop: nr, args and the instruction pointer
// of the call) and the index of the RET it reached.
type KernelStop struct {
	Data  bc.Data
	Index int
}

// ErrKernelUnavailable wraps failures to set the oracle up (no privilege
// to trace, seccomp missing), as opposed to disagreements.
var ErrKernelUnavailable = errors.New("kernel oracle unavailable")

// RunKernel runs prog in the kernel on the calls (their arch is x86_64's;
// numbers with the x32 bit are x32 calls) and returns a stop per call.
// helper is the command of a process that calls KernelHelperMain; it is
// started here.
func RunKernel(helper *exec.Cmd, prog []bpf.Instruction, calls []bc.Data, timeout time.Duration) ([]KernelStop, error) {
	rewritten, ok := TraceRewrite(prog)
	if !ok {
		return nil, fmt.Errorf("the program has RET A or DIV X: the kernel oracle cannot run it")
	}
	// The tracing thread (internal/tracer) starts the helper too, so that
	// Pdeathsig ties the helper to it. The helper is never let go: trace
	// kills it, and should it still run when the thread ends with the run,
	// PTRACE_O_EXITKILL and Pdeathsig kill it.
	var stops []KernelStop
	var err error
	tracer.Run(func() { stops, err = trace(helper, rewritten, calls, timeout) })
	return stops, err
}

func trace(cmd *exec.Cmd, prog []bpf.Instruction, calls []bc.Data, timeout time.Duration) (stops []KernelStop, err error) {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: start helper: %v", ErrKernelUnavailable, err)
	}
	// The waits below block: the watchdog bounds them by killing the
	// helper, whose end they then report (tracer.WaitBlocking).
	var timedOut atomic.Bool
	watchdog := time.AfterFunc(timeout, func() {
		timedOut.Store(true)
		cmd.Process.Kill()
	})
	defer func() {
		watchdog.Stop()
		cmd.Process.Kill()
		cmd.Wait() // the tracer's wait may have reaped it already
		if err != nil && timedOut.Load() {
			err = fmt.Errorf("%w (the helper ran past %v and was killed)", err, timeout)
		}
		if err != nil && stderr.Len() > 0 {
			err = fmt.Errorf("%w\nhelper stderr: %s", err, stderr.Bytes())
		}
	}()

	req := binary.LittleEndian.AppendUint32(nil, uint32(len(prog)))
	req = append(req, bpf.Encode(prog)...)
	req = binary.LittleEndian.AppendUint32(req, uint32(len(calls)))
	for _, c := range calls {
		req = binary.LittleEndian.AppendUint32(req, c.Nr)
		for _, a := range c.Args {
			req = binary.LittleEndian.AppendUint64(req, a)
		}
	}
	if _, err := stdin.Write(req); err != nil {
		return nil, fmt.Errorf("%w: send the program: %v", ErrKernelUnavailable, err)
	}
	var tidBuf [4]byte
	if _, err := io.ReadFull(stdout, tidBuf[:]); err != nil {
		return nil, fmt.Errorf("%w: read the helper's thread id: %v", ErrKernelUnavailable, err)
	}
	tid := int(binary.LittleEndian.Uint32(tidBuf[:]))
	// PTRACE_SEIZE takes the options itself: the tracee keeps running, and
	// PTRACE_SETOPTIONS would need it stopped.
	if err := tracer.Seize(tid, unix.PTRACE_O_TRACESECCOMP|unix.PTRACE_O_EXITKILL); err != nil {
		return nil, fmt.Errorf("%w: PTRACE_SEIZE %d: %v", ErrKernelUnavailable, tid, err)
	}
	if _, err := stdin.Write([]byte{1}); err != nil {
		return nil, fmt.Errorf("%w: start the calls: %v", ErrKernelUnavailable, err)
	}

	var problems []string
	var missed []int // calls that ran without a stop
	next := 0
	for {
		_, ws, err := tracer.WaitBlocking(tid)
		if err != nil {
			return stops, fmt.Errorf("wait for thread %d: %v", tid, err)
		}
		if ws.Exited() || ws.Signaled() {
			switch {
			case ws.Exited() && ws.ExitStatus() == helperNoFilter:
				return stops, fmt.Errorf("%w: the helper could not load the filter", ErrKernelUnavailable)
			case ws.Exited() && ws.ExitStatus() == helperRefused:
				return stops, fmt.Errorf("the kernel refused a filter Validate accepts")
			case next < len(calls):
				return stops, fmt.Errorf("the helper ended (status %#x) after %d of %d calls; %v", ws, next, len(calls), problems)
			case len(missed) > 0:
				c := &calls[missed[0]]
				return stops, fmt.Errorf("%d calls ran without a seccomp stop, the first: %s", len(missed), DataString(c))
			case len(problems) > 0:
				return stops, fmt.Errorf("unexpected stops: %v", problems)
			}
			return stops, nil
		}
		if !ws.Stopped() {
			continue
		}
		if tracer.Event(ws) == unix.PTRACE_EVENT_SECCOMP {
			msg, err := tracer.EventMsg(tid)
			if err != nil {
				return stops, fmt.Errorf("PTRACE_GETEVENTMSG: %v", err)
			}
			var regs unix.PtraceRegs
			if err := unix.PtraceGetRegs(tid, &regs); err != nil {
				return stops, fmt.Errorf("PTRACE_GETREGS: %v", err)
			}
			d := bc.Data{Nr: uint32(regs.Orig_rax), Arch: arch.X86_64.Audit, InstructionPointer: regs.Rip,
				Args: [6]uint64{regs.Rdi, regs.Rsi, regs.Rdx, regs.R10, regs.R8, regs.R9}}
			// The expected call, or a later one when the kernel let calls
			// through without a stop (those are reported).
			expected := false
			for j := next; j < min(next+16, len(calls)); j++ {
				if calls[j].Nr == d.Nr && calls[j].Args == d.Args {
					for ; next < j; next++ {
						missed = append(missed, next)
					}
					stops = append(stops, KernelStop{Data: d, Index: int(msg & 0xffff)})
					next++
					expected = true
					break
				}
			}
			if !expected && !runtimeNrs[regs.Orig_rax] && len(problems) < 4 {
				want := "none"
				if next < len(calls) {
					want = DataString(&calls[next])
				}
				problems = append(problems, fmt.Sprintf("waiting for call %d (%s), stopped at %s", next, want, DataString(&d)))
			}
			if expected || !runtimeNrs[regs.Orig_rax] {
				// Skip the call: it never runs.
				regs.Orig_rax = ^uint64(0)
				if err := unix.PtraceSetRegs(tid, &regs); err != nil {
					return stops, fmt.Errorf("PTRACE_SETREGS: %v", err)
				}
			}
		}
		// On as without a tracer (tracer.Resume): a signal for the thread
		// is delivered, a group stop stays stopped (until the watchdog),
		// any other event stop goes on.
		if err := tracer.Resume(tid, ws); err != nil {
			return stops, fmt.Errorf("resume thread %d: %v", tid, err)
		}
	}
}

// Exit codes of the helper process.
const (
	helperBadRequest = 2
	helperNoFilter   = 3
	helperRefused    = 4
)

// KernelHelperMain is the child of RunKernel: it reads the program and the
// calls from stdin, reports its thread id on stdout, waits for the tracer,
// loads the filter on its locked thread only and issues every call. It
// never returns.
func KernelHelperMain() {
	runtime.LockOSThread() // the tracer seizes this thread; never unlocked
	in := bufio.NewReader(os.Stdin)
	fail := func(code int, format string, args ...any) {
		fmt.Fprintf(os.Stderr, "kernel oracle helper: "+format+"\n", args...)
		os.Exit(code)
	}
	var n uint32
	if err := binary.Read(in, binary.LittleEndian, &n); err != nil || n == 0 || n > bpf.MaxInstructions {
		fail(helperBadRequest, "program length %d: %v", n, err)
	}
	raw := make([]byte, n*bpf.InstructionSize)
	if _, err := io.ReadFull(in, raw); err != nil {
		fail(helperBadRequest, "program: %v", err)
	}
	var count uint32
	if err := binary.Read(in, binary.LittleEndian, &count); err != nil {
		fail(helperBadRequest, "call count: %v", err)
	}
	type call struct {
		Nr   uint32
		Args [6]uint64
	}
	calls := make([]call, count)
	if err := binary.Read(in, binary.LittleEndian, calls); err != nil {
		fail(helperBadRequest, "calls: %v", err)
	}
	if err := binary.Write(os.Stdout, binary.LittleEndian, uint32(unix.Gettid())); err != nil {
		fail(helperBadRequest, "write thread id: %v", err)
	}
	if _, err := in.ReadByte(); err != nil {
		fail(helperBadRequest, "wait for the tracer: %v", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fail(helperNoFilter, "no_new_privs: %v", err)
	}
	fprog := unix.SockFprog{Len: uint16(n), Filter: (*unix.SockFilter)(unsafe.Pointer(&raw[0]))}
	// No TSYNC: only this thread is filtered, and only it is traced.
	if _, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog))); errno != 0 {
		code := helperNoFilter
		if errno == unix.EINVAL {
			code = helperRefused
		}
		fail(code, "seccomp: %v", errno)
	}
	for i := range calls {
		c := &calls[i]
		unix.RawSyscall6(uintptr(c.Nr), uintptr(c.Args[0]), uintptr(c.Args[1]), uintptr(c.Args[2]),
			uintptr(c.Args[3]), uintptr(c.Args[4]), uintptr(c.Args[5]))
	}
	unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	select {}
}

// CheckKernel compares the kernel's stops with the evaluator: on the data
// the kernel evaluated, the rewritten program must return the index the
// kernel reported.
func CheckKernel(prog []bpf.Instruction, stops []KernelStop) Problems {
	var ps Problems
	rewritten, ok := TraceRewrite(prog)
	if !ok {
		return ps
	}
	f, err := bc.NewFilter(rewritten)
	if err != nil {
		ps.Add(New, "kernel.rewrite", "the rewritten program is invalid: %v", err)
		return ps
	}
	for i := range stops {
		st := &stops[i]
		got := f.Run(&st.Data)
		if st.Index >= len(prog) || prog[st.Index].Op != bpf.Ret(bpf.RetK) {
			ps.Add(New, "kernel.index", "%s: kernel reported index %d, not a RET K", DataString(&st.Data), st.Index)
			continue
		}
		if got.Kind() != bc.ActTrace || int(got.Data()) != st.Index {
			ps.Add(New, "kernel.evaluator", "%s: kernel reached the RET at %d (%#x), evaluator the RET at %d (%#x)",
				DataString(&st.Data), st.Index, prog[st.Index].K, got.Data(), prog[min(int(got.Data()), len(prog)-1)].K)
		}
	}
	return ps
}
