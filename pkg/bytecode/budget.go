package bytecode

import (
	"context"
	"errors"
	"fmt"
)

// ErrTooComplex is returned when an analysis needs more work than its
// budget allows or its caller's deadline passes first. Callers that enforce
// a policy must treat it as "weaker" (fail closed).
var ErrTooComplex = errors.New("too complex to analyse within budget")

// DefaultBudget bounds the symbolic execution of one filter: the number of
// instructions executed over all paths, plus the conditions copied at
// forks. Real filters (about 1,000 instructions) need a few thousand; a
// crafted 4,096-instruction filter that branches on arguments at every step
// stops here instead of exploding.
const DefaultBudget = 1 << 20

// checkEvery is how many units of work pass between two looks at the
// deadline: often enough to stop within a millisecond, rarely enough to
// cost nothing.
const checkEvery = 1 << 12

// Budget bounds one analysis in work (units roughly proportional to time
// and memory) and in time (the context's deadline). It is not safe for
// concurrent use: one analysis, one goroutine.
type Budget struct {
	ctx     context.Context
	left    int
	toCheck int
	what    string
}

// NewBudget returns a budget of units for the analysis named what (used in
// the error), stopping early when ctx is done.
func NewBudget(ctx context.Context, what string, units int) *Budget {
	if ctx == nil {
		ctx = context.Background()
	}
	return &Budget{ctx: ctx, left: units, what: what} // the first Spend looks at ctx
}

// Spend charges n units. It fails with an error that matches ErrTooComplex
// once the budget is spent, and also the context's error once its deadline
// passed or it was cancelled.
func (b *Budget) Spend(n int) error {
	b.left -= n
	if b.left < 0 {
		return fmt.Errorf("%s: %w", b.what, ErrTooComplex)
	}
	b.toCheck -= n
	if b.toCheck <= 0 {
		b.toCheck = checkEvery
		if err := b.ctx.Err(); err != nil {
			return fmt.Errorf("%s: stopped before its end (%w): %w", b.what, err, ErrTooComplex)
		}
	}
	return nil
}

// Left returns the units not yet spent.
func (b *Budget) Left() int { return max(b.left, 0) }
