package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
	"github.com/seccomp-attest/seccomp-attest/pkg/policy"
)

// Warm is the Loader of seccomp-attestd: it keeps the configurations,
// policies (with the baselines they resolved), signing keys and log files
// it opened for the next check, each for as long as the files it was read
// from are the ones it read. Before every use it compares the files'
// identity (device, inode, size, modification and change times) with the
// one taken before the read, and reads again when anything differs: a
// changed policy or a replaced key is used from the next check on, never
// a stale one. It is safe for concurrent use.
type Warm struct {
	opts Options

	mu       sync.Mutex
	configs  map[string]warmValue[*config.Config]
	policies map[policyKey]warmPolicy
	signers  map[string]warmValue[*attest.Signer]
	logs     map[string]*warmLog
}

var _ Loader = (*Warm)(nil)

// NewWarm is an empty Warm whose pipelines get opts.
func NewWarm(opts Options) *Warm {
	return &Warm{
		opts:     opts,
		configs:  map[string]warmValue[*config.Config]{},
		policies: map[policyKey]warmPolicy{},
		signers:  map[string]warmValue[*attest.Signer]{},
		logs:     map[string]*warmLog{},
	}
}

// warmValue is a value with the identity of the files it was read from.
type warmValue[T any] struct {
	value T
	files snapshot
}

// policyKey: the configuration's mode is applied to the policy itself
// (its verdicts say it), so each mode has its own.
type policyKey struct{ source, mode string }

type warmPolicy struct {
	policy *policy.Policy
	digest string
	files  snapshot
}

// Config reads the configuration at path ("" = config.DefaultPath if it
// exists, else the embedded defaults), or returns a copy of the one read
// before if the file has not changed since.
func (w *Warm) Config(path string) (*config.Config, error) {
	file := path
	if file == "" {
		file = config.DefaultPath
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if v, ok := w.configs[path]; ok && v.files.current() {
		c := *v.value
		return &c, nil
	}
	files := takeSnapshot(file)
	cfg, err := config.Load(path)
	if err != nil {
		delete(w.configs, path)
		return nil, err
	}
	w.configs[path] = warmValue[*config.Config]{value: cfg, files: files}
	c := *cfg
	return &c, nil
}

// Pipeline is New for cfg, with the policy and the key kept from an
// earlier check when their files are unchanged.
func (w *Warm) Pipeline(cfg *config.Config) (*Pipeline, error) {
	pol, digest, err := w.policy(cfg.Policy, cfg.Mode)
	if err != nil {
		return nil, err
	}
	signer, err := w.signer(cfg)
	if err != nil {
		return nil, err
	}
	return assemble(cfg, w.opts, pol, digest, signer), nil
}

// assemble is what New builds around a policy and a signer.
func assemble(cfg *config.Config, opts Options, pol *policy.Policy, digest string, signer *attest.Signer) *Pipeline {
	p := &Pipeline{
		policy: pol, policyDigest: digest, signer: signer,
		store:       attest.Store{Dir: cfg.Store, OnBreak: attest.BreakPolicy(cfg.StoreBreak)},
		sink:        cfg.CheckpointSink,
		cache:       &verdictCache{dir: filepath.Join(cfg.Store, "cache")},
		toolVersion: opts.ToolVersion,
	}
	if p.toolVersion == "" {
		p.toolVersion = "(devel)"
	}
	return p
}

// policy is policy.Open(source) with mode applied, kept with its resolved
// baselines until the policy file or a baseline's file changes.
func (w *Warm) policy(source, mode string) (*policy.Policy, string, error) {
	key := policyKey{source, mode}
	w.mu.Lock()
	defer w.mu.Unlock()
	if v, ok := w.policies[key]; ok && v.files.current() {
		return v.policy, v.digest, nil
	}
	var files snapshot
	if isPolicyFile(source) {
		files = takeSnapshot(source)
	}
	pol, digest, err := policy.Open(source)
	if err != nil {
		delete(w.policies, key)
		return nil, "", err
	}
	if mode != "" {
		pol.Mode = mode
	}
	// Baselines are read at the first check that needs them: their
	// identity now, before that read.
	files.add(pol.BaselineFiles()...)
	w.policies[key] = warmPolicy{policy: pol, digest: digest, files: files}
	return pol, digest, nil
}

// isPolicyFile tells a policy file from the embedded ones (policy.Open).
func isPolicyFile(source string) bool {
	switch {
	case source == "", source == "builtin:default":
		return false
	case strings.HasPrefix(source, "preset:"):
		return false
	}
	return true
}

// signer is the key cfg names (generated first when cfg says so), kept
// until its file changes.
func (w *Warm) signer(cfg *config.Config) (*attest.Signer, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if v, ok := w.signers[cfg.Key]; ok && v.files.current() {
		return v.value, nil
	}
	files := takeSnapshot(cfg.Key)
	if !files.unknown && files.ids[0] == (fileID{}) {
		// No key yet: made now, then read as any other.
		if _, err := loadOrCreateKey(cfg); err != nil {
			return nil, err
		}
		files = takeSnapshot(cfg.Key)
	}
	s, err := loadOrCreateKey(cfg)
	if err != nil {
		delete(w.signers, cfg.Key)
		return nil, err
	}
	w.signers[cfg.Key] = warmValue[*attest.Signer]{value: s, files: files}
	return s, nil
}

// warmLog is an operators' log file kept open: replaced when the path
// names another file (the log was rotated or removed), closed once the
// checks that use it are done.
type warmLog struct {
	file     *os.File
	log      *logrus.Logger
	dev, ino uint64
	users    int
	replaced bool
}

// OpenLog is cfg.OpenLog, with the file kept open across checks.
func (w *Warm) OpenLog(cfg *config.Config) (*logrus.Logger, func(), error) {
	if cfg.Log == "" || cfg.Log == "-" {
		return nil, func() {}, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.logs[cfg.Log]
	var st unix.Stat_t
	if l != nil && (unix.Stat(cfg.Log, &st) != nil || st.Dev != l.dev || st.Ino != l.ino) {
		l.replaced = true
		w.closeIfUnused(l)
		delete(w.logs, cfg.Log)
		l = nil
	}
	if l == nil {
		f, err := os.OpenFile(cfg.Log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, func() {}, fmt.Errorf("log file: %w", err)
		}
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			f.Close()
			return nil, func() {}, fmt.Errorf("log file: %w", err)
		}
		l = &warmLog{file: f, log: config.NewJSONLogger(), dev: st.Dev, ino: st.Ino}
		l.log.SetOutput(f)
		w.logs[cfg.Log] = l
	}
	l.users++
	var once sync.Once
	return l.log, func() {
		once.Do(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			l.users--
			w.closeIfUnused(l)
		})
	}, nil
}

