// Package eventsource keeps state as the events that produced it: an append-only Store of
// versioned streams with optimistic concurrency, and a Repository that rebuilds an
// aggregate's state by replaying them, from a snapshot every N events, at the latest
// version or at any past version, global position or time (time travel).
//
// Appended events can also be published on the bus ("events.<type>" by default), which is
// how projections (package cqrs) and the flow diagram see them.
//
// The store lives in memory and is safe from any goroutine; appends are ordered by a
// global, gap-free position (Seq) and a per-stream Version, both from 1.
package eventsource

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"mfelab/bus"
)

// Expected versions with a special meaning for Append.
const (
	// AnyVersion appends whatever the stream's version.
	AnyVersion = -1
	// NoStream appends only if the stream does not exist yet.
	NoStream = 0
)

// ErrConcurrency is what a version conflict's error is, for errors.Is.
var ErrConcurrency = errors.New("concurrency conflict")

// ConcurrencyError is an append whose expected version was not the stream's version:
// someone else appended first. Reload and decide again.
type ConcurrencyError struct {
	Stream           string
	Expected, Actual int
}

func (e *ConcurrencyError) Error() string {
	return fmt.Sprintf("stream %s: expected version %d, but it is at %d", e.Stream, e.Expected, e.Actual)
}

func (e *ConcurrencyError) Unwrap() error { return ErrConcurrency }

// Event is a recorded event.
type Event struct {
	Stream  string          `json:"stream"`
	Version int             `json:"version"`
	Seq     uint64          `json:"seq"`
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data"`
	At      time.Time       `json:"at"`
}

// Decode unmarshals the event's data into v.
func (e Event) Decode(v any) error { return json.Unmarshal(e.Data, v) }

// New is an event to append.
type New struct {
	Type string
	Data any
}

// Options configure a Store.
type Options struct {
	// Publish, if set, publishes every appended event as this app.
	Publish *bus.App
	// Topic names the topic an event is published on (default "events.<Type>").
	Topic func(Event) string
}

// Store is an in-memory event store.
type Store struct {
	clock bus.Clock
	opts  Options

	mu      sync.RWMutex
	log     []Event
	streams map[string][]int // stream -> indexes into log
	watch   []*watcher
}

type watcher struct{ fn func(Event) }

// NewStore makes a store stamping events with clock's time.
func NewStore(clock bus.Clock, opts Options) *Store {
	if opts.Topic == nil {
		opts.Topic = func(e Event) string { return "events." + e.Type }
	}
	return &Store{clock: clock, opts: opts, streams: map[string][]int{}}
}

// Append adds events to a stream if it is at the expected version (or AnyVersion), and
// returns them as recorded. Watchers and the bus see them after the append is complete.
func (s *Store) Append(stream string, expected int, events ...New) ([]Event, error) {
	if stream == "" {
		return nil, errors.New("eventsource: empty stream name")
	}
	if len(events) == 0 {
		return nil, nil
	}
	recs := make([]Event, len(events))
	now := s.clock.Now()
	for i, n := range events {
		if n.Type == "" {
			return nil, fmt.Errorf("stream %s: event %d has no type", stream, i)
		}
		raw, err := json.Marshal(n.Data)
		if err != nil {
			return nil, fmt.Errorf("stream %s: event %s: %w", stream, n.Type, err)
		}
		recs[i] = Event{Stream: stream, Type: n.Type, Data: raw, At: now}
	}
	s.mu.Lock()
	idx := s.streams[stream]
	if expected != AnyVersion && expected != len(idx) {
		s.mu.Unlock()
		return nil, &ConcurrencyError{Stream: stream, Expected: expected, Actual: len(idx)}
	}
	for i := range recs {
		recs[i].Version = len(idx) + 1
		recs[i].Seq = uint64(len(s.log)) + 1
		idx = append(idx, len(s.log))
		s.log = append(s.log, recs[i])
	}
	s.streams[stream] = idx
	watch := s.watch
	s.mu.Unlock()
	for _, e := range recs {
		for _, w := range watch {
			w.fn(e)
		}
		if s.opts.Publish != nil {
			if _, err := s.opts.Publish.Send(bus.Msg{Topic: s.opts.Topic(e), Payload: e, CorrelationID: e.Stream}); err != nil {
				return recs, fmt.Errorf("stream %s: appended, but publishing %s failed: %w", stream, e.Type, err)
			}
		}
	}
	return recs, nil
}

// Watch calls fn with every event appended from now on, in order, on the appending
// goroutine. The returned func stops it.
func (s *Store) Watch(fn func(Event)) (stop func()) {
	w := &watcher{fn: fn}
	s.mu.Lock()
	s.watch = append(slices.Clip(s.watch), w)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.watch = slices.DeleteFunc(slices.Clone(s.watch), func(x *watcher) bool { return x == w })
		s.mu.Unlock()
	}
}

// Version is a stream's current version (0 when it does not exist).
func (s *Store) Version(stream string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.streams[stream])
}

// Head is the position of the last event in the store.
func (s *Store) Head() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return uint64(len(s.log))
}

// Read returns a stream's events from version from (1 for all) on.
func (s *Store) Read(stream string, from int) []Event {
	s.mu.RLock()
	defer s.mu.RUnlock()
	idx := s.streams[stream]
	from = max(from, 1)
	if from > len(idx) {
		return nil
	}
	out := make([]Event, 0, len(idx)-from+1)
	for _, i := range idx[from-1:] {
		out = append(out, s.log[i])
	}
	return out
}

// ReadAll returns up to limit events (0: no limit) from global position from (1 for all).
func (s *Store) ReadAll(from uint64, limit int) []Event {
	s.mu.RLock()
	defer s.mu.RUnlock()
	from = max(from, 1)
	if from > uint64(len(s.log)) {
		return nil
	}
	end := uint64(len(s.log))
	if limit > 0 {
		end = min(end, from-1+uint64(limit))
	}
	return slices.Clone(s.log[from-1 : end])
}

// Streams lists the stream names, sorted.
func (s *Store) Streams() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.streams))
	for k := range s.streams {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
