package main

import (
	"strings"
	"testing"
)

const specTestdata = "../../pkg/spec/testdata"

func TestDiffUnknownRuntime(t *testing.T) {
	code, out := runCLI(t, "diff", "--runtime", "youki", "builtin:docker-default", "builtin:docker-default")
	if code != exitError || !strings.Contains(out, `unknown runtime "youki"`) {
		t.Errorf("exit %d: %s", code, out)
	}
}