func (w *Warm) closeIfUnused(l *warmLog) {
	if l.replaced && l.users == 0 {
		l.file.Close()
	}
}

// Close closes the log files kept open; the Warm must not be used after.
func (w *Warm) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for path, l := range w.logs {
		l.replaced = true
		w.closeIfUnused(l)
		delete(w.logs, path)
	}
}

// fileID tells, without reading a file, whether it is still the one that
// was read: any write changes its size or times, a replacement (rename,
// new key, restored backup) its inode or change time, which nobody can
// set. A missing file has the zero fileID.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // nanoseconds
}

// statFile is the fileID of path; ok is false when it cannot be told
// (a file that cannot be stat'ed is read again, and that read reports
// why).
func statFile(path string) (id fileID, ok bool) {
	var st unix.Stat_t
	err := unix.Stat(path, &st)
	switch {
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR):
		return fileID{}, true
	case err != nil:
		return fileID{}, false
	}
	return fileID{dev: st.Dev, ino: st.Ino, size: st.Size, mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano()}, true
}

// racyWindow: the kernel stamps files with a clock that advances once a
// tick, so a file changed right after it was read can keep the change
// time it had. A file whose change time is within this window of its
// read is read again at every use until it is older (git's "racily
// clean" entries).
var racyWindow = time.Second

// snapshot is the identity of the files a value was read from, taken
// before the read.
type snapshot struct {
	paths []string
	ids   []fileID
	taken time.Time
	// unknown: a file could not be stat'ed; the value is never reused.
	unknown bool
}

func takeSnapshot(paths ...string) snapshot {
	s := snapshot{taken: time.Now()}
	s.add(paths...)
	return s
}

// add takes the identity of more files, now.
func (s *snapshot) add(paths ...string) {
	if s.taken.IsZero() {
		s.taken = time.Now()
	}
	for _, p := range paths {
		id, ok := statFile(p)
		s.unknown = s.unknown || !ok
		s.paths, s.ids = append(s.paths, p), append(s.ids, id)
	}
}

// current reports whether every file is still the one the value was read
// from.
func (s snapshot) current() bool {
	if s.unknown {
		return false
	}
	settled := s.taken.Add(-racyWindow).UnixNano()
	for i, p := range s.paths {
		id, ok := statFile(p)
		if !ok || id != s.ids[i] || id.ctime > settled {
			return false
		}
	}
	return true
}
