package bytecode

// Test helpers for the tests of package bytecode_test (the libseccomp
// ones, which import pkg/spec and so cannot be in package bytecode).
var (
	CheckDifferential = checkDifferential
	Unanalysed        = unanalysed
)
