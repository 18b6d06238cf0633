package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync/atomic"
)

// Handler handles one delivery. Returning an error (or panicking) fails the delivery: the
// bus records a dead letter and carries on with the other handlers.
type Handler func(ctx context.Context, d Delivery) error

// Delivery is one envelope handed to one subscription. It embeds the envelope, so d.Topic
// and d.Payload read as expected.
type Delivery struct {
	*Envelope
	// Subscriber is the app whose handler receives it.
	Subscriber     string
	SubscriptionID uint64
	Pattern        string
	// Attempt counts deliveries of this envelope to this subscription, from 1.
	Attempt int
	// Replay marks a retained envelope delivered because the subscription asked for replay.
	Replay bool
	// UpcastFrom is the schema version the envelope was published with, when the bus
	// upcast it for this subscriber; empty otherwise.
	UpcastFrom string

	sub *Subscription
}

// Publish publishes as the subscribing app, caused by this delivery: the new envelope's
// CausationID is this envelope's ID and it inherits the correlation and trace.
func (d Delivery) Publish(topic string, payload any) (*Envelope, error) {
	return d.Send(Msg{Topic: topic, Payload: payload})
}

// Send is Publish with full control over the message.
func (d Delivery) Send(m Msg) (*Envelope, error) {
	return d.sub.app.bus.publish(d.sub.app, &m, d.Envelope)
}

// PublishJSON is Publish for a pre-encoded payload, which the bus takes over without a
// copy, as App.PublishJSON does.
func (d Delivery) PublishJSON(topic string, payload json.RawMessage) (*Envelope, error) {
	return d.sub.app.bus.publishEncoded(d.sub.app, &Msg{Topic: topic}, payload, payloadHandedOver, d.Envelope)
}

// App is the subscribing app.
func (d Delivery) App() *App { return d.sub.app }

// Subscription is a registered handler. Cancel it with Unsubscribe or its context.
type Subscription struct {
	id      uint64
	pattern string
	app     *App
	handler Handler
	ctx     context.Context
	once    bool
	include []string
	exclude []string
	accept  string // schema version the handler understands, "" for as published
	mw      []Middleware

	active  atomic.Bool
	wrapped atomic.Pointer[wrappedHandler]
	done    <-chan struct{} // ctx.Done(), nil when ctx cannot be cancelled
	stop    func() bool     // releases the context watch; set under mu before the trie holds s
}

type wrappedHandler struct {
	gen uint64
	h   Handler
}

// ID is unique per bus and increases with subscription order.
func (s *Subscription) ID() uint64 { return s.id }

// Pattern is the subscription's topic pattern.
func (s *Subscription) Pattern() string { return s.pattern }

// App is the subscribing app.
func (s *Subscription) App() *App { return s.app }

// Active reports whether the subscription still receives deliveries.
func (s *Subscription) Active() bool { return s.active.Load() }

// SubOption configures a subscription.
type SubOption func(*subConfig)

type subConfig struct {
	replay  int
	ctx     context.Context
	once    bool
	include []string
	exclude []string
	accept  string
	mw      []Middleware
}

// WithReplay delivers up to n of the most recent retained matching envelopes first, oldest
// first, each marked Replay.
func WithReplay(n int) SubOption { return func(c *subConfig) { c.replay = n } }

// WithContext ties the subscription to ctx, which is what the handler receives. When ctx is
// done the subscription ends: the bus checks ctx just before each delivery and skips those
// that begin after it is done, while a handler already past that check sees ctx done.
func WithContext(ctx context.Context) SubOption { return func(c *subConfig) { c.ctx = ctx } }

// Once unsubscribes after the first delivery.
func Once() SubOption { return func(c *subConfig) { c.once = true } }

// FromSources delivers only envelopes published by these apps.
func FromSources(apps ...string) SubOption {
	return func(c *subConfig) { c.include = append(c.include, apps...) }
}

// ExceptSources skips envelopes published by these apps (an app ignoring its own echo).
func ExceptSources(apps ...string) SubOption {
	return func(c *subConfig) { c.exclude = append(c.exclude, apps...) }
}

// Accept declares the schema version the handler understands ("name@N"). Envelopes of the
// same schema name and an older version are upcast on delivery; newer ones cannot be
// downcast and become dead letters with that reason. When a message was published in
// several versions side by side (HeaderContractVersions), only the best fit arrives.
func Accept(schemaVersion string) SubOption { return func(c *subConfig) { c.accept = schemaVersion } }

