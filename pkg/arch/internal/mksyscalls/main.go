// Command mksyscalls writes the syscall tables of package arch
// (zsyscalls_*.go) from the SYS_* constants of golang.org/x/sys/unix, which
// are generated from the kernel's own uapi headers. Run it with
// `go generate ./pkg/arch`.
//
// x/sys has no table for x32 and none for 31-bit s390. The x32 table is the
// x86_64 table without the syscalls whose ABI is "64" in the kernel's
// arch/x86/entry/syscalls/syscall_64.tbl, plus the x32-only entries 512-547
// of that file. s390 stays without a table: its 31-bit ABI reuses numbers
// with other meanings (199 is getuid32 there) and nothing here states them.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// xsysVersion pins the x/sys release the tables come from, so that the
// generated files change only when someone moves this on purpose.
const xsysVersion = "v0.49.0"

// table says where one syscall table comes from. Architectures that differ
// only in byte order (mips and mipsel, mips64 and mipsel64, ppc64 and
// ppc64le) share one ABI and so one table: each of them is still read from
// its own x/sys file, and the generator refuses to share a table whose
// sources disagree.
type table struct {
	arches []string // variables in package arch that use the table; the first names it
	files  []string // golang.org/x/sys/unix/zsysnum_linux_<goarch>.go, one per arch
	extra  []entry
	derive func(base []entry) []entry // builds the table from another one (x32)
	from   string                     // table whose entries derive starts from
}

// name is the table's name: its first architecture's.
func (t table) name() string { return t.arches[0] }

type entry struct {
	name string
	nr   uint32
}

// armPrivate are ARM's private syscalls (__ARM_NR_BASE 0x0f0000 in
// arch/arm/include/uapi/asm/unistd.h). x/sys leaves them out, but seccomp
// sees them like any other number, and libseccomp filters name them.
var armPrivate = []entry{
	{"breakpoint", 0x0f0001},
	{"cacheflush", 0x0f0002},
	{"usr26", 0x0f0003},
	{"usr32", 0x0f0004},
	{"set_tls", 0x0f0005},
	{"get_tls", 0x0f0006},
}

// x86_64Only are the numbers whose ABI is "64" in syscall_64.tbl: x86_64
// has them, x32 does not (it has its own entry at 512+ or none at all).
var x86_64Only = map[uint32]bool{
	13: true, 15: true, 16: true, 19: true, 20: true, 45: true, 46: true, 47: true,
	54: true, 55: true, 59: true, 101: true, 127: true, 128: true, 129: true, 131: true,
	134: true, 156: true, 174: true, 177: true, 178: true, 180: true, 205: true, 206: true,
	209: true, 211: true, 214: true, 215: true, 222: true, 236: true, 244: true, 246: true,
	247: true, 273: true, 274: true, 278: true, 279: true, 295: true, 296: true, 297: true,
	299: true, 307: true, 310: true, 311: true, 322: true, 327: true, 328: true, 453: true,
}

// x32Only are the "x32" entries of syscall_64.tbl, relative to
// __X32_SYSCALL_BIT. The range 512-547 is closed: the kernel adds no more.
var x32Only = []string{
	"rt_sigaction", "rt_sigreturn", "ioctl", "readv", "writev", "recvfrom", "sendmsg", "recvmsg",
	"execve", "ptrace", "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo", "sigaltstack",
	"timer_create", "mq_notify", "kexec_load", "waitid", "set_robust_list", "get_robust_list",
	"vmsplice", "move_pages", "preadv", "pwritev", "rt_tgsigqueueinfo", "recvmmsg", "sendmmsg",
	"process_vm_readv", "process_vm_writev", "setsockopt", "getsockopt", "io_setup", "io_submit",
	"execveat", "preadv2", "pwritev2",
}

func x32(base []entry) []entry {
	var out []entry
	for _, e := range base {
		if !x86_64Only[e.nr] {
			out = append(out, e)
		}
	}
	for i, name := range x32Only {
		out = append(out, entry{name, 512 + uint32(i)})
	}
	return out
}

var tables = []table{
	{arches: []string{"X86_64"}, files: []string{"amd64"}},
	{arches: []string{"X32"}, from: "X86_64", derive: x32},
	{arches: []string{"X86"}, files: []string{"386"}},
	{arches: []string{"AArch64"}, files: []string{"arm64"}},
	{arches: []string{"ARM"}, files: []string{"arm"}, extra: armPrivate},
	{arches: []string{"RISCV64"}, files: []string{"riscv64"}},
	{arches: []string{"S390X"}, files: []string{"s390x"}},
	{arches: []string{"PPC64", "PPC64LE"}, files: []string{"ppc64", "ppc64le"}},
	{arches: []string{"MIPS", "MIPSEL"}, files: []string{"mips", "mipsle"}},         // o32
	{arches: []string{"MIPS64", "MIPSEL64"}, files: []string{"mips64", "mips64le"}}, // n64
	{arches: []string{"LoongArch64"}, files: []string{"loong64"}},
}

