package history

// Reading a recorded run's trace back.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"mfelab/bus"
)

// StoredTrace is a recorded run read back: its messages by ID and its trace in order.
type StoredTrace struct {
	Records   []TraceRecord
	Envelopes map[uuid.UUID]*bus.Envelope
}

// Events rebuilds the trace events, envelopes attached. An event whose envelope is not
// stored (trimmed by retention) comes back without one.
func (t StoredTrace) Events() []bus.TraceEvent {
	out := make([]bus.TraceEvent, 0, len(t.Records))
	for _, r := range t.Records {
		env := t.Envelopes[r.ID]
		if env == nil && r.Kind == bus.TracePublished {
			continue
		}
		out = append(out, r.event(env))
	}
	return out
}

// Trace reads the namespace's recorded trace. It has no records for runs recorded before
// traces were kept, or imported from a file; then it holds a published event per message.
func (s *Store) Trace() (StoredTrace, error) {
	st := StoredTrace{Envelopes: map[uuid.UUID]*bus.Envelope{}}
	if s.closed.Load() {
		return st, ErrClosed
	}
	var order []*bus.Envelope
	err := s.db.View(func(tx *bolt.Tx) error {
		ns := tx.Bucket(s.ns)
		if ns == nil {
			return nil
		}
		if err := ns.Bucket(bMsgs).ForEach(func(_, v []byte) error {
			env, err := decode(v)
			if err != nil {
				return err
			}
			st.Envelopes[env.ID] = env
			order = append(order, env)
			return nil
		}); err != nil {
			return err
		}
		tb := ns.Bucket(bTrace)
		if tb == nil {
			return nil
		}
		return tb.ForEach(func(k, v []byte) error {
			var r TraceRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("trace record %d is unreadable: %w", binary.BigEndian.Uint64(k), err)
			}
			st.Records = append(st.Records, r)
			return nil
		})
	})
	if err == nil && len(st.Records) == 0 {
		for _, env := range order {
			st.Records = append(st.Records, TraceRecord{Kind: bus.TracePublished, At: env.TS, ID: env.ID, App: env.Meta.Source})
		}
	}
	return st, err
}

// RunEvents reads events from..to (to exclusive) of recorded run id's trace back, their
// envelopes attached, in order: the window pages the old rows of a long run from here.
// Events not yet committed are missing from the end of the result.
func (s *Store) RunEvents(id string, from, to int) ([]bus.TraceEvent, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	var out []bus.TraceEvent
	err := s.db.View(func(tx *bolt.Tx) error {
		ns := tx.Bucket([]byte(id))
		if ns == nil {
			return fmt.Errorf("%w %q in %s", ErrNoRun, id, s.path)
		}
		tb, ids, msgs := ns.Bucket(bTrace), ns.Bucket(bIDs), ns.Bucket(bMsgs)
		if tb == nil || ids == nil || msgs == nil {
			return nil
		}
		c := tb.Cursor()
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], uint64(max(from, 0)))
		for key, v := c.Seek(k[:]); key != nil && binary.BigEndian.Uint64(key) < uint64(to); key, v = c.Next() {
			var r TraceRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("trace record %d of %s is unreadable: %w", binary.BigEndian.Uint64(key), id, err)
			}
			var env *bus.Envelope
			if r.ID != uuid.Nil {
				if row := ids.Get(r.ID[:]); row != nil {
					var err error
					if env, err = decode(msgs.Get(row)); err != nil {
						return err
					}
				}
			}
			out = append(out, r.event(env))
		}
		return nil
	})
	return out, err
}
