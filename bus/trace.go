package bus

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync/atomic"
	"time"
)

// TraceKind says what happened in a TraceEvent.
type TraceKind uint8

// Trace kinds. Every publish attempt ends in exactly one of Published, Rejected or
// RateLimited. Every scheduled delivery (each attempt, for retries) ends in Skipped, when
// its subscription ended first, or in Delivered, possibly followed by HandlerFailed and
// then DeadLettered or RetryScheduled. Delivered comes before anything that fails the
// delivery, the handler or the bus preparing the envelope for it (an envelope the
// subscriber's Accept cannot be converted to fails with a "contract:" reason), so every
// HandlerFailed, DeadLettered and RetryScheduled follows the Delivered of the same envelope
// and subscription. Redeliver adds a RetryScheduled after a dead letter's DeadLettered.
const (
	TracePublished TraceKind = iota + 1
	TraceDelivered
	TraceRejected
	TraceHandlerFailed
	TraceDeadLettered
	TraceRateLimited
	TraceSkipped
	TraceContractWarning
	TraceRetryScheduled
	// TraceTimedOut: a request's answer did not come in time. Patterns emit it (through
	// App.TimedOut), so a diagram can draw the wait that ended unanswered.
	TraceTimedOut
)

var traceKindNames = [...]string{
	TracePublished:       "published",
	TraceDelivered:       "delivered",
	TraceRejected:        "rejected",
	TraceHandlerFailed:   "handler-failed",
	TraceDeadLettered:    "dead-lettered",
	TraceRateLimited:     "rate-limited",
	TraceSkipped:         "skipped",
	TraceContractWarning: "contract-warning",
	TraceRetryScheduled:  "retry-scheduled",
	TraceTimedOut:        "timed-out",
}

func (k TraceKind) String() string {
	if int(k) < len(traceKindNames) && traceKindNames[k] != "" {
		return traceKindNames[k]
	}
	return "unknown"
}

