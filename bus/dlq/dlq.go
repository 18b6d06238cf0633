// Package dlq is a dead-letter store: it takes ownership of a bus's dead letters (every
// delivery whose handler failed for good, after any retries) and lets a user list them,
// group them by reason, retry one or all, and purge them.
//
// Retrying redelivers the original envelope to the subscription that failed it, as its
// next attempt, so the envelope keeps its ID, correlation and causation and whatever the
// handler publishes joins the same causal chain. If that subscription is gone, the
// envelope is republished as its original source with the original correlation and
// causation and the header dlq-retry-of naming the dead envelope; every current
// subscriber of the topic then receives it.
//
// A retried entry leaves the store; if it fails again it comes back as a new entry with
// one more attempt. The store holds at most Limit entries, evicting the oldest.
package dlq

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"mfelab/bus"
)

// HeaderRetryOf names the dead envelope a republished retry stands for.
const HeaderRetryOf = "dlq-retry-of"

// ErrNotFound is a retry or purge of an entry the store does not hold.
var ErrNotFound = errors.New("no such dead letter")

// Entry is one dead letter.
type Entry struct {
	ID         uint64
	Envelope   *bus.Envelope // as the failing handler saw it
	Topic      string        // the original topic
	Subscriber string
	Pattern    string
	Reason     string
	Attempts   int
	At         time.Time

	dl bus.DeadLetter
}

// Stats counts a store's traffic.
type Stats struct {
	Held                                   int
	Received, Retried, Republished, Purged uint64
	Evicted                                uint64
}

// Store holds dead letters. Safe from any goroutine; retries take effect on the loop.
type Store struct {
	b      *bus.Bus
	limit  int
	mu     sync.Mutex
	next   uint64
	items  []Entry
	stats  Stats
	cancel func()
	notify func(Entry)
}

// Options configure a store.
type Options struct {
	// Limit is the most entries held (default 10,000).
	Limit int
	// OnDeadLetter, if set, is called on the loop with each new entry.
	OnDeadLetter func(Entry)
}

// Attach makes a store that takes b's dead letters from now on, and those b holds already.
func Attach(b *bus.Bus, opts Options) *Store {
	if opts.Limit <= 0 {
		opts.Limit = 10000
	}
	s := &Store{b: b, limit: opts.Limit, notify: opts.OnDeadLetter}
	s.cancel = b.SinkDeadLetters(s.add)
	return s
}

// Detach gives dead letters back to the bus's own list. Held entries stay here.
func (s *Store) Detach() { s.cancel() }

func (s *Store) add(dl bus.DeadLetter) {
	s.mu.Lock()
	s.next++
	e := Entry{ID: s.next, Envelope: dl.Envelope, Topic: dl.Envelope.Topic, Subscriber: dl.Subscriber, Pattern: dl.Pattern,
		Reason: dl.Reason, Attempts: dl.Attempt, At: dl.At, dl: dl}
	if len(s.items) >= s.limit {
		n := max(len(s.items)-s.limit+1, s.limit/10)
		s.items = slices.Delete(s.items, 0, n)
		s.stats.Evicted += uint64(n)
	}
	s.items = append(s.items, e)
	s.stats.Received++
	notify := s.notify
	s.mu.Unlock()
	if notify != nil {
		notify(e)
	}
}

// List returns the held entries, oldest first.
func (s *Store) List() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.items)
}

// Group is the entries sharing one reason.
type Group struct {
	Reason  string
	Entries []Entry
}

// ByReason groups the held entries by reason, largest group first (ties by reason).
func (s *Store) ByReason() []Group {
	idx := map[string]int{}
	var groups []Group
	for _, e := range s.List() {
		i, ok := idx[e.Reason]
		if !ok {
			i = len(groups)
			idx[e.Reason] = i
			groups = append(groups, Group{Reason: e.Reason})
		}
		groups[i].Entries = append(groups[i].Entries, e)
	}
	slices.SortStableFunc(groups, func(a, b Group) int {
		if len(a.Entries) != len(b.Entries) {
			return len(b.Entries) - len(a.Entries)
		}
		if a.Reason < b.Reason {
			return -1
		}
		if a.Reason > b.Reason {
			return 1
		}
		return 0
	})
	return groups
}

func (s *Store) take(id uint64) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.items, func(e Entry) bool { return e.ID == id })
	if i < 0 {
		return Entry{}, false
	}
	e := s.items[i]
	s.items = slices.Delete(s.items, i, i+1)
	return e, true
}

// Retry sends one entry back for another attempt (see the package doc).
func (s *Store) Retry(id uint64) error {
	e, ok := s.take(id)
	if !ok {
		return fmt.Errorf("retry %d: %w", id, ErrNotFound)
	}
	err := s.b.Redeliver(e.dl)
	if err == nil {
		s.count(func(st *Stats) { st.Retried++ })
		return nil
	}
	if !errors.Is(err, bus.ErrSubscriptionEnded) {
		s.putBack(e)
		return err
	}
	if err := s.republish(e); err != nil {
		s.putBack(e)
		return fmt.Errorf("retry %d: %w", id, err)
	}
	s.count(func(st *Stats) { st.Retried++; st.Republished++ })
	return nil
}

func (s *Store) republish(e Entry) error {
	env := e.dl.Envelope
	app := s.b.App(env.Meta.Source)
	if app == nil {
		return fmt.Errorf("the subscription is gone and its source app %q is not registered: %w", env.Meta.Source, bus.ErrUnknownApp)
	}
	headers := maps.Clone(env.Meta.Headers)
	if headers == nil {
		headers = map[string]string{}
	}
	headers[HeaderRetryOf] = env.ID.String()
	_, err := app.Send(bus.Msg{Topic: env.Topic, Payload: json.RawMessage(env.Payload), SchemaVersion: env.SchemaVersion,
		CorrelationID: env.Correlation(), CausationID: env.Meta.CausationID, TraceParent: env.Meta.TraceParent, Headers: headers})
	return err
}

func (s *Store) putBack(e Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, _ := slices.BinarySearchFunc(s.items, e.ID, func(x Entry, id uint64) int {
		switch {
		case x.ID < id:
			return -1
		case x.ID > id:
			return 1
		}
		return 0
	})
	s.items = slices.Insert(s.items, i, e)
}

// RetryAll retries every held entry, oldest first, and returns the errors of those that
// could not be retried (they stay in the store).
func (s *Store) RetryAll() error {
	var errs []error
	for _, e := range s.List() {
		if err := s.Retry(e.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Purge drops the given entries, or every entry when none are given, and returns how many
// it dropped.
func (s *Store) Purge(ids ...uint64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.items)
	if len(ids) == 0 {
		s.items = nil
	} else {
		s.items = slices.DeleteFunc(s.items, func(e Entry) bool { return slices.Contains(ids, e.ID) })
	}
	n -= len(s.items)
	s.stats.Purged += uint64(n)
	return n
}

func (s *Store) count(fn func(*Stats)) {
	s.mu.Lock()
	fn(&s.stats)
	s.mu.Unlock()
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Held = len(s.items)
	return st
}
