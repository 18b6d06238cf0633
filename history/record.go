package history

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"mfelab/bus"
)

// bTrace holds a recorded run's trace in order: event index -> TraceRecord JSON. With the
// messages it is enough to rebuild every row the run's flow diagram drew.
var bTrace = []byte("trace")

// TraceRecord is one trace event as stored: the envelope by its ID (the envelope itself is
// in msgs), everything else as the bus emitted it.
type TraceRecord struct {
	Kind       bus.TraceKind `json:"k"`
	At         time.Time     `json:"at"`
	ID         uuid.UUID     `json:"id,omitzero"`
	App        string        `json:"app,omitempty"`
	Topic      string        `json:"topic,omitempty"` // only when there is no envelope or it differs
	Sub        uint64        `json:"sub,omitempty"`
	Pattern    string        `json:"pattern,omitempty"`
	Attempt    int           `json:"attempt,omitempty"`
	Replay     bool          `json:"replay,omitempty"`
	UpcastFrom string        `json:"upcast,omitempty"`
	Reason     string        `json:"reason,omitempty"`
}

// event is the trace event r records, about env (nil when it names none).
func (r TraceRecord) event(env *bus.Envelope) bus.TraceEvent {
	e := bus.TraceEvent{Kind: r.Kind, At: r.At, App: r.App, Topic: r.Topic, SubscriptionID: r.Sub, Pattern: r.Pattern,
		Attempt: r.Attempt, Replay: r.Replay, UpcastFrom: r.UpcastFrom, Reason: r.Reason, Env: env}
	if env != nil && e.Topic == "" {
		e.Topic = env.Topic
	}
	return e
}

func traceRecordOf(e bus.TraceEvent) TraceRecord {
	r := TraceRecord{Kind: e.Kind, At: e.At, App: e.App, Sub: e.SubscriptionID, Pattern: e.Pattern, Attempt: e.Attempt,
		Replay: e.Replay, UpcastFrom: e.UpcastFrom, Reason: e.Reason}
	if e.Env != nil {
		r.ID = e.Env.ID
	}
	if e.Env == nil || e.Topic != e.Env.Topic {
		r.Topic = e.Topic
	}
	return r
}

// Recorder writes what a bus does to a store, without ever making the bus wait: the bus
// calls Record from its tap, with its lock held, and Record only appends to a list that a
// goroutine of the recorder's hands on to the store's writer. So a slow disk, a full
// queue or durable mode's fsync delays the recording, never the run.
//
// What that means for durability: the store commits records in the order they were
// recorded, in batches. In durable mode every batch is fsynced before the next is
// written; Flush and Close return only once everything recorded before the call is on
// disk. A crash loses at most what was recorded since the last commit; the file always
// holds a prefix of the run.
//
// The first write that fails stops the recording: Err reports it from then on, the
// records after it are counted as dropped, and everything committed before it stays.
type Recorder struct {
	s *Store

	mu       sync.Mutex
	moved    sync.Cond // signalled when the feeder has handed on a batch
	pending  []bus.TraceEvent
	accepted uint64 // events Record took
	handed   uint64 // events the feeder handed to the store (or dropped after a failure)
	err      error  // the first write failure
	dropped  uint64
	closed   bool

	wake chan struct{}
	done chan struct{}
}

// NewRecorder starts recording into s. Events are numbered in the order Record gets them,
// from 0.
func (s *Store) NewRecorder() *Recorder {
	r := &Recorder{s: s, wake: make(chan struct{}, 1), done: make(chan struct{})}
	r.moved.L = &r.mu
	go r.feed()
	return r
}

