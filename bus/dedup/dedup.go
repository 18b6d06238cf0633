// Package dedup makes a consumer idempotent: a middleware that lets each message through
// to a subscription once within a time window and absorbs repeats, counting them.
//
// A message is identified by its Key: by default the header message-id when the producer
// set one (an at-least-once producer resending the same logical message), otherwise the
// envelope ID (the same envelope delivered again). A key is remembered only once its
// handler succeeds, so a failed delivery that is retried is not mistaken for a duplicate.
// Keys are forgotten after Window of bus time, or oldest first past MaxKeys.
package dedup

import (
	"context"
	"sync"
	"time"

	"mfelab/bus"
)

// HeaderMessageID is the header an at-least-once producer sets to the message's own id.
const HeaderMessageID = "message-id"

// DefaultKey is the message-id header, or else the envelope ID.
func DefaultKey(env *bus.Envelope) string {
	if id := env.Meta.Headers[HeaderMessageID]; id != "" {
		return id
	}
	return env.ID.String()
}

// Options configure a Filter.
type Options struct {
	// Window is how long a key is remembered (default 10 minutes of bus time).
	Window time.Duration
	// MaxKeys bounds memory (default 100,000).
	MaxKeys int
	// Key identifies a message (default DefaultKey).
	Key func(*bus.Envelope) string
	// OnDuplicate, if set, is called on the loop with each absorbed duplicate.
	OnDuplicate func(bus.Delivery)
}

// Stats counts what the filter saw.
type Stats struct {
	Passed, Duplicates uint64
	Remembered         int
}

type seenKey struct {
	sub uint64
	key string
}

// Filter remembers keys per subscription.
type Filter struct {
	clock bus.Clock
	opts  Options

	mu    sync.Mutex
	seen  map[seenKey]int64 // key -> when it expires
	order []seenKey         // in the order remembered, for expiry and the size bound
	stats Stats
}

// New makes a filter on clock (normally the bus).
func New(clock bus.Clock, opts Options) *Filter {
	if opts.Window <= 0 {
		opts.Window = 10 * time.Minute
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = 100000
	}
	if opts.Key == nil {
		opts.Key = DefaultKey
	}
	return &Filter{clock: clock, opts: opts, seen: map[seenKey]int64{}}
}

// Middleware returns the deduplicating middleware; use it per subscription
// (bus.WithMiddleware) or bus-wide (Bus.Use).
func (f *Filter) Middleware() bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, d bus.Delivery) error {
			k := seenKey{sub: d.SubscriptionID, key: f.opts.Key(d.Envelope)}
			now := f.clock.Now().UnixNano()
			f.mu.Lock()
			f.expireLocked(now)
			_, dup := f.seen[k]
			if dup {
				f.stats.Duplicates++
			}
			f.mu.Unlock()
			if dup {
				if f.opts.OnDuplicate != nil {
					f.opts.OnDuplicate(d)
				}
				return nil
			}
			if err := next(ctx, d); err != nil {
				return err
			}
			f.mu.Lock()
			f.stats.Passed++
			if _, ok := f.seen[k]; !ok {
				f.seen[k] = now + int64(f.opts.Window)
				f.order = append(f.order, k)
				for len(f.seen) > f.opts.MaxKeys {
					f.dropOldestLocked()
				}
			}
			f.mu.Unlock()
			return nil
		}
	}
}

func (f *Filter) expireLocked(now int64) {
	for len(f.order) > 0 {
		if exp, ok := f.seen[f.order[0]]; ok && exp > now {
			return
		}
		f.dropOldestLocked()
	}
}

func (f *Filter) dropOldestLocked() {
	delete(f.seen, f.order[0])
	f.order[0] = seenKey{}
	f.order = f.order[1:]
}

// Stats returns the counters.
func (f *Filter) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.stats
	s.Remembered = len(f.seen)
	return s
}
