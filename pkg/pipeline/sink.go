package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"

	"github.com/seccomp-attest/seccomp-attest/pkg/config"
)

// CheckpointMediaType is how a checkpoint is sent to an HTTP sink: one
// DSSE envelope (in-toto statement, predicate type
// attest.CheckpointPredicateType).
const CheckpointMediaType = "application/vnd.dsse.envelope.v1+json"

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
		// Grandchildren holding the pipes must not hold the container.
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
