package bytecode

import (
	"fmt"

	"github.com/seccomp-attest/seccomp-attest/pkg/bpf"
)

// Data is struct seccomp_data, the input of a seccomp filter.
type Data struct {
	Nr                 uint32 // int nr, as the filter reads it
	Arch               uint32
	InstructionPointer uint64
	Args               [6]uint64
}

// DataSize is sizeof(struct seccomp_data), which bpf.Validate checks
// loads against.
const DataSize = bpf.SeccompDataSize

// Offsets of the fields of struct seccomp_data.
const (
	OffsetNr   = 0
	OffsetArch = 4
	OffsetIP   = 8
	OffsetArgs = 16
)

// Word returns the 32-bit word at byte offset off of the struct in host
// (little-endian) byte order, as BPF_LD|BPF_W|BPF_ABS reads it. off must be
// a valid, aligned offset (bpf.Validate ensures that).
func (d *Data) Word(off uint32) uint32 {
	switch {
	case off == OffsetNr:
		return d.Nr
	case off == OffsetArch:
		return d.Arch
	case off == OffsetIP:
		return uint32(d.InstructionPointer)
	case off == OffsetIP+4:
		return uint32(d.InstructionPointer >> 32)
	case off >= OffsetArgs && off < DataSize:
		v := d.Args[(off-OffsetArgs)/8]
		if (off-OffsetArgs)%8 == 4 {
			return uint32(v >> 32)
		}
		return uint32(v)
	}
	panic(fmt.Sprintf("seccomp_data offset %d out of range", off))
}
