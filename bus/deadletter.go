package bus

import (
	"slices"
	"time"
)

// DeadLetter records a delivery that failed: which envelope, to which handler, why, on which
// attempt. The envelope is the one the handler saw (upcast, if it was).
type DeadLetter struct {
	Envelope       *Envelope
	Subscriber     string
	SubscriptionID uint64
	Pattern        string
	Reason         string
	Attempt        int
	At             time.Time
	Err            error

	sub  *Subscription // for Redeliver
	orig *Envelope     // as published, before any upcast
}

func (b *Bus) deadLetter(dl DeadLetter) {
	b.stats.deadLettered.Add(1)
	b.mu.Lock()
	if sink := b.deadSink; sink != nil {
		b.mu.Unlock()
		sink(dl)
		b.emit(TraceEvent{Kind: TraceDeadLettered, At: dl.At, Env: dl.Envelope, App: dl.Subscriber, Topic: dl.Envelope.Topic,
			SubscriptionID: dl.SubscriptionID, Pattern: dl.Pattern, Attempt: dl.Attempt, Reason: dl.Reason, Err: dl.Err})
		return
	}
	if len(b.dead) >= b.opts.DeadLetterLimit {
		// evict a tenth at once so a storm of failures costs amortised O(1) per letter
		n := max(len(b.dead)-b.opts.DeadLetterLimit+1, b.opts.DeadLetterLimit/10)
		b.dead = slices.Delete(b.dead, 0, n)
		b.stats.deadEvicted.Add(uint64(n))
	}
	b.dead = append(b.dead, dl)
	b.mu.Unlock()
	b.emit(TraceEvent{Kind: TraceDeadLettered, At: dl.At, Env: dl.Envelope, App: dl.Subscriber, Topic: dl.Envelope.Topic,
		SubscriptionID: dl.SubscriptionID, Pattern: dl.Pattern, Attempt: dl.Attempt, Reason: dl.Reason, Err: dl.Err})
}

// DeadLetters returns the dead letters held in memory, oldest first.
func (b *Bus) DeadLetters() []DeadLetter {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.dead)
}

// TakeDeadLetters removes and returns the dead letters held in memory: a dead-letter store
// takes ownership of them this way.
func (b *Bus) TakeDeadLetters() []DeadLetter {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.dead
	b.dead = nil
	return out
}

// SinkDeadLetters hands every dead letter from now on to fn instead of the bus's own
// in-memory list, and first hands over the ones already held: a dead-letter store takes
// ownership this way. fn runs on the loop and must not block. The dead-lettered trace
// event is still emitted. cancel restores the in-memory list.
func (b *Bus) SinkDeadLetters(fn func(DeadLetter)) (cancel func()) {
	b.mu.Lock()
	held := b.dead
	b.dead = nil
	b.deadSink = fn
	b.mu.Unlock()
	for _, dl := range held {
		fn(dl)
	}
	return func() {
		b.mu.Lock()
		b.deadSink = nil
		b.mu.Unlock()
	}
}
