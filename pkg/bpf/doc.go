// Package bpf is the instruction model of classic BPF as seccomp takes it:
// struct sock_filter (Instruction), its opcode fields each with its own
// type (Class, Size, Mode, AluOp, JumpOp, Src, RetSrc, MiscOp) and one
// table of their names, the kernel's arithmetic and comparisons
// (AluOp.Apply, JumpOp.Taken), the raw encoding (Decode, Encode), the
// checks the kernel makes before it attaches a filter (Validate), and a
// Builder that writes programs with symbolic jump targets.
//
// The cut: this package knows instructions, not what a filter decides.
// What a seccomp filter reads and returns, struct seccomp_data and the
// SECCOMP_RET_* actions, and everything that gives them meaning (the
// interpreter, the disassembler that names syscalls and actions, the
// symbolic analysis into a decision table) stay in package bytecode,
// which builds on this one. Validate is the exception that proves the
// rule: the kernel's check is seccomp_check_filter, so it knows which
// instructions seccomp allows and the size of struct seccomp_data, and
// nothing else of it.
package bpf