// WithMiddleware wraps this subscription's handler inside the bus-wide middleware; the first
// given is the outermost of these.
func WithMiddleware(mw ...Middleware) SubOption {
	return func(c *subConfig) { c.mw = append(c.mw, mw...) }
}

// Subscribe registers h for topics matching pattern. Handlers of one publish run in
// subscription order.
func (a *App) Subscribe(pattern string, h Handler, opts ...SubOption) (*Subscription, error) {
	b := a.bus
	if h == nil {
		return nil, fmt.Errorf("subscribe %q: nil handler", pattern)
	}
	if err := ValidatePattern(pattern); err != nil {
		b.reject(a, pattern, err)
		return nil, err
	}
	if !a.maySubscribe(pattern) {
		err := &ACLError{App: a.name, Topic: pattern, Action: "subscribe", Allowed: a.sub}
		b.reject(a, pattern, err)
		return nil, err
	}
	var cfg subConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.accept != "" {
		if _, _, err := ParseSchemaVersion(cfg.accept); err != nil {
			return nil, fmt.Errorf("subscribe %q: %w", pattern, err)
		}
	}
	if cfg.ctx == nil {
		cfg.ctx = context.Background()
	}
	if err := cfg.ctx.Err(); err != nil {
		return nil, fmt.Errorf("subscribe %q: context already done: %w", pattern, err)
	}
	s := &Subscription{
		pattern: pattern, app: a, handler: h, ctx: cfg.ctx, once: cfg.once,
		include: cfg.include, exclude: cfg.exclude, accept: cfg.accept, mw: cfg.mw,
	}
	s.active.Store(true)
	var stop func() bool
	if s.done = cfg.ctx.Done(); s.done != nil {
		// Watched before s is in the trie, so a delivery never finds s.stop unset. If ctx
		// ends first, s is ended before the trie takes it and never gets in.
		stop = context.AfterFunc(cfg.ctx, s.Unsubscribe)
	}

	b.mu.Lock()
	s.stop = stop
	if n := b.trie.countPattern(pattern); n >= b.opts.MaxHandlersPerPattern {
		b.mu.Unlock()
		if stop != nil {
			stop()
		}
		err := fmt.Errorf("%w: %q already has %d (limit %d); unsubscribe unused handlers", ErrHandlerLimit, pattern, n, b.opts.MaxHandlersPerPattern)
		b.reject(a, pattern, err)
		return nil, err
	}
	b.nextSubID++
	s.id = b.nextSubID
	replayed := 0
	if n := cfg.replay; n > 0 {
		if s.once {
			n = 1
		}
		for _, env := range b.ring.last(pattern, n, b.now, b.opts.RetainTTL, s.accepts) {
			b.queue.push(event{at: b.now + a.latency.Load(), kind: evDelivery, env: env, sub: s,
				tc: b.topicCounterLocked(env.Topic), attempt: 1, replay: true})
			replayed++
		}
	}
	if !(s.once && replayed > 0) && s.active.Load() {
		b.trie.insert(s)
	}
	b.mu.Unlock()
	if replayed > 0 {
		b.nudge()
	}
	return s, nil
}

// accepts applies the source filters, and skips one of several versions of a message
// published side by side when the subscriber gets the version it asked for as a sibling.
func (s *Subscription) accepts(env *Envelope) bool {
	if s.include != nil && !slices.Contains(s.include, env.Meta.Source) {
		return false
	}
	if s.accept != "" && env.SchemaVersion != s.accept && env.Meta.Headers != nil {
		if vs := env.Meta.Headers[HeaderContractVersions]; vs != "" && siblingVersion(vs, env.SchemaVersion, s.accept) {
			return false
		}
	}
	return s.exclude == nil || !slices.Contains(s.exclude, env.Meta.Source)
}

// handlerFor returns the handler wrapped in the bus middleware current now, then the
// subscription's own, rebuilding only when Use has changed the chain.
func (s *Subscription) handlerFor(b *Bus) Handler {
	gen := b.mwGen.Load()
	if w := s.wrapped.Load(); w != nil && w.gen == gen {
		return w.h
	}
	b.mu.Lock()
	chain := slices.Concat(b.mw, s.mw)
	gen = b.mwGen.Load()
	b.mu.Unlock()
	h := s.handler
	for i := len(chain) - 1; i >= 0; i-- {
		h = chain[i](h)
	}
	s.wrapped.Store(&wrappedHandler{gen: gen, h: h})
	return h
}

