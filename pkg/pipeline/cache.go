package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/pkg/compare"
	"github.com/seccomp-attest/seccomp-attest/pkg/procfilters"
)

// verdictCache keeps verdicts by the digest of everything they depend on:
// this build of the tool, the policy, the intended profile as compiled
// for the runtime, the effective filters, and the kernel. Containers
// started from one image and profile then cost one analysis, not one
// each; the start of a container stays within a few percent of the
// runtime alone. A missing, unreadable or corrupt entry is a miss.
type verdictCache struct {
	dir string
}

// cached is a judgement without what names a container's threads (its
// verdict method adds them), so that containers with other pids share it.
type cached struct {
	Result string `json:"result"`
	// Groups follow the thread groups of the key, in order; the static
	// check has one.
	Groups    []groupJudgement `json:"groups"`
	Reference string           `json:"reference,omitempty"`
	Score     *float64         `json:"score,omitempty"`
}

// groupJudgement is the policy's reasons and the diff for one group of
// threads with the same filters.
type groupJudgement struct {
	Reasons []string        `json:"reasons"`
	Diff    *compare.Report `json:"diff,omitempty"`
}

// key is empty when the inputs cannot be pinned down (no build identity):
// then nothing is cached.
func (vc *verdictCache) key(p *Pipeline, c *Container, in *intended, groups []procfilters.ThreadGroup) string {
	build := buildIdentity()
	if build == "" {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "build %s\npolicy %s mode %s\nkernel %s\nruntime %s\n", build, p.policyDigest, p.policy.Mode, kernelRelease(), c.runtime())
	// The intended profile is compiled by the libseccomp this process
	// loaded, a shared library that upgrades apart from this program.
	fmt.Fprintf(&b, "libseccomp %s\n", libseccompIdentity())
	// The policy's digest is of its own file: the files its baselines
	// name are judged by too, and an edited baseline must not be answered
	// by the verdict of the old one.
	for _, f := range p.policy.BaselineFiles() {
		d, ok := baselineDigest(f)
		if !ok {
			return ""
		}
		fmt.Fprintf(&b, "baseline %q %s\n", f, d)
	}
	if in != nil {
		fmt.Fprintf(&b, "intended %s\n", in.digest)
	} else {
		b.WriteString("intended unknown\n")
	}
	if groups == nil {
		b.WriteString("static\n")
	}
	for _, g := range groups {
		fmt.Fprintf(&b, "group mode %s:", g.Mode)
		for _, lf := range g.Filters {
			fmt.Fprintf(&b, " %s/%t", sha256Hex(lf.Filter.Bytes()), lf.Log)
		}
		b.WriteString("\n")
	}
	// Exceptions select by name and annotations; without exceptions the
	// verdict does not depend on them, and leaving them out lets
	// containers with generated names share an entry.
	if len(p.policy.Exceptions) > 0 {
		fmt.Fprintf(&b, "name %q\n", c.name())
		ann := p.annotations(c, in)
		keys := make([]string, 0, len(ann))
		for k := range ann {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "annotation %q=%q\n", k, ann[k])
		}
	}
	return sha256Hex([]byte(b.String()))
}

// maxBaselineFile bounds the baseline file the key reads: a bundle's
// config.json (docs/limits.md), above any profile or raw filter.
const maxBaselineFile = 4 << 20

// baselineDigest is the digest of a baseline's file as it is now, or
// "missing" (the check then fails on its own, and failures are not
// cached); ok is false for a file that cannot be pinned down (too large,
// unreadable): nothing is cached then.
func baselineDigest(path string) (digest string, ok bool) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "missing", true
	}
	if err != nil {
		return "", false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxBaselineFile+1))
	if err != nil || len(data) > maxBaselineFile {
		return "", false
	}
	return sha256Hex(data), true
}

func (vc *verdictCache) path(key string) string { return filepath.Join(vc.dir, key+".json") }

func (vc *verdictCache) get(key string) (cached, bool) {
	var v cached
	if key == "" {
		return v, false
	}
	if checkPrivateDir(vc.dir, "verdict cache") != nil {
		// Entries anyone may have written are verdicts nobody judged:
		// every check is a miss.
		return v, false
	}
	data, err := os.ReadFile(vc.path(key))
	if err != nil || json.Unmarshal(data, &v) != nil || v.Result == "" {
		return cached{}, false
	}
	return v, true
}

// getOrLock returns the entry for key or, when there is none yet, takes
// key's lock (see lock) and looks again: a miss then means this caller
// computes the entry, and the others wait for it. unlock releases the
// lock (a no-op after a hit).
func (vc *verdictCache) getOrLock(ctx context.Context, key string) (v cached, ok bool, unlock func()) {
	if v, ok = vc.get(key); ok {
		return v, true, func() {}
	}
	unlock = vc.lock(ctx, key)
	v, ok = vc.get(key)
	return v, ok, unlock
}

// put writes the entry without fsync: a cache entry lost in a crash is
// only a miss, and a torn one fails to parse.
func (vc *verdictCache) put(key string, v cached) {
	if key == "" {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	if err := os.MkdirAll(vc.dir, 0o700); err != nil || checkPrivateDir(vc.dir, "verdict cache") != nil {
		return
	}
	tmp, err := os.CreateTemp(vc.dir, ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), vc.path(key)) != nil {
		os.Remove(tmp.Name())
	}
}

// buildIdentity names this executable: its path, size and modification
// time, which change with every rebuild and install (the module version
// alone does not for development builds).
func buildIdentity() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	st, err := os.Stat(exe)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s %d %d", exe, st.Size(), st.ModTime().UnixNano())
}

// libseccompIdentity names the libseccomp this process mapped (device,
// inode and path, from /proc/self/maps: the file it loaded, even if an
// upgrade has replaced it since), "none" when it has none mapped.
var libseccompIdentity = sync.OnceValue(func() string {
	data, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		// address perms offset dev inode path
		f := strings.Fields(line)
		if len(f) >= 6 && strings.Contains(filepath.Base(f[5]), "libseccomp") {
			return strings.Join(f[3:], " ")
		}
	}
	return "none"
})

func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// lock serialises the computation of one key across processes: when fifty
// containers with one profile start at once, one hook analyses and the
// others wait for its entry instead of all analysing at once on a busy
// host. It gives up waiting when ctx ends (the caller then computes
// anyway, still bounded by its deadline); the returned func releases.
func (vc *verdictCache) lock(ctx context.Context, key string) func() {
	if key == "" || os.MkdirAll(vc.dir, 0o700) != nil {
		return func() {}
	}
	f, err := os.OpenFile(filepath.Join(vc.dir, key+".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return func() {}
	}
	delay := time.Millisecond
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return func() {}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return func() {}
		case <-time.After(delay):
		}
		delay = min(2*delay, 20*time.Millisecond)
	}
}