// Record queues one trace event. It never blocks on the store.
func (r *Recorder) Record(e bus.TraceEvent) {
	r.mu.Lock()
	if r.closed || r.err != nil {
		r.dropped++
		r.mu.Unlock()
		return
	}
	r.pending = append(r.pending, e)
	r.accepted++
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// feed moves queued events to the store's writer, in order.
func (r *Recorder) feed() {
	defer close(r.done)
	var batch []bus.TraceEvent
	index := uint64(0)
	for {
		r.mu.Lock()
		for len(r.pending) == 0 && !r.closed {
			r.mu.Unlock()
			<-r.wake
			r.mu.Lock()
		}
		batch, r.pending = r.pending, batch[:0]
		last := r.closed && len(batch) == 0
		failed := r.err != nil
		r.mu.Unlock()
		if last {
			return
		}
		written := 0
		if !failed {
			for _, e := range batch {
				if err := r.write(index, e); err != nil {
					r.fail(err)
					break
				}
				index++
				written++
			}
		}
		r.mu.Lock()
		r.handed += uint64(len(batch))
		r.dropped += uint64(len(batch) - written)
		r.moved.Broadcast()
		r.mu.Unlock()
		clear(batch)
	}
}

func (r *Recorder) write(index uint64, e bus.TraceEvent) error {
	if err := r.s.writeErr(); err != nil {
		return err
	}
	// the trace record says everything of a delivery or a dead letter; only a published
	// envelope is stored besides it, once, for the indexes
	var req writeReq
	if e.Kind == bus.TracePublished {
		req.env = e.Env
	}
	req.trace = &traceReq{index: index, rec: traceRecordOf(e)}
	return r.s.send(req)
}

func (r *Recorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

// Err is the write failure that stopped the recording, if one did.
func (r *Recorder) Err() error {
	if err := r.s.writeErr(); err != nil {
		r.fail(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Dropped is how many events were not recorded because an earlier write failed.
func (r *Recorder) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Backlog is how many recorded events wait to be handed to the store.
func (r *Recorder) Backlog() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int(r.accepted - r.handed)
}

// Flush waits until everything recorded so far is committed, and reports the failure
// that stopped the recording, if any.
func (r *Recorder) Flush() error {
	r.handOff()
	if err := r.s.flushQueue(); err != nil {
		r.fail(err)
	}
	return r.Err()
}

// handOff waits until the feeder has handed on everything recorded before the call.
func (r *Recorder) handOff() {
	r.mu.Lock()
	defer r.mu.Unlock()
	target := r.accepted
	for r.handed < target {
		r.moved.Wait()
	}
}

// Close records nothing more, writes out what is queued and waits for it to commit.
func (r *Recorder) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	<-r.done
	if err := r.s.flushQueue(); err != nil && !errors.Is(err, ErrClosed) {
		r.fail(err)
	}
	return r.Err()
}

// writeErr is the handle's first write failure, if it had one.
func (s *Store) writeErr() error {
	if p := s.broken.Load(); p != nil {
		return *p
	}
	return nil
}

// Attach records everything b publishes from now on, with its deliveries, dead letters
// and the rest of its trace, through a Recorder: the bus never waits for the store (see
// Recorder for what durable mode then guarantees). Detach or Close the store to stop.
func (s *Store) Attach(b *bus.Bus) error {
	s.attachMu.Lock()
	defer s.attachMu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	if s.opts.ReadOnly {
		return fmt.Errorf("history: %s was opened read-only: %w", s.path, ErrReadOnly)
	}
	if s.untap != nil {
		return fmt.Errorf("history: store %s is already attached to a bus; Detach first", s.path)
	}
	rec := s.NewRecorder()
	cancel := b.Tap(rec.Record)
	s.attached = rec
	s.untap = func() {
		cancel()
		rec.Close()
		s.attached = nil
	}
	return nil
}

// Detach stops recording; what was recorded before is still written.
func (s *Store) Detach() {
	s.attachMu.Lock()
	defer s.attachMu.Unlock()
	if s.untap != nil {
		s.untap()
		s.untap = nil
	}
}

// deliveryStatus names the Delivery.Status of each trace kind that records one.
var deliveryStatus = map[bus.TraceKind]string{bus.TraceDelivered: "delivered", bus.TraceHandlerFailed: "failed",
	bus.TraceSkipped: "skipped", bus.TraceRetryScheduled: "retrying"}

// DeliveryOf turns a trace event about a delivery into the Delivery the store records; ok
// is false for other kinds of event.
func DeliveryOf(e bus.TraceEvent) (d Delivery, ok bool) {
	status, ok := deliveryStatus[e.Kind]
	if !ok || e.Env == nil {
		return Delivery{}, false
	}
	return Delivery{EnvelopeID: e.Env.ID.String(), Seq: e.Env.Seq, Topic: e.Env.Topic, Source: e.Env.Meta.Source, Subscriber: e.App,
		SubscriptionID: e.SubscriptionID, Status: status, Reason: e.Reason, At: e.At}, true
}

type traceReq struct {
	index uint64
	rec   TraceRecord
}

func (w *batchWriter) putTrace(t *traceReq) error {
	b, err := w.ns.CreateBucketIfNotExists(bTrace)
	if err != nil {
		return err
	}
	b.FillPercent = 1 // keys only grow
	data, err := json.Marshal(t.rec)
	if err != nil {
		return err
	}
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], t.index)
	return b.Put(k[:], data)
}
