package config

import (
	"strings"
	"testing"
	"time"
)

// FuzzParse: any input either parses into a configuration whose paths are
// absolute and whose deadlines are positive and ordered, or is an error
// naming the file.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"", "mode: audit\n", "deadline: 3s\nfilterWait: 1s\n", "key: k\nstore: s\n", "{\"policy\": \"preset:strict\"}", "deadline: -1s", "mode: [1]"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Parse([]byte(in), "/etc/sa/config.yaml")
		if err != nil {
			if !strings.Contains(err.Error(), "/etc/sa/config.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, p := range []string{c.Key, c.Store} {
			if !strings.HasPrefix(p, "/") {
				t.Fatalf("relative path %q", p)
			}
		}
		if c.Deadline <= 0 || c.FilterWait <= 0 || time.Duration(c.FilterWait) > time.Duration(c.Deadline) {
			t.Fatalf("deadlines %v %v", c.Deadline, c.FilterWait)
		}
		if c.Mode != "" && c.Mode != "enforce" && c.Mode != "audit" {
			t.Fatalf("mode %q", c.Mode)
		}
	})
}
