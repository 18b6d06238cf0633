package cqrs

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"mfelab/bus"
	"mfelab/bus/eventsource"
)

// Projection is a read model of type S built from a store's events as they arrive on the
// bus. It applies events strictly in store order: one that arrives ahead of a gap (the
// projection subscribed late, or was rebuilt) makes it catch up from the store first, and
// one it has already applied is skipped.
type Projection[S any] struct {
	name    string
	store   *eventsource.Store
	initial func() S
	apply   func(S, eventsource.Event) (S, error)
	clock   bus.Clock
	sub     *bus.Subscription

	mu       sync.Mutex
	state    S
	position uint64
	lastAt   time.Time
	applied  uint64
	rebuilds int
	err      error
}

// ProjectionOptions define a projection.
type ProjectionOptions[S any] struct {
	Name    string
	Initial func() S
	Apply   func(S, eventsource.Event) (S, error)
	// Pattern is the topic pattern the store publishes on (default "events.#").
	Pattern string
}

// Project makes a projection fed by app's subscription to the store's published events.
// It starts from zero and catches up with what the store holds already.
func Project[S any](app *bus.App, store *eventsource.Store, opts ProjectionOptions[S]) (*Projection[S], error) {
	if opts.Initial == nil || opts.Apply == nil {
		return nil, fmt.Errorf("projection %s: Initial and Apply are required", opts.Name)
	}
	if opts.Pattern == "" {
		opts.Pattern = "events.#"
	}
	p := &Projection[S]{name: opts.Name, store: store, initial: opts.Initial, apply: opts.Apply, clock: app.Bus(), state: opts.Initial()}
	sub, err := app.Subscribe(opts.Pattern, p.onEvent)
	if err != nil {
		return nil, fmt.Errorf("projection %s: %w", opts.Name, err)
	}
	p.sub = sub
	p.mu.Lock()
	err = p.catchUpLocked(store.Head())
	p.mu.Unlock()
	return p, err
}

func (p *Projection[S]) onEvent(_ context.Context, d bus.Delivery) error {
	var e eventsource.Event
	if err := json.Unmarshal(d.Payload, &e); err != nil {
		return fmt.Errorf("projection %s: %w", p.name, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Seq <= p.position {
		return nil // already applied (caught up, or rebuilt past it)
	}
	return p.catchUpLocked(e.Seq)
}

// catchUpLocked applies the store's events up to and including seq.
func (p *Projection[S]) catchUpLocked(seq uint64) error {
	if seq <= p.position {
		return nil
	}
	for _, e := range p.store.ReadAll(p.position+1, int(seq-p.position)) {
		s, err := p.apply(p.state, e)
		if err != nil {
			p.err = fmt.Errorf("projection %s: event %d (%s): %w", p.name, e.Seq, e.Type, err)
			return p.err
		}
		p.state, p.position, p.lastAt = s, e.Seq, e.At
		p.applied++
	}
	return nil
}

// Rebuild throws the read model away and replays every event from the store.
func (p *Projection[S]) Rebuild() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state, p.position, p.lastAt, p.err = p.initial(), 0, time.Time{}, nil
	p.rebuilds++
	return p.catchUpLocked(p.store.Head())
}

// Read calls fn with the read model, under the projection's lock: fn must not keep it.
func (p *Projection[S]) Read(fn func(S)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p.state)
}

// Lag says how far the projection is behind the store.
type Lag struct {
	Position, Head uint64
	Events         uint64        // Head - Position
	Behind         time.Duration // now minus the time of the last applied event, when behind
}

// Lag returns how far behind the store the read model is.
func (p *Projection[S]) Lag() Lag {
	head := p.store.Head()
	p.mu.Lock()
	defer p.mu.Unlock()
	l := Lag{Position: p.position, Head: head, Events: head - min(p.position, head)}
	if l.Events > 0 && !p.lastAt.IsZero() {
		l.Behind = p.clock.Now().Sub(p.lastAt)
	}
	return l
}

// ProjectionStats counts a projection's work.
type ProjectionStats struct {
	Applied  uint64
	Rebuilds int
	Err      error
}

// Stats returns the counters and the error that stopped the projection, if any.
func (p *Projection[S]) Stats() ProjectionStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return ProjectionStats{Applied: p.applied, Rebuilds: p.rebuilds, Err: p.err}
}

// Close stops following the bus.
func (p *Projection[S]) Close() { p.sub.Unsubscribe() }
