package eventsource

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Repository rebuilds states of type S from a store's streams. S must survive a JSON round
// trip: snapshots are kept encoded, which also keeps them safe from later mutation.
type Repository[S any] struct {
	store *Store
	opts  RepositoryOptions[S]

	mu    sync.Mutex
	snaps map[string][]snapshot // per stream, by version ascending
	stats LoadStats
}

// RepositoryOptions define an aggregate.
type RepositoryOptions[S any] struct {
	// Initial is the state before any event.
	Initial func() S
	// Apply folds one event into the state. An error stops a rebuild: the stream holds an
	// event this code cannot understand.
	Apply func(S, Event) (S, error)
	// SnapshotEvery takes a snapshot each time a stream's version reaches a multiple of it
	// (0: no snapshots).
	SnapshotEvery int
}

type snapshot struct {
	version int
	seq     uint64
	at      time.Time
	state   json.RawMessage
}

// LoadStats tells what rebuilding cost: how many loads, how many events were replayed,
// how many loads started from a snapshot.
type LoadStats struct {
	Loads, Replayed, FromSnapshot, Snapshots int
}

// NewRepository makes a repository over store.
func NewRepository[S any](store *Store, opts RepositoryOptions[S]) (*Repository[S], error) {
	if opts.Initial == nil || opts.Apply == nil {
		return nil, errors.New("eventsource: a repository needs Initial and Apply")
	}
	r := &Repository[S]{store: store, opts: opts, snaps: map[string][]snapshot{}}
	return r, nil
}

// Load returns a stream's current state and version.
func (r *Repository[S]) Load(stream string) (S, int, error) {
	return r.rebuild(stream, func(Event) bool { return true })
}

// StateAtVersion returns the state as it was right after the stream's version v.
func (r *Repository[S]) StateAtVersion(stream string, v int) (S, int, error) {
	return r.rebuild(stream, func(e Event) bool { return e.Version <= v })
}

// StateAtSeq returns the stream's state as it was when the store's head was seq.
func (r *Repository[S]) StateAtSeq(stream string, seq uint64) (S, int, error) {
	return r.rebuild(stream, func(e Event) bool { return e.Seq <= seq })
}

// StateAt returns the stream's state as it was at time t.
func (r *Repository[S]) StateAt(stream string, t time.Time) (S, int, error) {
	return r.rebuild(stream, func(e Event) bool { return !e.At.After(t) })
}

// rebuild replays the events for which keep holds (a prefix of the stream), starting from
// the newest snapshot inside that prefix.
func (r *Repository[S]) rebuild(stream string, keep func(Event) bool) (S, int, error) {
	state := r.opts.Initial()
	version := 0
	r.mu.Lock()
	snaps := r.snaps[stream]
	var from *snapshot
	for i := len(snaps) - 1; i >= 0; i-- {
		s := snaps[i]
		if keep(Event{Version: s.version, Seq: s.seq, At: s.at}) {
			from = &s
			break
		}
	}
	r.stats.Loads++
	if from != nil {
		r.stats.FromSnapshot++
	}
	r.mu.Unlock()
	if from != nil {
		if err := json.Unmarshal(from.state, &state); err != nil {
			return state, 0, fmt.Errorf("stream %s: snapshot at version %d: %w", stream, from.version, err)
		}
		version = from.version
	}
	replayed := 0
	for _, e := range r.store.Read(stream, version+1) {
		if !keep(e) {
			break
		}
		var err error
		if state, err = r.opts.Apply(state, e); err != nil {
			return state, version, fmt.Errorf("stream %s: apply %s (version %d): %w", stream, e.Type, e.Version, err)
		}
		version = e.Version
		replayed++
		if n := r.opts.SnapshotEvery; n > 0 && version%n == 0 {
			r.snapshot(stream, e, state)
		}
	}
	r.mu.Lock()
	r.stats.Replayed += replayed
	r.mu.Unlock()
	return state, version, nil
}

func (r *Repository[S]) snapshot(stream string, e Event, state S) {
	raw, err := json.Marshal(state)
	if err != nil {
		return // a state that cannot be encoded is simply not snapshotted
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	snaps := r.snaps[stream]
	i := sort.Search(len(snaps), func(i int) bool { return snaps[i].version >= e.Version })
	if i < len(snaps) && snaps[i].version == e.Version {
		return
	}
	snaps = append(snaps, snapshot{})
	copy(snaps[i+1:], snaps[i:])
	snaps[i] = snapshot{version: e.Version, seq: e.Seq, at: e.At, state: raw}
	r.snaps[stream] = snaps
	r.stats.Snapshots++
}

// Execute loads a stream, lets decide turn its state into new events, and appends them at
// the loaded version: if another writer appended in between, it fails with a
// *ConcurrencyError and nothing is written.
func (r *Repository[S]) Execute(stream string, decide func(S, int) ([]New, error)) ([]Event, error) {
	state, version, err := r.Load(stream)
	if err != nil {
		return nil, err
	}
	events, err := decide(state, version)
	if err != nil || len(events) == 0 {
		return nil, err
	}
	recs, err := r.store.Append(stream, version, events...)
	if err != nil {
		return recs, err
	}
	if n := r.opts.SnapshotEvery; n > 0 {
		for _, e := range recs {
			if e.Version%n == 0 {
				// fold once more to snapshot at the boundary
				if _, _, err := r.StateAtVersion(stream, e.Version); err != nil {
					return recs, err
				}
			}
		}
	}
	return recs, nil
}

// Stats returns the rebuild counters.
func (r *Repository[S]) Stats() LoadStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}
