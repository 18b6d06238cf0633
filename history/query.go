package history

import (
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"mfelab/bus"
)

// Order is the order results come in.
type Order int

const (
	// OldestFirst returns messages in the order they were stored.
	OldestFirst Order = iota
	// NewestFirst returns the most recent first; with Limit, "the last N".
	NewestFirst
)

// Query selects stored messages. Zero fields do not filter.
type Query struct {
	Pattern       string    // topic pattern ("" means "#")
	From, To      time.Time // bus timestamps, From inclusive, To exclusive
	FromSeq       uint64    // envelopes with Seq >= FromSeq
	CorrelationID string    // one conversation (see bus.Envelope.Correlation)
	Limit         int       // at most this many, counted in Order
	Order         Order
}

// selectsAll reports whether q filters nothing (a Limit and an Order aside).
func (q Query) selectsAll() bool {
	return (q.Pattern == "" || q.Pattern == "#") && q.From.IsZero() && q.To.IsZero() && q.FromSeq == 0 && q.CorrelationID == ""
}

// errStop ends an iteration early without an error.
var errStop = errors.New("stop")

// Query returns the selected messages.
func (s *Store) Query(q Query) ([]*bus.Envelope, error) {
	var out []*bus.Envelope
	err := s.Iterate(q, func(env *bus.Envelope) error {
		out = append(out, env)
		return nil
	})
	return out, err
}

// Iterate calls fn for each selected message, in one read transaction, holding one decoded
// envelope at a time: memory stays flat however many there are. An error from fn stops the
// iteration and is returned.
func (s *Store) Iterate(q Query, fn func(*bus.Envelope) error) error {
	if err := s.usable(); err != nil {
		return err
	}
	if q.Pattern == "" {
		q.Pattern = "#"
	}
	if err := bus.ValidatePattern(q.Pattern); err != nil {
		return fmt.Errorf("history query: %w", err)
	}
	if s.closed.Load() {
		return ErrClosed
	}
	err := s.db.View(func(tx *bolt.Tx) error { return s.iterateTx(tx, q, fn) })
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// iterateTx is Iterate inside a caller's transaction; q.Pattern must be set and valid.
func (s *Store) iterateTx(tx *bolt.Tx, q Query, fn func(*bus.Envelope) error) error {
	msgs := s.sub(tx, bMsgs)
	rows := s.rowSource(tx, q)
	n := 0
	for {
		row, ok := rows.next()
		if !ok {
			return nil
		}
		v := msgs.Get(rowKey(row))
		if v == nil {
			continue // collected between index and message: GC deletes both in one tx
		}
		env, err := decode(v)
		if err != nil {
			return fmt.Errorf("row %d: %w", row, err)
		}
		if !q.matches(env) {
			continue
		}
		if err := fn(env); err != nil {
			return err
		}
		n++
		if q.Limit > 0 && n >= q.Limit {
			return nil
		}
	}
}

func (q *Query) matches(env *bus.Envelope) bool {
	if q.Pattern != "#" && !bus.MatchTopic(q.Pattern, env.Topic) {
		return false
	}
	if !q.From.IsZero() && env.TS.Before(q.From) {
		return false
	}
	if !q.To.IsZero() && !env.TS.Before(q.To) {
		return false
	}
	if q.FromSeq > 0 && env.Seq < q.FromSeq {
		return false
	}
	return q.CorrelationID == "" || env.Correlation() == q.CorrelationID
}

// rowSource yields candidate row numbers in the query's order, using the narrowest index.
type rowSource interface{ next() (uint64, bool) }

func (s *Store) rowSource(tx *bolt.Tx, q Query) rowSource {
	desc := q.Order == NewestFirst
	if q.CorrelationID != "" {
		return newIndexCursor(s.sub(tx, bCorr).Cursor(), q.CorrelationID, desc)
	}
	if q.Pattern == "#" {
		return &msgCursor{c: s.sub(tx, bMsgs).Cursor(), desc: desc}
	}
	// Resolve the pattern against the distinct topics, then merge their index ranges.
	m := &mergeCursor{desc: desc}
	idx := s.sub(tx, bTopic)
	_ = s.sub(tx, bTopics).ForEach(func(k, _ []byte) error {
		if bus.MatchTopic(q.Pattern, string(k)) {
			ic := newIndexCursor(idx.Cursor(), string(k), desc)
			if row, ok := ic.next(); ok {
				m.h.items = append(m.h.items, mergeItem{row: row, src: ic})
			}
		}
		return nil
	})
	m.h.desc = desc
	heap.Init(&m.h)
	return m
}

type msgCursor struct {
	c       *bolt.Cursor
	desc    bool
	started bool
}

func (m *msgCursor) next() (uint64, bool) {
	var k []byte
	switch {
	case !m.started && m.desc:
		k, _ = m.c.Last()
	case !m.started:
		k, _ = m.c.First()
	case m.desc:
		k, _ = m.c.Prev()
	default:
		k, _ = m.c.Next()
	}
	m.started = true
	if k == nil {
		return 0, false
	}
	return binary.BigEndian.Uint64(k), true
}

// indexCursor walks the keys key + 0x00 + row of one index value.
type indexCursor struct {
	c       *bolt.Cursor
	prefix  []byte
	desc    bool
	started bool
}

func newIndexCursor(c *bolt.Cursor, key string, desc bool) *indexCursor {
	return &indexCursor{c: c, prefix: append([]byte(key), 0), desc: desc}
}

func (ic *indexCursor) next() (uint64, bool) {
	var k []byte
	switch {
	case !ic.started && ic.desc:
		// Seek past the last key with this prefix (prefix + 0xff...), then step back.
		end := append(bytes.Clone(ic.prefix), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
		if k, _ = ic.c.Seek(end); k == nil {
			k, _ = ic.c.Last()
		} else {
			k, _ = ic.c.Prev()
		}
	case !ic.started:
		k, _ = ic.c.Seek(ic.prefix)
	case ic.desc:
		k, _ = ic.c.Prev()
	default:
		k, _ = ic.c.Next()
	}
	ic.started = true
	if k == nil || len(k) != len(ic.prefix)+8 || !bytes.HasPrefix(k, ic.prefix) {
		return 0, false
	}
	return binary.BigEndian.Uint64(k[len(ic.prefix):]), true
}

type mergeItem struct {
	row uint64
	src *indexCursor
}

type mergeHeap struct {
	items []mergeItem
	desc  bool
}

func (h mergeHeap) Len() int { return len(h.items) }
func (h mergeHeap) Less(i, j int) bool {
	if h.desc {
		return h.items[i].row > h.items[j].row
	}
	return h.items[i].row < h.items[j].row
}
func (h mergeHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *mergeHeap) Push(x any)   { h.items = append(h.items, x.(mergeItem)) }
func (h *mergeHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// mergeCursor merges several topics' index cursors by row number.
type mergeCursor struct {
	h    mergeHeap
	desc bool
}

func (m *mergeCursor) next() (uint64, bool) {
	if m.h.Len() == 0 {
		return 0, false
	}
	top := m.h.items[0]
	if row, ok := top.src.next(); ok {
		m.h.items[0].row = row
		heap.Fix(&m.h, 0)
	} else {
		heap.Pop(&m.h)
	}
	return top.row, true
}