// MarshalText renders the kind's name.
func (k TraceKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *TraceKind) UnmarshalText(b []byte) error {
	for i, name := range traceKindNames {
		if name != "" && name == string(b) {
			*k = TraceKind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown trace kind %q", b)
}

// TraceEvent is one observable step of the bus. The UI draws them, the history recorder
// stores them, tests assert on them.
type TraceEvent struct {
	Kind TraceKind `json:"kind"`
	At   time.Time `json:"at"`
	// Env is the envelope concerned; nil when a publish was rejected before it became one.
	Env *Envelope `json:"-"`
	// App is the publisher for Published, Rejected and RateLimited, the subscriber
	// otherwise.
	App            string `json:"app"`
	Topic          string `json:"topic"`
	SubscriptionID uint64 `json:"sub,omitempty"`
	Pattern        string `json:"pattern,omitempty"`
	Attempt        int    `json:"attempt,omitempty"`
	Replay         bool   `json:"replay,omitempty"`
	UpcastFrom     string `json:"upcastFrom,omitempty"`
	Reason         string `json:"reason,omitempty"`
	Err            error  `json:"-"`
}

// MarshalJSON adds the envelope's sequence number and ID, which identify it in a log.
func (e TraceEvent) MarshalJSON() ([]byte, error) {
	type plain TraceEvent
	out := struct {
		plain
		Seq uint64 `json:"seq,omitempty"`
		ID  string `json:"id,omitempty"`
	}{plain: plain(e)}
	if e.Env != nil {
		out.Seq = e.Env.Seq
		out.ID = e.Env.ID.String()
	}
	return json.Marshal(out)
}

// TimedOut records on the tap that env, a request this app sent, got no answer in time.
// The event names the requester as App; it changes nothing on the bus.
func (a *App) TimedOut(env *Envelope, reason string) {
	if env == nil || !a.bus.hasTaps() {
		return
	}
	a.bus.emit(TraceEvent{Kind: TraceTimedOut, At: a.bus.Now(), Env: env, App: a.name, Topic: env.Topic, Reason: reason})
}

type tap struct{ fn func(TraceEvent) }

// Tap calls fn for every trace event from now on, in the order they happen, one call at a
// time. fn runs on the goroutine that caused the event (often with the bus locked), so it
// must be quick and must not call back into the bus: hand the event to your own goroutine
// or buffer it. The returned func removes the tap.
func (b *Bus) Tap(fn func(TraceEvent)) (cancel func()) {
	t := &tap{fn: fn}
	b.tapMu.Lock()
	var cur []*tap
	if p := b.taps.Load(); p != nil {
		cur = *p
	}
	next := append(slices.Clip(cur), t)
	b.taps.Store(&next)
	b.tapMu.Unlock()
	return func() {
		b.tapMu.Lock()
		defer b.tapMu.Unlock()
		if p := b.taps.Load(); p != nil {
			next := slices.DeleteFunc(slices.Clone(*p), func(x *tap) bool { return x == t })
			b.taps.Store(&next)
		}
	}
}

func (b *Bus) hasTaps() bool {
	p := b.taps.Load()
	return p != nil && len(*p) > 0
}

func (b *Bus) emit(e TraceEvent) {
	p := b.taps.Load()
	if p == nil || len(*p) == 0 {
		return
	}
	b.tapMu.Lock()
	defer b.tapMu.Unlock()
	for _, t := range *b.taps.Load() {
		t.fn(e)
	}
}

// counters are the bus-wide statistics. Those counted where the bus lock is held anyway
// are plain; the rest are atomics so the loop and publishers update them without it.
type counters struct {
	published, delivered                                                       uint64 // guarded by mu
	rejected, rateLimited, failed, deadLettered, deadEvicted, skipped, retried atomic.Uint64
}

type topicCounter struct {
	published, delivered uint64 // guarded by mu
	unflushed            uint64 // deliveries not yet in delivered; the loop's
}

// deliveryCounts are the deliveries the loop has made since it last held mu. Counting a
// delivery is the one statistic on the delivery path, and it runs on the loop, which owns
// the loop but does not hold mu while handlers run: the loop counts here without atomics and folds the counts into the
// counters the next time it takes mu, which it does before every batch of events. A
// snapshot taken while a batch runs may therefore lag by that batch; one taken after
// Step, RunUntilIdle or RunUntil returns is exact.
type deliveryCounts struct {
	total  uint64
	topics []*topicCounter
	apps   []*App
}

// countDelivery counts one delivery of a tc message to app a. Caller runs the loop.
func (b *Bus) countDelivery(tc *topicCounter, a *App) {
	u := &b.unflushed
	u.total++
	if tc.unflushed == 0 {
		u.topics = append(u.topics, tc)
	}
	tc.unflushed++
	if a.unflushed == 0 {
		u.apps = append(u.apps, a)
	}
	a.unflushed++
}

// flushDeliveryCountsLocked folds the loop's counts into the counters. Caller runs the
// loop and holds mu.
func (b *Bus) flushDeliveryCountsLocked() {
	u := &b.unflushed
	if u.total == 0 {
		return
	}
	b.stats.delivered += u.total
	u.total = 0
	for i, tc := range u.topics {
		tc.delivered += tc.unflushed
		tc.unflushed = 0
		u.topics[i] = nil
	}
	u.topics = u.topics[:0]
	for i, a := range u.apps {
		a.received += a.unflushed
		a.unflushed = 0
		u.apps[i] = nil
	}
	u.apps = u.apps[:0]
}

// maxTrackedTopics bounds the per-topic statistics map; topics beyond it are counted under
// OtherTopics so a load test with unbounded topic names cannot grow memory without limit.
const maxTrackedTopics = 4096

// OtherTopics is the key under which topics past the tracking limit are counted.
const OtherTopics = "(other)"

func (b *Bus) topicCounterLocked(topic string) *topicCounter {
	// Publishers tend to repeat a topic; one remembered entry saves the map lookup.
	if b.lastTC != nil && b.lastTopic == topic {
		return b.lastTC
	}
	if tc := b.topics[topic]; tc != nil {
		b.lastTopic, b.lastTC = topic, tc
		return tc
	}
	if len(b.topics) >= maxTrackedTopics {
		topic = OtherTopics
		if tc := b.topics[topic]; tc != nil {
			return tc
		}
	}
	tc := &topicCounter{}
	b.topics[topic] = tc
	return tc
}

// Stats is a snapshot of the bus counters.
type Stats struct {
	Published, Delivered, Rejected, RateLimited, HandlerFailures uint64
	DeadLettered, DeadLettersEvicted, Skipped, Retried           uint64
	Pending, Subscriptions                                       int
	Apps                                                         map[string]AppStats
	Topics                                                       []TopicStats // by topic name
}

// TopicStats counts one topic.
type TopicStats struct {
	Topic                string
	Published, Delivered uint64
}

// Stats returns a snapshot of the counters. Taken while the loop runs a batch of events
// (from a handler, or from another goroutine), the delivery counts may not include that
// batch yet; taken after Step, RunUntilIdle or RunUntil returns, they are exact.
func (b *Bus) Stats() Stats {
	st := Stats{
		Rejected: b.stats.rejected.Load(), RateLimited: b.stats.rateLimited.Load(),
		HandlerFailures: b.stats.failed.Load(), DeadLettered: b.stats.deadLettered.Load(),
		DeadLettersEvicted: b.stats.deadEvicted.Load(), Skipped: b.stats.skipped.Load(),
		Retried: b.stats.retried.Load(),
		Apps:    make(map[string]AppStats),
	}
	b.mu.Lock()
	st.Published = b.stats.published
	st.Delivered = b.stats.delivered
	st.Pending = b.queue.len()
	st.Subscriptions = b.trie.count
	for name, a := range b.apps {
		st.Apps[name] = AppStats{Published: a.published, Received: a.received, Failures: a.failures.Load()}
	}
	for name, tc := range b.topics {
		st.Topics = append(st.Topics, TopicStats{Topic: name, Published: tc.published, Delivered: tc.delivered})
	}
	b.mu.Unlock()
	sort.Slice(st.Topics, func(i, j int) bool { return st.Topics[i].Topic < st.Topics[j].Topic })
	return st
}
