package history

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"mfelab/bus"
)

// writeReq is one unit of work for the writer: an envelope, a delivery record, a dead
// letter or a named state. done, if set, receives the commit result.
type writeReq struct {
	env   *bus.Envelope
	deliv *Delivery
	dead  *DeadLetter
	state *stateReq
	trace *traceReq
	flush bool
	done  chan error
}

type stateReq struct {
	kind, id string
	value    json.RawMessage
}

// Delivery records that an envelope reached (or failed at) a subscriber.
type Delivery struct {
	EnvelopeID     string    `json:"id"`
	Seq            uint64    `json:"seq"`
	Topic          string    `json:"topic"`
	Source         string    `json:"source"`
	Subscriber     string    `json:"app"`
	SubscriptionID uint64    `json:"sub"`
	Status         string    `json:"status"` // delivered, failed, retrying, skipped
	Reason         string    `json:"reason,omitempty"`
	At             time.Time `json:"at"`
}

// DeadLetter is a persisted bus dead letter.
type DeadLetter struct {
	Envelope   *bus.Envelope `json:"envelope"`
	Subscriber string        `json:"app"`
	Pattern    string        `json:"pattern"`
	Reason     string        `json:"reason"`
	Attempt    int           `json:"attempt"`
	At         time.Time     `json:"at"`
}

// Append stores envelopes. In durable mode it returns after they are committed; otherwise
// once queued. An envelope whose ID is already stored is skipped and counted.
func (s *Store) Append(envs ...*bus.Envelope) error {
	for i, env := range envs {
		req := writeReq{env: env}
		if s.opts.Durable && i == len(envs)-1 {
			req.done = make(chan error, 1)
		}
		if err := s.send(req); err != nil {
			return err
		}
		if req.done != nil {
			return <-req.done
		}
	}
	return nil
}

// PutState stores a named state (a saga instance, say) under kind/id, replacing the last.
func (s *Store) PutState(kind, id string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("history: state %s/%s is not JSON-encodable: %w", kind, id, err)
	}
	req := writeReq{state: &stateReq{kind: kind, id: id, value: data}, done: make(chan error, 1)}
	if err := s.send(req); err != nil {
		return err
	}
	return <-req.done
}

// Flush waits until everything queued so far is committed, and reports the first write
// error since the last Flush.
func (s *Store) Flush() error {
	s.attachMu.Lock()
	rec := s.attached
	s.attachMu.Unlock()
	if rec != nil {
		rec.handOff()
	}
	return s.flushQueue()
}

// flushQueue waits until everything in the writer's queue is committed.
func (s *Store) flushQueue() error {
	req := writeReq{flush: true, done: make(chan error, 1)}
	if err := s.send(req); err != nil {
		return err
	}
	if err := <-req.done; err != nil {
		return err
	}
	if p := s.writeE.Swap(nil); p != nil {
		return *p
	}
	return nil
}

func (s *Store) send(req writeReq) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return ErrClosed
	}
	s.queue <- req
	return nil
}

// writer owns all writes: it gathers a batch and commits it in one transaction.
func (s *Store) writer() {
	defer close(s.done)
	batch := make([]writeReq, 0, s.opts.BatchSize)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var first writeReq
		select {
		case first = <-s.queue:
		case <-s.stop:
			s.drain(batch)
			return
		}
		batch = append(batch[:0], first)
		if !first.flush {
			timer.Reset(s.opts.BatchDelay)
		gather:
			for len(batch) < s.opts.BatchSize {
				select {
				case r := <-s.queue:
					batch = append(batch, r)
					if r.flush {
						break gather
					}
				case <-timer.C:
					break gather
				}
			}
			timer.Stop()
		}
		s.commit(batch)
	}
}

// drain commits whatever is still queued at Close.
func (s *Store) drain(batch []writeReq) {
	for {
		batch = batch[:0]
	collect:
		for len(batch) < s.opts.BatchSize {
			select {
			case r := <-s.queue:
				batch = append(batch, r)
			default:
				break collect
			}
		}
		if len(batch) == 0 {
			return
		}
		s.commit(batch)
	}
}