// deliver runs one delivery event on the loop.
func (b *Bus) deliver(ev *event) {
	s := ev.sub
	if !s.active.Load() {
		b.skip(ev, "subscription ended before delivery")
		return
	}
	if s.done != nil {
		select {
		case <-s.done: // the context watch ends s too, but on another goroutine, later
			s.endOnLoop()
			b.skip(ev, "subscription context done before delivery")
			return
		default:
		}
	}
	if s.once {
		s.active.Store(false)
		if s.stop != nil {
			s.stop()
		}
	}
	d := Delivery{Envelope: ev.env, Subscriber: s.app.name, SubscriptionID: s.id, Pattern: s.pattern,
		Attempt: int(ev.attempt), Replay: ev.replay, sub: s}
	// From here on the delivery is made: it is counted and traced as delivered before
	// anything can fail it, so every failure follows the delivery it refers to.
	var contractErr error
	if s.accept != "" && ev.env.SchemaVersion != "" && ev.env.SchemaVersion != s.accept {
		if up, err := b.contracts.upcastFor(ev.env, s.accept); err != nil {
			contractErr = err // the envelope as published is what was delivered
		} else if up != ev.env {
			d.UpcastFrom = ev.env.SchemaVersion
			d.Envelope = up
		}
	}
	b.countDelivery(ev.tc, s.app)
	if b.hasTaps() {
		b.emit(TraceEvent{Kind: TraceDelivered, At: b.Now(), Env: d.Envelope, App: s.app.name, Topic: d.Topic,
			SubscriptionID: s.id, Pattern: s.pattern, Attempt: d.Attempt, Replay: d.Replay, UpcastFrom: d.UpcastFrom})
	}
	if contractErr != nil {
		b.fail(d, ev.env, contractErr, "contract")
		return
	}
	if err := invoke(s.handlerFor(b), s.ctx, d); err != nil {
		if re, ok := errors.AsType[*RetryError](err); ok {
			b.scheduleRetry(d, ev.env, ev.tc, re)
			return
		}
		b.fail(d, ev.env, err, "handler")
	}
}

// skip records a delivery not made because its subscription ended.
func (b *Bus) skip(ev *event, reason string) {
	s := ev.sub
	b.stats.skipped.Add(1)
	b.emit(TraceEvent{Kind: TraceSkipped, At: b.Now(), Env: ev.env, App: s.app.name, Topic: ev.env.Topic,
		SubscriptionID: s.id, Pattern: s.pattern, Attempt: int(ev.attempt), Reason: reason})
}

func invoke(h Handler, ctx context.Context, d Delivery) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: string(debug.Stack())}
		}
	}()
	return h(ctx, d)
}

// fail records a failed delivery: a handler-failed trace event and a dead letter.
func (b *Bus) fail(d Delivery, orig *Envelope, err error, stage string) {
	s := d.sub
	s.app.failures.Add(1)
	b.stats.failed.Add(1)
	now := b.Now()
	b.emit(TraceEvent{Kind: TraceHandlerFailed, At: now, Env: d.Envelope, App: s.app.name, Topic: d.Topic,
		SubscriptionID: s.id, Pattern: s.pattern, Attempt: d.Attempt, Reason: stage + ": " + err.Error(), Err: err})
	b.deadLetter(DeadLetter{Envelope: d.Envelope, Subscriber: s.app.name, SubscriptionID: s.id, Pattern: s.pattern,
		Reason: stage + ": " + err.Error(), Attempt: d.Attempt, At: now, Err: err, sub: s, orig: orig})
}

// Use adds bus-wide middleware around every handler, existing and future. The first added
// is the outermost: Use(a); Use(b) runs a(b(handler)).
func (b *Bus) Use(mw ...Middleware) {
	b.mu.Lock()
	b.mw = append(b.mw, mw...)
	b.mwGen.Add(1)
	b.mu.Unlock()
}

// Middleware wraps a handler: tracing, contracts, dedup, retry are all middleware.
type Middleware func(Handler) Handler
