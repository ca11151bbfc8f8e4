// Package bytecode models seccomp filters as the kernel runs them: classic
// BPF programs (package bpf: instructions, validation, a builder) over
// struct seccomp_data (Data) returning SECCOMP_RET_* values (Action). A
// Filter is a validated program; this package evaluates filters and stacks
// concretely, disassembles them for people, naming syscalls, arguments and
// actions, and analyses them symbolically into a decision table (see
// Analyze).
package bytecode
