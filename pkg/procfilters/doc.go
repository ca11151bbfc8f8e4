// Package procfilters reads the seccomp filters the kernel enforces on a
// live process: the mode of each thread from /proc, and the filters
// themselves with PTRACE_SECCOMP_GET_FILTER, either by seizing each
// thread for the read (ReadProcess) or from a thread the caller already
// holds in a ptrace stop (ReadTracedThread, ReadTracedProcess), as the
// runtime wrapper and the install stop do. Its seizes, waits and
// detaches go through internal/tracer.
package procfilters
