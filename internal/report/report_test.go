package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seccomp-attest/seccomp-attest/internal/testfixture"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/bytecode"
	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
)

func readFilter(t *testing.T, name string) ([]byte, *bytecode.Filter) {
	t.Helper()
	raw := testfixture.Read(t, name)
	f, err := bytecode.ParseFilter(raw)
	if err != nil {
		t.Fatal(err)
	}
	return raw, f
}

// signed returns a signed attestation of a container running effective,
// with a diff against intended when intended is not empty.
func signed(t *testing.T, id string, seq uint64, effective, intended string) ([]byte, *attest.Verifier) {
	t.Helper()
	dir := t.TempDir()
	priv, _, err := attest.GenerateKey(attest.KeyECDSAP256, dir)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := attest.LoadSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := attest.Fingerprint(signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	raw, eff := readFilter(t, effective)
	p := &attest.Predicate{
		Container: attest.Container{ID: id, PID: 42},
		Host:      attest.Host{ID: "machine", Kernel: "6.18", Arch: "x86_64", KeyFingerprint: fp},
		Effective: attest.Effective{Threads: []attest.ThreadGroup{
			attest.NewThreadGroup([]int{42}, "filter", []attest.RawFilter{{BPF: raw}}),
		}},
		Tool:  attest.Tool{Name: "seccomp-attest", Version: "test"},
		Time:  "2026-01-02T03:04:05Z",
		Chain: attest.Chain{Sequence: seq},
	}
	if seq > 1 {
		p.Chain.Previous = strings.Repeat("ab", 32)
	}
	if intended != "" {
		_, ref := readFilter(t, intended)
		res, err := compare.Stacks(bytecode.Stack{ref}, bytecode.Stack{eff})
		if err != nil {
			t.Fatal(err)
		}
		diff, err := json.Marshal(map[string]any{"groups": []any{map[string]any{
			"tids": []int{42}, "equivalent": res.Equivalent(), "counts": res.Report().Counts,
			"findings": res.Report().Findings}}})
		if err != nil {
			t.Fatal(err)
		}
		p.Diff = diff
		p.Intended = &attest.Intended{Source: "builtin:docker-default", Digest: strings.Repeat("cd", 32)}
		p.Policy = &attest.Policy{Digest: strings.Repeat("ef", 32), Mode: "enforce"}
		p.Verdict = &attest.Verdict{Result: attest.ResultFail, Reasons: []string{"weaker than intended"}}
	}
	env, err := attest.Sign(context.Background(), attest.NewStatement(p, nil), signer)
	if err != nil {
		t.Fatal(err)
	}
	return env, signer.Verifier()
}

func archView(t *testing.T, c *Container, name string) *ArchView {
	t.Helper()
	for _, a := range c.Groups[0].Arches {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no architecture %s", name)
	return nil
}

// A denylist filter against Docker's allowlist: the syscalls Docker denies (syslog)
// and the denylist lets through come first, marked weaker, with inputs.
func TestWeakerRowsFirstWithCounterexamples(t *testing.T) {
	env, v := signed(t, "web", 1, "denylist.runc.bpf", "docker-default.runc.bpf")
	page, err := Build(context.Background(), []Input{{File: "a.jsonl", Data: env}}, Options{Verifier: v, KeyName: "k.pub"})
	if err != nil {
		t.Fatal(err)
	}
	c := page.Containers[0]
	if c.Signature != "verified" || c.Verdict != "fail" || !c.Groups[0].HasIntended {
		t.Fatalf("signature %s verdict %s intended %v", c.Signature, c.Verdict, c.Groups[0].HasIntended)
	}
	if c.Weaker == 0 {
		t.Fatal("no weaker findings counted")
	}
	x := archView(t, c, "x86_64")
	if !x.Open {
		t.Error("the host architecture is not shown open")
	}
	seenOther := false
	var syslog *Row
	for _, r := range x.Rows {
		if r.Status != "weaker" {
			seenOther = true
		} else if seenOther {
			t.Fatalf("weaker row %s after a row that is not weaker", r.Label)
		}
		if r.Label == "syslog" {
			syslog = r
		}
	}
	if x.Rows[0].Status != "weaker" {
		t.Fatalf("first row %s has status %q", x.Rows[0].Label, x.Rows[0].Status)
	}
	if syslog == nil || syslog.Status != "weaker" || syslog.Class != classAllow || syslog.IntendedClass != classDeny {
		t.Fatalf("syslog row: %+v", syslog)
	}
	if len(syslog.Findings) == 0 || !strings.HasPrefix(syslog.Findings[0].Call, "syslog(") {
		t.Fatalf("syslog findings: %+v", syslog.Findings)
	}

	var out bytes.Buffer
	if err := Render(&out, page); err != nil {
		t.Fatal(err)
	}
	html := out.String()
	for _, want := range []string{`data-syscall="syslog"`, `class="syscall weaker"`, "syslog(0x", "Signatures verified with"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// Without a diff the page shows the effective side only and says so; the
// same syscalls are denied alike and listed compactly.
func TestEffectiveOnlyAndUnverified(t *testing.T) {
	env, _ := signed(t, "db", 1, "docker-default.runc.bpf", "")
	page, err := Build(context.Background(), []Input{{File: "a.jsonl", Data: env}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := page.Containers[0]
	if c.Signature != "not checked" || c.Verdict != "none" || c.Groups[0].HasIntended {
		t.Fatalf("signature %s verdict %s intended %v", c.Signature, c.Verdict, c.Groups[0].HasIntended)
	}
	x := archView(t, c, "x86_64")
	classes := map[string]string{}
	for _, r := range x.Rows {
		classes[r.Label] = r.Class
	}
	if classes["read"] != classAllow || classes["clone"] != classCond || classes["personality"] != classCond {
		t.Fatalf("classes: read %q clone %q personality %q", classes["read"], classes["clone"], classes["personality"])
	}
	for _, r := range archView(t, c, "x32").Rows {
		if r.Label == "read" && r.Nr != "0" {
			t.Errorf("x32 read shown as number %s, want 0 (without __X32_SYSCALL_BIT)", r.Nr)
		}
	}
	if _, ok := classes["reboot"]; ok {
		t.Error("reboot, denied, has a row of its own")
	}
	deniedNames := ""
	for _, d := range x.Denied {
		deniedNames += strings.Join(d.Names, ",") + ","
	}
	if !strings.Contains(deniedNames, "reboot,") {
		t.Errorf("reboot not among the denied: %s", deniedNames)
	}
	var out bytes.Buffer
	if err := Render(&out, page); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "effective decisions only") || !strings.Contains(out.String(), "not verified") {
		t.Error("page does not say that intended is absent and signatures unchecked")
	}
}

// Another key: shown, marked invalid, counted as invalid in the fleet.
// Two attestations of one container: the latest is shown.
func TestFleetLatestAndInvalid(t *testing.T) {
	a1, _ := signed(t, "web", 1, "docker-default.runc.bpf", "")
	a2, _ := signed(t, "web", 2, "denylist.runc.bpf", "docker-default.runc.bpf")
	b, v := signed(t, "db", 3, "docker-default.runc.bpf", "")
	// The knowledge base rates syslog tier 1: it leads the worst list among
	// syscalls found in as many containers.
	kb := func(name string) Explanation {
		if name == "syslog" {
			return Explanation{Tier: 1, Text: "reads the kernel log"}
		}
		return Explanation{}
	}
	page, err := Build(context.Background(), []Input{{File: "1", Data: a1}, {File: "2", Data: a2}, {File: "3", Data: b}},
		Options{Verifier: v, Latest: true, Knowledge: kb})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Containers) != 2 || page.Containers[0].File != "2" || page.Containers[1].ID != "db" {
		t.Fatalf("containers: %+v", page.Containers)
	}
	f := page.Fleet
	if f == nil || f.Attestations != 3 || f.Total != 2 || f.Invalid != 1 || f.None != 1 {
		t.Fatalf("fleet: %+v", f)
	}
	if page.Containers[0].Verdict != "invalid" || len(page.Containers[0].Problems) == 0 {
		t.Fatalf("web signed by another key: verdict %s problems %v", page.Containers[0].Verdict, page.Containers[0].Problems)
	}
	found := false
	for _, w := range f.Worst {
		if w.Syscall == "acct" && slices.Contains(w.Arches, "x86_64") && len(w.Containers) == 1 && w.Containers[0] == "web" {
			found = true
		}
	}
	if w := f.Worst[0]; w.Syscall != "syslog" || w.Knowledge != "reads the kernel log" {
		t.Errorf("first of the worst: %+v, want syslog explained", w)
	}
	if len(f.Worst) != maxWorst || f.MoreWorst == 0 {
		t.Errorf("worst list of %d, %d more: want it capped at %d", len(f.Worst), f.MoreWorst, maxWorst)
	}
	if !found {
		t.Errorf("acct on x86_64 in web not among the worst: %+v", f.Worst[:min(3, len(f.Worst))])
	}
}

// Hostile text is escaped, the page loads nothing, and broken filters are
// reported on the page instead of failing it.
func TestHostileInput(t *testing.T) {
	env, _ := signed(t, "x", 1, "docker-default.runc.bpf", "")
	st, err := attest.DecodeUnverified(env)
	if err != nil {
		t.Fatal(err)
	}
	st.Predicate.Container.ID = `<img src=x onerror=alert(1)>`
	st.Predicate.Container.Annotations = map[string]string{"run.oci.seccomp_bpf_data": `"><script>alert(1)</script>`}
	st.Predicate.Effective.Threads[0].Filters[0].BPF = []byte{1, 2, 3}
	payload, _ := json.Marshal(st)
	forged, _ := json.Marshal(map[string]any{"payloadType": attest.PayloadType, "payload": payload,
		"signatures": []any{}})
	page, err := Build(context.Background(), []Input{{File: "f", Data: forged}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if page.Containers[0].Groups[0].Error == "" {
		t.Error("a 3-byte filter was not reported")
	}
	var out bytes.Buffer
	if err := Render(&out, page); err != nil {
		t.Fatal(err)
	}
	html := out.String()
	if !strings.Contains(html, "run.oci.seccomp_bpf_data") {
		t.Error("the annotations are not shown")
	}
	if strings.Contains(html, "<img") || strings.Contains(html, "<script") {
		t.Error("hostile container id not escaped, or a script on the page")
	}
	for _, ext := range []string{`src="http`, `href="http`, "@import", "url("} {
		if strings.Contains(html, ext) {
			t.Errorf("page refers to an external resource: %s", ext)
		}
	}

	if _, err := Build(context.Background(), []Input{{File: filepath.Join("d", "junk"), Data: []byte("junk")}}, Options{}); err == nil ||
		!strings.Contains(err.Error(), "junk") {
		t.Errorf("junk file: %v", err)
	}
	// In a store, the junk file is shown as invalid next to the rest.
	page, err = Build(context.Background(), []Input{{File: "junk", Data: []byte("junk"), Sequence: 1},
		{File: "ok", Data: env, Sequence: 2}}, Options{Store: true, Latest: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Containers) != 2 || page.Containers[0].Verdict != "invalid" || page.Fleet.Invalid != 1 ||
		!strings.Contains(page.Containers[0].Problems[0], "not a DSSE envelope") {
		t.Errorf("junk in a store: %+v", page.Containers[0])
	}
	out.Reset()
	if err := Render(&out, page); err != nil {
		t.Fatal(err)
	}
	// One in the summary table's header, one for the readable attestation.
	if strings.Count(out.String(), "<th>Host</th>") != 2 {
		t.Error("the unreadable file got host facts of its own")
	}
}

// A large fleet keeps only the rows that differ in its per-container
// tables; the weaker rows are all still there.
func TestLargeFleetShowsDifferencesOnly(t *testing.T) {
	var inputs []Input
	for i := 1; i <= fullDetailContainers+1; i++ {
		env, _ := signed(t, fmt.Sprintf("c%d", i), uint64(i), "denylist.runc.bpf", "docker-default.runc.bpf")
		inputs = append(inputs, Input{File: fmt.Sprint(i), Data: env})
	}
	page, err := Build(context.Background(), inputs, Options{Latest: true})
	if err != nil {
		t.Fatal(err)
	}
	x := archView(t, page.Containers[0], "x86_64")
	if x.Omitted == 0 || len(x.Denied) != 0 {
		t.Fatalf("x86_64: %d omitted, %d denied groups", x.Omitted, len(x.Denied))
	}
	weaker := 0
	for _, r := range x.Rows {
		if r.Status == "" {
			t.Fatalf("row %s agrees and was kept", r.Label)
		}
		if r.Status == "weaker" {
			weaker++
		}
	}
	if weaker == 0 || page.Fleet.Worst[0].Containers == nil || len(page.Fleet.Worst[0].Containers) != fullDetailContainers+1 {
		t.Errorf("weaker rows %d, worst %+v", weaker, page.Fleet.Worst[0])
	}
}

// Threads without any filter: the page says the kernel allows everything
// instead of drawing an empty table.
func TestUnconfinedGroup(t *testing.T) {
	env, _ := signed(t, "x", 1, "docker-default.runc.bpf", "")
	st, err := attest.DecodeUnverified(env)
	if err != nil {
		t.Fatal(err)
	}
	st.Predicate.Effective.Threads = append(st.Predicate.Effective.Threads,
		attest.NewThreadGroup([]int{43}, "disabled", nil))
	payload, _ := json.Marshal(st)
	forged, _ := json.Marshal(map[string]any{"payloadType": attest.PayloadType, "payload": payload, "signatures": []any{}})
	page, err := Build(context.Background(), []Input{{File: "f", Data: forged}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	gs := page.Containers[0].Groups
	if len(gs) != 2 || gs[0].Error != "" || len(gs[0].Arches) == 0 || !strings.Contains(gs[1].Error, "allows every system call") {
		t.Fatalf("groups: %+v %+v", gs[0], gs[1])
	}
}

// A CRI container's page names its pod in the summary and in its facts,
// escaped like every other field of an attestation.
func TestKubernetesWorkloadShown(t *testing.T) {
	env, _ := signed(t, "cri", 1, "docker-default.runc.bpf", "")
	st, err := attest.DecodeUnverified(env)
	if err != nil {
		t.Fatal(err)
	}
	st.Predicate.Container.Kubernetes = &attest.Kubernetes{Namespace: "sa-test", Pod: "web-<b>x</b>", PodUID: "uid-1",
		Container: "app", Image: "localhost/busybox:latest"}
	payload, _ := json.Marshal(st)
	forged, _ := json.Marshal(map[string]any{"payloadType": attest.PayloadType, "payload": payload, "signatures": []any{}})
	page, err := Build(context.Background(), []Input{{File: "f", Data: forged}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Render(&out, page); err != nil {
		t.Fatal(err)
	}
	html := out.String()
	for _, want := range []string{"<td><code>sa-test/web-&lt;b&gt;x&lt;/b&gt;/app</code></td>",
		"namespace <code>sa-test</code>, pod <code>web-&lt;b&gt;x&lt;/b&gt;</code> (uid <code>uid-1</code>), container <code>app</code>, image <code>localhost/busybox:latest</code>"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(html, "<b>x") {
		t.Error("the pod name is not escaped")
	}
}
