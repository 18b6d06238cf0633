package resilience

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"mfelab/bus"
	"mfelab/bus/async"
	"mfelab/bus/breaker"
)

// Op starts one attempt of an operation.
type Op[T any] func(ctx context.Context) *async.Future[T]

// Scheduler runs functions later in bus time; *bus.Bus is one.
type Scheduler interface {
	After(d time.Duration, fn func()) *bus.Timer
}

// Sentinel errors, for errors.Is.
var (
	ErrTimeout      = errors.New("operation timed out")
	ErrBulkheadFull = errors.New("bulkhead full")
)

// TimeoutError is an attempt that took longer than its timeout.
type TimeoutError struct{ After time.Duration }

func (e *TimeoutError) Error() string { return fmt.Sprintf("timed out after %v", e.After) }
func (e *TimeoutError) Unwrap() error { return ErrTimeout }

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks an error as not worth retrying (a validation failure, say).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// DefaultRetryable retries everything but permanent errors, cancellation and a full
// bulkhead.
func DefaultRetryable(err error) bool {
	return !IsPermanent(err) && !errors.Is(err, context.Canceled) && !errors.Is(err, ErrBulkheadFull)
}

// RetryPolicy is exponential backoff: attempt n waits Initial*Multiplier^(n-1), at most
// Max, spread by ±Jitter (a fraction) drawn from Rand.
type RetryPolicy struct {
	// MaxAttempts counts the first try (default 3).
	MaxAttempts int
	// Initial is the first delay (default 100ms); Max caps every delay (default 10s).
	Initial, Max time.Duration
	// Multiplier grows the delay (default 2).
	Multiplier float64
	// Jitter in 0..1 spreads each delay by up to that fraction either way; it needs Rand.
	Jitter float64
	Rand   *rand.Rand
	// Retryable decides which errors are retried (default DefaultRetryable).
	Retryable func(error) bool
	// OnRetry, if set, is told about each retry before its delay.
	OnRetry func(attempt int, err error, delay time.Duration)
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 3
	}
	if p.Initial <= 0 {
		p.Initial = 100 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 10 * time.Second
	}
	if p.Multiplier < 1 {
		p.Multiplier = 2
	}
	p.Jitter = min(max(p.Jitter, 0), 1)
	if p.Retryable == nil {
		p.Retryable = DefaultRetryable
	}
	return p
}

// Backoff is the delay before attempt+1, after attempt (from 1) failed.
func (p RetryPolicy) Backoff(attempt int) time.Duration {
	p = p.withDefaults()
	d := float64(p.Initial) * math.Pow(p.Multiplier, float64(max(attempt-1, 0)))
	d = min(d, float64(p.Max))
	if p.Jitter > 0 && p.Rand != nil {
		d += d * p.Jitter * (2*p.Rand.Float64() - 1)
		d = min(d, float64(p.Max))
	}
	return time.Duration(d)
}

// RetryExhaustedError is the last error after every attempt failed.
type RetryExhaustedError struct {
	Attempts int
	Err      error
}

func (e *RetryExhaustedError) Error() string {
	return fmt.Sprintf("gave up after %d attempts: %v", e.Attempts, e.Err)
}
func (e *RetryExhaustedError) Unwrap() error { return e.Err }

// Retry runs op until it succeeds, fails with an error not worth retrying, or has run
// MaxAttempts times, waiting Backoff between attempts.
func Retry[T any](s Scheduler, p RetryPolicy, op Op[T]) Op[T] {
	p = p.withDefaults()
	return func(ctx context.Context) *async.Future[T] {
		out, settle := async.New[T]()
		var attempt func(n int)
		attempt = func(n int) {
			op(ctx).Then(func(v T, err error) {
				switch {
				case err == nil:
					settle(v, nil)
				case !p.Retryable(err) || ctx.Err() != nil:
					settle(v, err)
				case n >= p.MaxAttempts:
					settle(v, &RetryExhaustedError{Attempts: n, Err: err})
				default:
					d := p.Backoff(n)
					if p.OnRetry != nil {
						p.OnRetry(n+1, err, d)
					}
					s.After(d, func() { attempt(n + 1) })
				}
			})
		}
		attempt(1)
		return out
	}
}

// Timeout fails an attempt that has not finished within d. The attempt's context is
// cancelled then, so work that watches it can stop; its late result is ignored.
func Timeout[T any](s Scheduler, d time.Duration, op Op[T]) Op[T] {
	return func(ctx context.Context) *async.Future[T] {
		out, settle := async.New[T]()
		cctx, cancel := context.WithCancel(ctx)
		t := s.After(d, func() {
			var zero T
			if settle(zero, &TimeoutError{After: d}) {
				cancel()
			}
		})
		op(cctx).Then(func(v T, err error) {
			t.Stop()
			settle(v, err)
			cancel()
		})
		return out
	}
}

// Fallback answers with fn's result when op fails.
func Fallback[T any](fn func(ctx context.Context, err error) (T, error), op Op[T]) Op[T] {
	return func(ctx context.Context) *async.Future[T] {
		out, settle := async.New[T]()
		op(ctx).Then(func(v T, err error) {
			if err != nil {
				v, err = fn(ctx, err)
			}
			settle(v, err)
		})
		return out
	}
}

// WithBreaker runs op only when br allows it and reports each outcome to br.
func WithBreaker[T any](br *breaker.Breaker, op Op[T]) Op[T] {
	return func(ctx context.Context) *async.Future[T] {
		t, err := br.Allow()
		if err != nil {
			return async.Failed[T](err)
		}
		f := op(ctx)
		f.Then(func(_ T, err error) { t.Done(err) })
		return f
	}
}

// Pipeline composes the policies in the order fallback, retry, breaker, bulkhead, timeout
// (outermost first). Nil or zero fields are left out.
type Pipeline[T any] struct {
	Scheduler Scheduler
	Fallback  func(ctx context.Context, err error) (T, error)
	Retry     *RetryPolicy
	Breaker   *breaker.Breaker
	Bulkhead  *Bulkhead
	Timeout   time.Duration
}

// Wrap applies the pipeline to op.
func (p Pipeline[T]) Wrap(op Op[T]) Op[T] {
	if p.Timeout > 0 {
		op = Timeout(p.Scheduler, p.Timeout, op)
	}
	if p.Bulkhead != nil {
		op = WithBulkhead(p.Bulkhead, op)
	}
	if p.Breaker != nil {
		op = WithBreaker(p.Breaker, op)
	}
	if p.Retry != nil {
		op = Retry(p.Scheduler, *p.Retry, op)
	}
	if p.Fallback != nil {
		op = Fallback(p.Fallback, op)
	}
	return op
}

// RetryMiddleware makes a bus handler's failures retry by redelivery: a retryable error on
// an attempt below MaxAttempts is returned as bus.RetryAfter(err, Backoff(attempt)), so the
// bus delivers the same envelope again later; the last failure dead-letters as usual.
func RetryMiddleware(p RetryPolicy) bus.Middleware {
	p = p.withDefaults()
	return func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, d bus.Delivery) error {
			err := next(ctx, d)
			if err == nil || !p.Retryable(err) || d.Attempt >= p.MaxAttempts {
				return err
			}
			delay := p.Backoff(d.Attempt)
			if p.OnRetry != nil {
				p.OnRetry(d.Attempt+1, err, delay)
			}
			return bus.RetryAfter(err, delay)
		}
	}
}
