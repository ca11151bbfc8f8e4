package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/seccomp-attest/seccomp-attest/internal/config"
)

// CheckpointMediaType is how a checkpoint is sent to an HTTP sink: one
// DSSE envelope (in-toto statement, predicate type
// attest.CheckpointPredicateType).
const CheckpointMediaType = "application/vnd.dsse.envelope.v1+json"

// ship sends the checkpoint of o's attestation to the configured sink,
// once the stage has its answer (a slow sink never delays a verdict past
// its deadline): in the background in seccomp-attestd (ShipInBackground),
// which outlives the request, or in the caller's time, within the sink's
// timeout, a failure going into o's warnings.
func (p *Pipeline) ship(ctx context.Context, o *Outcome) {
	if p.sink == nil || o == nil || o.Attestation == nil || o.Attestation.Checkpoint == nil {
		return
	}
	if background.enabled.Load() {
		background.offer(p.store.Dir, p.sink, o.Attestation.CheckpointSequence, o.Attestation.Checkpoint)
		return
	}
	if err := sendCheckpoint(context.WithoutCancel(ctx), p.sink, o.Attestation.Checkpoint); err != nil {
		o.Warnings = append(o.Warnings, err.Error())
	}
}

// ShipInBackground makes this process send checkpoints from a goroutine
// per sink, newest first, instead of in each check's time: for
// seccomp-attestd, which outlives its requests. report receives what a
// sink refused.
func ShipInBackground(report func(error)) {
	background.report = report
	background.enabled.Store(true)
}

// background holds, per sink, the newest checkpoint not yet sent: a
// checkpoint covers every one before it, so a sink that is slower than the
// containers gets the newest, not a queue.
var background = &backgroundShipper{sinks: map[string]*sinkQueue{}}

type backgroundShipper struct {
	enabled atomic.Bool
	report  func(error)
	mu      sync.Mutex
	sinks   map[string]*sinkQueue
}

type sinkQueue struct {
	sink *config.Sink
	mu   sync.Mutex
	seq  uint64 // of next, or of the last one sent
	next []byte
	wake chan struct{}
}

func (b *backgroundShipper) offer(store string, s *config.Sink, seq uint64, checkpoint []byte) {
	// Per store and sink: sequence numbers compare within one store.
	key := fmt.Sprintf("%q %q %s %s", store, s.Exec, s.URL, time.Duration(s.Timeout))
	b.mu.Lock()
	q, ok := b.sinks[key]
	if !ok {
		q = &sinkQueue{sink: s, wake: make(chan struct{}, 1)}
		b.sinks[key] = q
		go q.run(b.report)
	}
	b.mu.Unlock()
	q.mu.Lock()
	// A store moved aside and begun again starts at 1: a lower number
	// than the last one sent is a new chain, not an old checkpoint,
	// unless one newer is still waiting.
	if seq > q.seq || q.next == nil {
		q.seq, q.next = seq, checkpoint
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *sinkQueue) run(report func(error)) {
	for range q.wake {
		q.mu.Lock()
		cp := q.next
		q.next = nil
		q.mu.Unlock()
		if cp == nil {
			continue
		}
		if err := sendCheckpoint(context.Background(), q.sink, cp); err != nil && report != nil {
			report(err)
		}
	}
}

// sendCheckpoint delivers a checkpoint to the sink within its timeout
// (and ctx): a command gets it on stdin and must exit 0, a URL must answer
// a POST with 2xx. A sink that fails loses nothing: the store keeps the
// checkpoint, and the next one covers everything before it.
func sendCheckpoint(ctx context.Context, s *config.Sink, checkpoint []byte) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(s.Timeout))
	defer cancel()
	if len(s.Exec) > 0 {
		cmd := exec.CommandContext(ctx, s.Exec[0], s.Exec[1:]...)
		cmd.Stdin = bytes.NewReader(checkpoint)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &limitedBuffer{buf: &stderr, left: 512}
		// The sink and whatever it starts are one process group, ended
		// together at the timeout; grandchildren holding the pipes must
		// not hold the container.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = 100 * time.Millisecond
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("no answer within %s", time.Duration(s.Timeout))
			}
			return fmt.Errorf("checkpoint sink %s: %v%s", s.Exec[0], err, said(stderr.String()))
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(checkpoint))
	if err != nil {
		return fmt.Errorf("checkpoint sink %s: %w", s.URL, err)
	}
	req.Header.Set("Content-Type", CheckpointMediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("checkpoint sink: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("checkpoint sink %s: %s%s", s.URL, resp.Status, said(string(body)))
	}
	return nil
}

func said(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return ""
	}
	return ": " + s
}

// limitedBuffer keeps the first bytes written to it and drops the rest.
type limitedBuffer struct {
	buf  *bytes.Buffer
	left int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	n := min(len(p), l.left)
	l.buf.Write(p[:n])
	l.left -= n
	return len(p), nil
}
