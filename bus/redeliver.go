package bus

import (
	"errors"
	"fmt"
	"time"
)

// ErrSubscriptionEnded is returned when a delivery is retried for a subscription that no
// longer exists.
var ErrSubscriptionEnded = errors.New("subscription ended")

// RetryError asks the bus to deliver the same envelope to the same subscription again after
// a delay of bus time, instead of dead-lettering it. Handlers (usually retry middleware)
// return it via RetryAfter; the decision of whether to retry stays with them.
type RetryError struct {
	Err   error
	After time.Duration
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("%v (retrying in %v)", e.Err, e.After)
}

func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter wraps a handler error so the bus redelivers the envelope after d, as attempt
// Delivery.Attempt+1. The failure still shows as a handler-failed trace event, followed by
// a retry-scheduled one; no dead letter is recorded for it.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		err = errors.New("retry requested")
	}
	return &RetryError{Err: err, After: max(d, 0)}
}

// scheduleRetry handles a RetryError from a handler.
func (b *Bus) scheduleRetry(d Delivery, orig *Envelope, tc *topicCounter, re *RetryError) {
	s := d.sub
	s.app.failures.Add(1)
	b.stats.failed.Add(1)
	b.stats.retried.Add(1)
	now := b.Now()
	reason := "handler: " + re.Error()
	b.emit(TraceEvent{Kind: TraceHandlerFailed, At: now, Env: d.Envelope, App: s.app.name, Topic: d.Topic,
		SubscriptionID: s.id, Pattern: s.pattern, Attempt: d.Attempt, Reason: reason, Err: re.Err})
	b.mu.Lock()
	b.queue.push(event{at: b.now + int64(re.After), kind: evDelivery, env: orig, sub: s, tc: tc, attempt: int32(d.Attempt + 1)})
	b.mu.Unlock()
	b.emit(TraceEvent{Kind: TraceRetryScheduled, At: now, Env: d.Envelope, App: s.app.name, Topic: d.Topic,
		SubscriptionID: s.id, Pattern: s.pattern, Attempt: d.Attempt + 1, Reason: fmt.Sprintf("attempt %d in %v", d.Attempt+1, re.After)})
	b.nudge()
}

// Redeliver delivers a dead letter's envelope again to the subscription that failed it, as
// the next attempt, after the events already due now. The envelope is the original one, so
// its ID, correlation and causation are unchanged and everything its handler publishes
// stays in the same causal chain. It fails with ErrSubscriptionEnded when that subscription
// is gone (or the dead letter was not recorded by this bus).
func (b *Bus) Redeliver(dl DeadLetter) error {
	s := dl.sub
	if s == nil || !s.active.Load() {
		return fmt.Errorf("redeliver %s to %s: %w", dl.Envelope, dl.Subscriber, ErrSubscriptionEnded)
	}
	env := dl.orig
	if env == nil {
		env = dl.Envelope
	}
	b.mu.Lock()
	b.queue.push(event{at: b.now + s.app.latency.Load(), kind: evDelivery, env: env, sub: s,
		tc: b.topicCounterLocked(env.Topic), attempt: int32(dl.Attempt + 1)})
	b.mu.Unlock()
	b.stats.retried.Add(1)
	b.emit(TraceEvent{Kind: TraceRetryScheduled, At: b.Now(), Env: env, App: s.app.name, Topic: env.Topic,
		SubscriptionID: s.id, Pattern: s.pattern, Attempt: dl.Attempt + 1, Reason: "dead letter redelivered"})
	b.nudge()
	return nil
}