func (s *Store) commit(batch []writeReq) {
	var stored, skipped uint64
	if p := s.broken.Load(); p != nil && !onlyFlushes(batch) {
		err := fmt.Errorf("history: not written after an earlier failure: %w", *p)
		for _, r := range batch {
			if r.done != nil {
				r.done <- err
			}
		}
		return
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		stored, skipped = 0, 0
		ns := tx.Bucket(s.ns)
		w := batchWriter{ns: ns, msgs: ns.Bucket(bMsgs), ids: ns.Bucket(bIDs), meta: ns.Bucket(bMeta),
			topic: ns.Bucket(bTopic), corr: ns.Bucket(bCorr), topicCounts: map[string]uint64{}}
		// Rows and ids (UUIDv7, ordered by time) only ever grow at the end: full pages
		// there mean half the pages and no splits to redo.
		w.msgs.FillPercent, w.ids.FillPercent = 1, 1
		w.next = readUint(w.meta.Get(kNext))
		for _, r := range batch {
			var err error
			switch {
			case r.env != nil:
				var ok bool
				ok, err = w.putEnvelope(r.env)
				if ok {
					stored++
				} else if err == nil {
					skipped++
				}
			case r.deliv != nil:
				err = w.putDelivery(r.deliv)
			case r.dead != nil:
				err = w.putDead(r.dead)
			case r.state != nil:
				err = ns.Bucket(bStates).Put([]byte(r.state.kind+"\x00"+r.state.id), r.state.value)
			}
			if err == nil && r.trace != nil {
				err = w.putTrace(r.trace)
			}
			if err != nil {
				return err
			}
		}
		if err := w.putTopicCounts(); err != nil {
			return err
		}
		if err := w.meta.Put(kNext, uintBytes(w.next)); err != nil {
			return err
		}
		return w.meta.Put(kCount, uintBytes(readUint(w.meta.Get(kCount))+stored))
	})
	if err == nil {
		s.stats.stored.Add(stored)
		s.stats.skipped.Add(skipped)
	} else {
		err = fmt.Errorf("history: write %d records to %s: %w", len(batch), s.path, err)
		s.writeE.Store(&err)
		if s.broken.CompareAndSwap(nil, &err) { // once, not once per failed batch
			s.log.Error("history write failed; nothing more is written through this handle", "error", err)
		}
	}
	for _, r := range batch {
		if r.done != nil {
			r.done <- err
		}
	}
}

var kCount = []byte("count")

type batchWriter struct {
	ns, msgs, ids, meta, topic, corr *bolt.Bucket
	next                             uint64 // last row number used
	// topicCounts gathers the batch's messages per topic, written once per topic at the
	// end rather than once per message.
	topicCounts map[string]uint64
	arena       []byte // see encode
}

// encode returns env's JSON in the batch's arena: bbolt holds on to values until the
// transaction commits, so each gets its own bytes, carved from large blocks instead of
// allocated one by one.
func (w *batchWriter) encode(env *bus.Envelope) ([]byte, error) {
	if need := len(env.Payload) + 1024; cap(w.arena)-len(w.arena) < need {
		w.arena = make([]byte, 0, max(64<<10, need))
	}
	start := len(w.arena)
	var err error
	if w.arena, err = appendEnvelope(w.arena, env); err != nil {
		w.arena = w.arena[:start]
		return nil, err
	}
	return w.arena[start:len(w.arena):len(w.arena)], nil
}

func (w *batchWriter) putTopicCounts() error {
	topics := w.ns.Bucket(bTopics)
	for t, n := range w.topicCounts {
		if err := topics.Put([]byte(t), uintBytes(readUint(topics.Get([]byte(t)))+n)); err != nil {
			return err
		}
	}
	return nil
}

func (w *batchWriter) putEnvelope(env *bus.Envelope) (bool, error) {
	if w.ids.Get(env.ID[:]) != nil {
		return false, nil
	}
	data, err := w.encode(env)
	if err != nil {
		return false, err
	}
	w.next++
	row := w.next
	if err := w.msgs.Put(rowKey(row), data); err != nil {
		return false, err
	}
	if err := w.ids.Put(env.ID[:], rowKey(row)); err != nil {
		return false, err
	}
	if err := w.topic.Put(indexKey(env.Topic, row), nil); err != nil {
		return false, err
	}
	if err := w.corr.Put(indexKey(env.Correlation(), row), nil); err != nil {
		return false, err
	}
	w.topicCounts[env.Topic]++
	return true, nil
}

// putDelivery keys deliveries by envelope id + a sequence, so one prefix scan finds a
// message's deliveries in the order they happened.
func (w *batchWriter) putDelivery(d *Delivery) error {
	id, err := uuid.Parse(d.EnvelopeID)
	if err != nil {
		return err
	}
	return putSequenced(w.ns.Bucket(bDeliv), id[:], d)
}

func (w *batchWriter) putDead(d *DeadLetter) error {
	return putSequenced(w.ns.Bucket(bDead), nil, d)
}

// putSequenced stores v as JSON under prefix + the bucket's next sequence number.
func putSequenced(b *bolt.Bucket, prefix []byte, v any) error {
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(append(append([]byte(nil), prefix...), rowKey(seq)...), data)
}

func readUint(v []byte) uint64 {
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func uintBytes(n uint64) []byte { return rowKey(n) }

// onlyFlushes reports whether batch asks for nothing but flushes.
func onlyFlushes(batch []writeReq) bool {
	for _, r := range batch {
		if !r.flush {
			return false
		}
	}
	return true
}
