package bpf

import (
	"strings"
	"testing"
)

// An input longer than the kernel's limit is refused for its length, also
// when it is not a whole number of instructions (a reader that stops one
// byte past the limit hands over 32769 bytes).
func TestDecodeReportsTheLimitBeforeTheFraming(t *testing.T) {
	for _, size := range []int{MaxInstructions*InstructionSize + 1, (MaxInstructions + 1) * InstructionSize} {
		_, err := Decode(make([]byte, size))
		if err == nil || !strings.Contains(err.Error(), "exceeds the kernel limit of 4096 instructions") {
			t.Errorf("Decode(%d bytes) = %v, want the instruction limit", size, err)
		}
	}
	if _, err := Decode(make([]byte, MaxInstructions*InstructionSize)); err != nil {
		t.Errorf("Decode of exactly %d instructions: %v", MaxInstructions, err)
	}
	if _, err := Decode(make([]byte, 12)); err == nil || !strings.Contains(err.Error(), "not a multiple of 8") {
		t.Errorf("Decode(12 bytes) = %v, want the framing error", err)
	}
}
