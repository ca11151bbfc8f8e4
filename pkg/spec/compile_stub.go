//go:build !(cgo && libseccomp)

package spec

import (
	"errors"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
)

// CompileSupported reports whether Compile works in this build.
const CompileSupported = false

// ErrNoLibseccomp is returned by Compile in builds without libseccomp.
var ErrNoLibseccomp = errors.New("compiling a seccomp profile needs libseccomp, the runtimes' own compiler: " +
	"this binary was built without it (rebuild with cgo, libseccomp-dev and -tags libseccomp)")

// Compile needs libseccomp; see compile_libseccomp.go for what it does.
func Compile(p *specs.LinuxSeccomp, runtime string) (bytecode.Stack, error) {
	if err := checkRuntime(runtime); err != nil {
		return nil, err
	}
	if p == nil || (p.DefaultAction == "" && len(p.Syscalls) == 0) {
		return nil, nil
	}
	return nil, ErrNoLibseccomp
}