func main() {
	out := flag.String("out", ".", "directory of package arch")
	xsys := flag.String("xsys", "", "directory of golang.org/x/sys (default: the module cache, after go mod download)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("mksyscalls: ")

	dir := *xsys
	if dir == "" {
		var err error
		if dir, err = download("golang.org/x/sys@" + xsysVersion); err != nil {
			log.Fatal(err)
		}
	}
	if err := generate(*out, dir); err != nil {
		log.Fatal(err)
	}
}

// generate writes every table into out from the x/sys tree at xsysDir.
func generate(out, xsysDir string) error {
	done := map[string][]entry{}
	for _, t := range tables {
		var entries []entry
		if t.derive != nil {
			entries = t.derive(done[t.from])
		} else {
			var err error
			if entries, err = parseShared(xsysDir, t); err != nil {
				return err
			}
		}
		entries = append(entries, t.extra...)
		if err := check(t.name(), entries); err != nil {
			return err
		}
		done[t.name()] = entries
		if err := write(out, t, entries); err != nil {
			return err
		}
	}
	return nil
}

// parseShared reads each of a table's x/sys files and returns their
// common entries, or an error naming the first number where two differ.
func parseShared(xsysDir string, t table) ([]entry, error) {
	var first []entry
	for i, goarch := range t.files {
		entries, err := parse(filepath.Join(xsysDir, "unix", "zsysnum_linux_"+goarch+".go"))
		if err != nil {
			return nil, err
		}
		sortByNr(entries)
		if i == 0 {
			first = entries
			continue
		}
		if err := sameABI(first, entries); err != nil {
			return nil, fmt.Errorf("%s and %s cannot share a table: %v", t.arches[0], t.arches[i], err)
		}
	}
	return first, nil
}

// sameABI reports the first difference between two tables sorted by number.
func sameABI(a, b []entry) error {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return fmt.Errorf("%s is %d in one, %s is %d in the other", a[i].name, a[i].nr, b[i].name, b[i].nr)
		}
	}
	if len(a) != len(b) {
		return fmt.Errorf("%d syscalls against %d", len(a), len(b))
	}
	return nil
}

func sortByNr(entries []entry) {
	sort.Slice(entries, func(i, j int) bool { return entries[i].nr < entries[j].nr })
}

// download fetches a module version through the module proxy and returns
// its directory in the module cache.
func download(mod string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %v", mod, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(b, &info); err != nil {
		return "", fmt.Errorf("go mod download %s: %v", mod, err)
	}
	if info.Error != "" {
		return "", fmt.Errorf("go mod download %s: %s", mod, info.Error)
	}
	return info.Dir, nil
}

// notSyscall matches constants of the uapi headers that name no syscall:
// SYS_SYSCALL_MASK (arm), __NR_arch_specific_syscall (the start of the
// asm-generic range for private calls) and MIPS's unusedNN/reservedNN
// placeholders, which the kernel routes to sys_ni_syscall.
var notSyscall = regexp.MustCompile(`^(syscall_mask|arch_specific_syscall|unused[0-9]+|reserved[0-9]+)$`)

// parse reads the SYS_* constants of one zsysnum file.
func parse(path string) ([]entry, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, id := range vs.Names {
				name := strings.ToLower(strings.TrimPrefix(id.Name, "SYS_"))
				if !strings.HasPrefix(id.Name, "SYS_") || notSyscall.MatchString(name) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.INT {
					return nil, fmt.Errorf("%s: %s is not an integer literal", path, id.Name)
				}
				nr, err := strconv.ParseUint(lit.Value, 0, 32)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %v", path, id.Name, err)
				}
				out = append(out, entry{name, uint32(nr)})
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no SYS_ constants", path)
	}
	return out, nil
}

// check refuses tables the lookups could not represent: a name or a number
// given twice.
func check(arch string, entries []entry) error {
	names := map[string]bool{}
	nrs := map[uint32]string{}
	for _, e := range entries {
		if names[e.name] {
			return fmt.Errorf("%s: %s listed twice", arch, e.name)
		}
		if other, ok := nrs[e.nr]; ok {
			return fmt.Errorf("%s: %s and %s both have number %d", arch, other, e.name, e.nr)
		}
		names[e.name] = true
		nrs[e.nr] = e.name
	}
	return nil
}

func write(dir string, t table, entries []entry) error {
	sortByNr(entries)
	var sources []string
	for _, goarch := range t.files {
		sources = append(sources, "unix/zsysnum_linux_"+goarch+".go")
	}
	source := "golang.org/x/sys " + xsysVersion + " " + strings.Join(sources, " and ")
	if t.derive != nil {
		source = "the " + t.from + " table and the x32 ABI of syscall_64.tbl"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/mksyscalls from %s. DO NOT EDIT.\n\n", source)
	// A package-level literal is laid out by the linker; built inside
	// init it would cost every process that links the package (the hook
	// included) an allocation and copy of each table at start.
	v := "syscalls" + t.name()
	fmt.Fprintf(&b, "package arch\n\n")
	if len(t.arches) > 1 {
		fmt.Fprintf(&b, "// %s share one ABI (they differ in byte order only) and so this table.\n", strings.Join(t.arches, " and "))
	}
	fmt.Fprintf(&b, "func init() {\n")
	for _, a := range t.arches {
		fmt.Fprintf(&b, "\t%s.register(%s)\n", a, v)
	}
	fmt.Fprintf(&b, "}\n\nvar %s = []Syscall{\n", v)
	for _, e := range entries {
		fmt.Fprintf(&b, "\t{%q, %d},\n", e.name, e.nr)
	}
	fmt.Fprintf(&b, "}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, fileName(t)), src, 0o644)
}

// fileName is the generated file of a table. The _table suffix keeps names
// like zsyscalls_arm.go from being read as GOARCH build constraints.
func fileName(t table) string {
	return "zsyscalls_" + strings.ToLower(t.name()) + "_table.go"
}
