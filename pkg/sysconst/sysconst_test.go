package sysconst

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

func TestFormatAndParse(t *testing.T) {
	tests := []struct {
		set  *Set
		v    uint32
		want string // "" = no name: the caller prints the number
	}{
		{Families, 40, "AF_VSOCK"},
		{Families, 1, "AF_UNIX"},
		{Families, 999, ""},
		{SocketTypes, 1 | 0x800, "SOCK_STREAM|SOCK_NONBLOCK"},
		{SocketTypes, 0x80000, "SOCK_CLOEXEC"},
		{SocketTypes, 0xe, ""},
		{CloneFlags, 0x10000000, "CLONE_NEWUSER"},
		{CloneFlags, 0x7e020000, "CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET"},
		{CloneFlags, 0x11 | 0x100, "SIGCHLD|CLONE_VM"},
		{CloneFlags, 0x1, ""},
		{Personalities, 0, "PER_LINUX"},
		{Personalities, 8, "PER_LINUX32"},
		{Personalities, 0x20000, "PER_LINUX|UNAME26"},
		{Personalities, 0x20008, "PER_LINUX32|UNAME26"},
		{Personalities, 0xffffffff, ""},
		{Protections, 0, ""},
		{Protections, 7, "PROT_READ|PROT_WRITE|PROT_EXEC"},
	}
	for _, tt := range tests {
		got, ok := tt.set.Format(tt.v)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s.Format(%#x) = %q, %v; want %q", tt.set, tt.v, got, ok, tt.want)
			continue
		}
		if !ok {
			continue
		}
		back, err := tt.set.Parse(got)
		if err != nil || back != tt.v {
			t.Errorf("%s.Parse(%q) = %#x, %v; want %#x", tt.set, got, back, err, tt.v)
		}
	}
}

func TestParseErrorsNameThePart(t *testing.T) {
	if _, err := Families.Parse("AF_VSOCK|AF_BOGUS"); err == nil || !regexp.MustCompile(`AF_BOGUS.*socket family`).MatchString(err.Error()) {
		t.Fatalf("err = %v", err)
	}
	if v, err := ParseArg("clone", "clone_flags", "CLONE_NEWNS|0x11"); err != nil || v != 0x20011 {
		t.Fatalf("ParseArg = %#x, %v", v, err)
	}
	if _, err := ParseArg("read", "fd", "STDIN"); err == nil {
		t.Fatal("read's fd has no constants")
	}
}

func TestFlagsFormatOnlyFlags(t *testing.T) {
	if s, ok := CloneFlags.FormatFlags(0x7e020000); !ok || s == "" {
		t.Fatalf("mask: %q %v", s, ok)
	}
	if _, ok := CloneFlags.FormatFlags(0x11); ok {
		t.Fatal("CSIGNAL bits are not flags")
	}
	if _, ok := Families.FormatFlags(40); ok {
		t.Fatal("families are no flags")
	}
}

// The personality values are written from <linux/personality.h>: the
// installed kernel header (linux-libc-dev) is the judge.
func TestPersonalitiesMatchKernelHeader(t *testing.T) {
	data, err := os.ReadFile("/usr/include/linux/personality.h")
	if err != nil {
		t.Skip("no kernel header:", err)
	}
	re := regexp.MustCompile(`(?m)^\s*([A-Z0-9_]+)\s*=\s*(0x[0-9a-fA-F]+)\s*,`)
	header := map[string]uint32{}
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		v, _ := strconv.ParseUint(m[2], 0, 32)
		header[m[1]] = uint32(v)
	}
	for _, list := range [][]Named{Personalities.Enum, Personalities.Flags} {
		for _, n := range list {
			v, ok := header[n.Name]
			if !ok || v != n.Value {
				t.Errorf("%s = %#x here, header: %#x (found %v)", n.Name, n.Value, v, ok)
			}
		}
	}
}
