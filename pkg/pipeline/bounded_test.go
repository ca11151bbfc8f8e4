package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/seccomp-attest/seccomp-attest/pkg/attest"
)

// The answer of a stage and the write of its attestation never contradict
// each other: a write that has not begun when the deadline passes is
// refused (no record of a check answered as failed), one that has begun
// is waited for and its outcome is the answer.
func TestBoundedAnswerAndWriteAgree(t *testing.T) {
	pass := &Outcome{Verdict: &attest.Verdict{Result: attest.ResultPass}}
	t.Run("write after the deadline is refused", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		writeErr := make(chan error, 1)
		o, err := bounded(ctx, "test", func(ctx context.Context) (*Outcome, error) {
			<-ctx.Done()
			time.Sleep(10 * time.Millisecond)
			writeErr <- commitCheck(ctx)()
			return pass, nil
		})
		if o != nil || err == nil {
			t.Fatalf("answered %v %v, want the deadline", o, err)
		}
		if err := <-writeErr; err == nil {
			t.Fatal("the write went ahead after the stage answered")
		}
	})
	t.Run("write begun before the deadline is the answer", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		o, err := bounded(ctx, "test", func(ctx context.Context) (*Outcome, error) {
			if err := commitCheck(ctx)(); err != nil {
				return nil, err
			}
			time.Sleep(60 * time.Millisecond) // the write, past the deadline
			return pass, nil
		})
		if o != pass || err != nil {
			t.Fatalf("answered %v %v, want the written outcome", o, err)
		}
	})
	t.Run("a requester that hung up", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(ErrAbandoned)
		if err := commitCheck(ctx)(); !errors.Is(err, ErrAbandoned) {
			t.Fatalf("write for an abandoned check: %v", err)
		}
	})
}
