package record

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/pkg/arch"
)

func TestAddKeepsArchesApart(t *testing.T) {
	var r Recording
	var args [6]uint64
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.Add(arch.X86_64.Audit, 39, args, nil))                    // getpid
	must(r.Add(arch.X86_64.Audit, arch.X32SyscallBit|39, args, nil)) // x32 getpid
	must(r.Add(arch.X86.Audit, 20, args, nil))                       // i386 getpid
	must(r.Add(arch.X86_64.Audit, 39, args, nil))
	if got := r.Arches["x86_64"].Syscalls[39].Count; got != 2 {
		t.Errorf("x86_64 getpid count %d, want 2", got)
	}
	if r.Arches["x32"].Syscalls[39] == nil || r.Arches["x86"].Syscalls[20] == nil {
		t.Errorf("x32 or i386 call not recorded under its own arch: %+v", r.Arches)
	}
	if err := r.Add(0x1234, 1, args, nil); err == nil {
		t.Error("unknown AUDIT_ARCH accepted")
	}
}

func TestArgValuesAreBounded(t *testing.T) {
	var r Recording
	for v := range uint64(MaxValues) {
		r.Add(arch.X86_64.Audit, 41, [6]uint64{v % 3, v}, []int{0, 1})
	}
	u := r.Arches["x86_64"].Syscalls[41]
	if !slices.Equal(u.Args[0], []uint64{0, 1, 2}) || len(u.Args[1]) != MaxValues || u.ArgsOverflow[1] {
		t.Fatalf("args %v overflow %v", u.Args, u.ArgsOverflow)
	}
	r.Add(arch.X86_64.Audit, 41, [6]uint64{0, 999}, []int{0, 1})
	if !u.ArgsOverflow[1] || u.Args[1] != nil {
		t.Fatalf("argument 1 past MaxValues: args %v overflow %v", u.Args, u.ArgsOverflow)
	}
}

func TestMergeAndRoundTrip(t *testing.T) {
	a := &Recording{Complete: true}
	a.Add(arch.X86_64.Audit, 41, [6]uint64{2}, []int{0})
	b := &Recording{Complete: false, Problem: "recorder died"}
	b.Add(arch.X86_64.Audit, 41, [6]uint64{10}, []int{0})
	b.Add(arch.X86_64.Audit, 0, [6]uint64{}, nil)
	a.Merge(b)
	if a.Complete || a.Problem == "" {
		t.Error("merge with an incomplete recording is complete")
	}
	raw, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Arches["x86_64"].Syscalls[41].Args[0]; !slices.Equal(got, []uint64{2, 10}) {
		t.Errorf("socket families after merge and round trip: %v", got)
	}
	if _, err := Decode([]byte(`{"arches":{"vax":{"syscalls":{}}}}`)); err == nil {
		t.Error("unknown arch accepted")
	}
	if _, err := Decode([]byte(`{"bogus":1}`)); err == nil {
		t.Error("unknown field accepted")
	}
}

// Decode refuses what no recorder writes, instead of a generator that
// skips it (an architecture by an alias), panics on it (null entries) or
// reads it as something else (a complete recording with a problem).
func TestDecodeRefusesWhatNoRecorderWrites(t *testing.T) {
	const head = `{"started":"2026-01-01T00:00:00Z","recorder":"t","complete":true,`
	for _, tc := range []struct{ what, json, want string }{
		{"alias amd64", `"arches":{"amd64":{"syscalls":{"59":{"count":1}}}}}`, `"x86_64"`},
		{"OCI name", `"arches":{"SCMP_ARCH_X86_64":{"syscalls":{"59":{"count":1}}}}}`, `"x86_64"`},
		{"no syscalls object", `"arches":{"x86_64":{}}}`, "no syscalls object"},
		{"null syscalls", `"arches":{"x86_64":{"syscalls":null}}}`, "no syscalls object"},
		{"no syscalls", `"arches":{"x86_64":{"syscalls":{"59":{"count":1}}},"x86":{"syscalls":{}}}}`, "arch x86: no syscalls recorded"},
		{"unknown unobserved name", `"unobserved":["exit","wirte"],"arches":{"x86_64":{"syscalls":{"59":{"count":1}}}}}`, `unobserved syscall "wirte"`},
		{"null entry", `"arches":{"x86_64":{"syscalls":{"59":null}}}}`, "null entry"},
		{"argument index 6", `"arches":{"x86_64":{"syscalls":{"41":{"count":1,"args":{"6":[1]}}}}}}`, "argument index 6"},
		{"argument index -1", `"arches":{"x86_64":{"syscalls":{"41":{"count":1,"args":{"-1":[1]}}}}}}`, "argument index -1"},
		{"overflow index 7", `"arches":{"x86_64":{"syscalls":{"41":{"count":1,"argsOverflow":{"7":true}}}}}}`, "argsOverflow index 7"},
		{"values of read's fd", `"arches":{"x86_64":{"syscalls":{"0":{"count":1,"args":{"0":[3]}}}}}}`, "values of argument 0, which a recorder does not keep"},
		{"s390x clone's stack pointer", `"arches":{"s390x":{"syscalls":{"120":{"count":1,"args":{"0":[0]}}}}}}`, "values of argument 0, which a recorder does not keep"},
		{"17 values", `"arches":{"x86_64":{"syscalls":{"41":{"count":1,"args":{"0":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}}}}}}`, "17 values"},
		{"complete with a problem", `"problem":"lost 3 notifications","arches":{"x86_64":{"syscalls":{"59":{"count":1}}}}}`, "lost 3 notifications"},
	} {
		if _, err := Decode([]byte(head + tc.json)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one saying %s", tc.what, err, tc.want)
		}
	}
	// What recorders keep: x32's socket family, s390x's clone flags (argument 1).
	if _, err := Decode([]byte(head + `"arches":{"x32":{"syscalls":{"41":{"count":1,"args":{"0":[1]}}}},"s390x":{"syscalls":{"120":{"count":1,"args":{"1":[17]}}}}}}`)); err != nil {
		t.Error(err)
	}
	r, err := Decode([]byte(head + `"arches":{"x86_64":{"syscalls":{"41":{"count":2,"args":{"0":[10,2,10]}}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Arches["x86_64"].Syscalls[41].Args[0]; !slices.Equal(got, []uint64{2, 10}) {
		t.Errorf("values %v, want sorted and deduplicated", got)
	}
}

// Merge takes recordings built in memory too: an architecture without
// syscalls or a nil entry adds nothing and does not panic.
func TestMergeToleratesEmptyEntries(t *testing.T) {
	a := &Recording{Complete: true, Arches: map[string]*ArchCalls{"x86_64": {}}}
	b := &Recording{Complete: true, Arches: map[string]*ArchCalls{"x86_64": {Syscalls: map[uint32]*SyscallUse{59: {Count: 1}, 0: nil}}, "x86": nil}}
	a.Merge(b)
	if u := a.Arches["x86_64"].Syscalls[59]; u == nil || u.Count != 1 || len(a.Arches["x86_64"].Syscalls) != 1 {
		t.Errorf("after merge: %+v", a.Arches["x86_64"].Syscalls)
	}
}
