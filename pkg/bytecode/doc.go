// Package bytecode models seccomp filters as the kernel sees them: classic BPF
// programs over struct seccomp_data. It decodes and validates raw sock_filter
// arrays with the kernel's rules, evaluates them concretely, disassembles them
// for people, reads them from live processes, and analyses them symbolically
// into a decision table (see Analyze).
package bytecode
