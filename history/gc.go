package history

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// gcChunk bounds the rows one GC transaction deletes, so a large collection commits in
// steps and writers wait at most one step.
const gcChunk = 5000

// GCResult reports one retention pass.
type GCResult struct {
	Collected uint64
	Remaining uint64
	Took      time.Duration
}

// GC applies TTL and MaxMessages now, deleting oldest first. TTL is measured against now,
// which callers pass so that simulated runs expire by bus time (use time.Now() for wall
// time).
func (s *Store) GC(now time.Time) (GCResult, error) {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	if s.closed.Load() {
		return GCResult{}, ErrClosed
	}
	start := time.Now()
	var res GCResult
	cutoff := time.Time{}
	if s.opts.TTL > 0 {
		cutoff = now.Add(-s.opts.TTL)
	}
	for {
		var n uint64
		var more bool
		err := s.db.Update(func(tx *bolt.Tx) error {
			var err error
			n, more, err = s.collectChunk(tx, cutoff)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("history GC in %s: %w", s.path, err)
		}
		res.Collected += n
		if !more {
			break
		}
	}
	s.stats.collected.Add(res.Collected)
	s.stats.lastGC.Store(time.Now().UnixNano())
	st, err := s.Stats()
	res.Remaining = st.Stored
	res.Took = time.Since(start)
	return res, err
}

// indexed is the part of a stored envelope GC needs to find its index entries.
type indexed struct {
	ID    uuid.UUID `json:"id"`
	Topic string    `json:"topic"`
	TS    time.Time `json:"ts"`
	Meta  struct {
		CorrelationID string `json:"correlationId"`
	} `json:"meta"`
}

func (s *Store) collectChunk(tx *bolt.Tx, cutoff time.Time) (n uint64, more bool, err error) {
	ns := tx.Bucket(s.ns)
	msgs, meta, topics := ns.Bucket(bMsgs), ns.Bucket(bMeta), ns.Bucket(bTopics)
	count := readUint(meta.Get(kCount))
	// Choose the rows first: deleting under a moving bbolt cursor can skip keys.
	type victim struct {
		row uint64
		ix  indexed
	}
	var victims []victim
	c := msgs.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(victims) == gcChunk {
			more = true
			break
		}
		var ix indexed
		if err := json.Unmarshal(v, &ix); err != nil {
			return 0, false, fmt.Errorf("row %x is unreadable: %w", k, err)
		}
		overMax := s.opts.MaxMessages > 0 && count-uint64(len(victims)) > uint64(s.opts.MaxMessages)
		expired := !cutoff.IsZero() && ix.TS.Before(cutoff)
		if !overMax && !expired {
			break // oldest first: nothing after this is due either
		}
		victims = append(victims, victim{readUint(k), ix})
	}
	gone := map[string]uint64{} // messages collected per topic, counted down once per topic
	for _, vi := range victims {
		ix := vi.ix
		corr := ix.Meta.CorrelationID
		if corr == "" {
			corr = ix.ID.String()
		}
		for _, del := range []struct{ b, key []byte }{
			{bMsgs, rowKey(vi.row)}, {bTopic, indexKey(ix.Topic, vi.row)}, {bCorr, indexKey(corr, vi.row)}, {bIDs, ix.ID[:]},
		} {
			if err := ns.Bucket(del.b).Delete(del.key); err != nil {
				return n, false, err
			}
		}
		gone[ix.Topic]++
		count--
		n++
	}
	for topic, k := range gone {
		if left := readUint(topics.Get([]byte(topic))); left <= k {
			err = topics.Delete([]byte(topic))
		} else {
			err = topics.Put([]byte(topic), uintBytes(left-k))
		}
		if err != nil {
			return n, false, err
		}
	}
	return n, more, meta.Put(kCount, uintBytes(count))
}

// gcLoop runs GC every GCInterval until Close, by wall time.
func (s *Store) gcLoop() {
	t := time.NewTicker(s.opts.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			if _, err := s.GC(now); err != nil && !s.closed.Load() {
				s.log.Error("history: background GC failed", "error", err)
			}
		}
	}
}
