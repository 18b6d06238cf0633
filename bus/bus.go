package bus

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultEpoch is where bus time starts unless Options.Epoch says otherwise. A fixed epoch
// makes timestamps, and the UUIDv7s built from them, the same in every run.
var DefaultEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Options configure a Bus. The zero value is usable: seed 0, DefaultEpoch, the default
// limits below, contracts off.
type Options struct {
	// Seed feeds every random choice the bus makes (IDs) and the streams handed out by
	// Rand. Same seed, same inputs: the same envelopes and trace, byte for byte.
	Seed uint64
	// IDSalt is mixed into the ID generator beside Seed, so that runs of different
	// experiments with one seed get different IDs while each stays reproducible.
	IDSalt uint64
	// Epoch is the bus time when the bus is created.
	Epoch time.Time
	// RetainMax is how many recent envelopes are kept for History and replay
	// (default 1024; negative keeps none).
	RetainMax int
	// RetainTTL drops retained envelopes older than this in bus time (0 keeps them until
	// RetainMax pushes them out).
	RetainTTL time.Duration
	// MaxHandlersPerPattern limits subscriptions under one identical pattern (default 64),
	// which catches handlers leaked by a subscribe in a loop.
	MaxHandlersPerPattern int
	// DeadLetterLimit is how many dead letters the bus keeps in memory (default 10,000).
	// Older ones are evicted and counted; every one was announced on the tap when it
	// happened, so a recorder attached to the tap keeps them all.
	DeadLetterLimit int
	// Contracts is the initial contract validation mode.
	Contracts ContractMode
}

const (
	defaultRetainMax       = 1024
	defaultMaxHandlers     = 64
	defaultDeadLetterLimit = 10000
)

// Bus is an in-process publish/subscribe bus driven by a discrete-event loop. See the
// package documentation for its ordering, concurrency and error rules.
type Bus struct {
	opts    Options
	epoch   time.Time
	epochMS int64 // epoch in Unix milliseconds, for IDs

	mu sync.Mutex // guards everything below up to the atomics
	// looping is set while a goroutine runs events (Step and friends, or the real-time
	// driver), so exactly one runs handlers at a time; others wait on loopFree. It is a
	// flag under mu rather than a mutex of its own because every run takes mu to fetch
	// events anyway: claiming the loop then costs no lock of its own. "The loop's" state
	// below (batch, unflushed) belongs to whoever set it.
	looping  bool
	loopFree sync.Cond

	// inBatch is set while the loop runs a batch of events without holding mu; batchGen
	// counts the batches that have ended, and batchEnded wakes an Unsubscribe waiting for
	// the batch in progress to end (see Subscription.Unsubscribe).
	inBatch    bool
	batchGen   uint64
	batchEnded sync.Cond

	now       int64 // bus time in ns since epoch
	nowPub    atomic.Int64
	seq       uint64
	nextSubID uint64
	ids       *idGen
	trie      trie
	apps      map[string]*App
	appOrder  []*App
	queue     eventQueue
	batch     []event        // reused by the loop (the loop's, not guarded by mu)
	unflushed deliveryCounts // the loop's, not guarded by mu
	ring      ring
	topics    map[string]*topicCounter
	lastTopic string
	lastTC    *topicCounter
	mw        []Middleware
	mwGen     atomic.Uint64
	dead      []DeadLetter
	deadSink  func(DeadLetter)
	contracts *Contracts

	tapMu sync.Mutex
	taps  atomic.Pointer[[]*tap]

	wake chan struct{} // nudges the real-time driver when work arrives

	stats counters
}

// New makes a bus.
func New(opts Options) *Bus {
	if opts.Epoch.IsZero() {
		opts.Epoch = DefaultEpoch
	}
	if opts.RetainMax == 0 {
		opts.RetainMax = defaultRetainMax
	}
	if opts.RetainMax < 0 {
		opts.RetainMax = 0
	}
	if opts.MaxHandlersPerPattern <= 0 {
		opts.MaxHandlersPerPattern = defaultMaxHandlers
	}
	if opts.DeadLetterLimit <= 0 {
		opts.DeadLetterLimit = defaultDeadLetterLimit
	}
	b := &Bus{
		opts:    opts,
		epoch:   opts.Epoch.UTC(),
		epochMS: opts.Epoch.UnixMilli(),
		ids:     newIDGen(opts.Seed, opts.IDSalt),
		apps:    make(map[string]*App),
		topics:  make(map[string]*topicCounter),
		wake:    make(chan struct{}, 1),
	}
	b.loopFree.L = &b.mu
	b.batchEnded.L = &b.mu
	b.ring.init(opts.RetainMax)
	b.contracts = newContracts(opts.Contracts)
	return b
}

// Seed is the seed the bus was made with.
func (b *Bus) Seed() uint64 { return b.opts.Seed }

// Rand returns a random stream derived from the bus seed and a stream number. Components
// take their own stream (a fault injector, a jitter source) so that one drawing more
// numbers does not shift what the others see. Use it from the loop only.
func (b *Bus) Rand(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(b.opts.Seed, stream^0x9e3779b97f4a7c15))
}

// Clock tells the time. The bus is a Clock, and patterns take one so they run on bus time.
type Clock interface {
	Now() time.Time
}

// Now is the current bus time. Safe from any goroutine.
func (b *Bus) Now() time.Time {
	return b.epoch.Add(time.Duration(b.nowPub.Load()))
}

// Elapsed is how much bus time has passed since the epoch.
func (b *Bus) Elapsed() time.Duration { return time.Duration(b.nowPub.Load()) }

// Epoch is the bus time at creation.
func (b *Bus) Epoch() time.Time { return b.epoch }

// setNow moves bus time forward; caller holds mu.
func (b *Bus) setNow(t int64) {
	if t > b.now {
		b.now = t
		b.nowPub.Store(t)
	}
}

func (b *Bus) nudge() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}
