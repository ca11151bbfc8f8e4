//go:build race

package bytecode

// raceEnabled: race-instrumented helper processes exit slowly, so
// TestValidateAgreesWithKernel loads fewer programs.
const raceEnabled = true
