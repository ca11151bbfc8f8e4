//go:build !race

package bytecode

const raceEnabled = false
