package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseFormat(t *testing.T) {
	clone := `name: sys_enter_clone
ID: 1234
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:unsigned long clone_flags;	offset:16;	size:8;	signed:0;
	field:unsigned long newsp;	offset:24;	size:8;	signed:0;
	field:int * parent_tidptr;	offset:32;	size:8;	signed:0;
	field:int *child_tidptr;	offset:40;	size:8;	signed:0;
	field:unsigned long tls;	offset:48;	size:8;	signed:0;

print fmt: "clone_flags: 0x%08lx, ..."
`
	got, err := parseFormat([]byte(clone))
	if err != nil || !slices.Equal(got, []string{"clone_flags", "newsp", "parent_tidptr", "child_tidptr", "tls"}) {
		t.Fatalf("%q, %v", got, err)
	}
	none := "format:\n\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
	if got, err := parseFormat([]byte(none)); err != nil || len(got) != 0 {
		t.Fatalf("getpid: %q, %v", got, err)
	}
	if _, err := parseFormat([]byte("format:\n\tfield:int common_pid;\n")); err == nil || !strings.Contains(err.Error(), "__syscall_nr") {
		t.Fatalf("no nr: %v", err)
	}
	seven := none + strings.Repeat("\tfield:long a;\toffset:16;\tsize:8;\tsigned:0;\n", 7)
	if _, err := parseFormat([]byte(seven)); err == nil {
		t.Fatal("seven parameters accepted")
	}
}

func TestRenderIsSortedGoSource(t *testing.T) {
	src, err := render(map[string][]string{"socket": {"family", "type", "protocol"}, "getpid": nil}, "6.18", "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	if !strings.Contains(s, `"getpid":`) || strings.Index(s, `"getpid"`) > strings.Index(s, `"socket"`) ||
		!strings.Contains(s, `{"family", "type", "protocol"}`) || !strings.Contains(s, "Linux 6.18 (x86_64)") {
		t.Fatalf("%s", s)
	}
}
