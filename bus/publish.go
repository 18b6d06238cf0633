package bus

import (
	"encoding/json"
	"errors"
	"maps"
	"time"

	"github.com/google/uuid"
)

// Msg is what an app asks the bus to publish. Only Topic is required.
type Msg struct {
	Topic string
	// Payload is any JSON-encodable value. A json.RawMessage is checked and used as is
	// (copied, so the caller may reuse its buffer); nil publishes JSON null.
	Payload any
	// SchemaVersion names the payload's contract as "name@N" (see Contracts).
	SchemaVersion string
	// CorrelationID overrides the correlation inherited from the causing delivery.
	CorrelationID string
	// CausationID names the envelope that caused this one when it is not being published
	// from that envelope's delivery (a dead letter republished later keeps its chain this
	// way). A delivery's own cause takes precedence.
	CausationID uuid.UUID
	// TraceParent continues an outside trace; inside the bus the trace is inherited.
	TraceParent TraceContext
	// Headers are copied into the envelope.
	Headers map[string]string

	// id is the identity an imported message keeps (see App.Import); zero for a publish.
	// An imported message's payload and headers are the envelope's own, not copies.
	id uuid.UUID
}

// Publish publishes payload to topic as this app.
func (a *App) Publish(topic string, payload any) (*Envelope, error) {
	return a.bus.publish(a, &Msg{Topic: topic, Payload: payload}, nil)
}

// PublishJSON publishes a pre-encoded JSON payload to topic as this app: the fast path
// for callers that already hold JSON. The payload is checked but not copied; the bus
// takes it over as the envelope's payload, so the caller must not change it afterwards
// (publishing the same unchanged slice again is fine). A caller that wants to reuse its
// buffer passes the payload through Publish or Send instead, which copy it.
func (a *App) PublishJSON(topic string, payload json.RawMessage) (*Envelope, error) {
	return a.bus.publishEncoded(a, &Msg{Topic: topic}, payload, payloadHandedOver, nil)
}

// Send publishes m as this app.
func (a *App) Send(m Msg) (*Envelope, error) {
	return a.bus.publish(a, &m, nil)
}

var jsonNull = json.RawMessage("null")

// errRawInvalid is the reason given for a json.RawMessage that is not valid JSON.
var errRawInvalid = errors.New("raw message is not one well-formed JSON value")

// payloadOrigin says where an encoded payload came from, which decides whether the bus
// must check it and whether it must copy it.
type payloadOrigin uint8

const (
	payloadEncoded    payloadOrigin = iota // encoded by the bus: valid and its own
	payloadLent                            // the caller's buffer: check it, copy it
	payloadHandedOver                      // the caller's, given up: check it, keep it
)

// publish encodes m.Payload and publishes. A json.RawMessage payload is checked and copied;
// anything else goes through encoding/json.
func (b *Bus) publish(a *App, m *Msg, cause *Envelope) (*Envelope, error) {
	switch v := m.Payload.(type) {
	case nil:
		return b.publishEncoded(a, m, jsonNull, payloadEncoded, cause)
	case json.RawMessage:
		return b.publishEncoded(a, m, v, payloadLent, cause)
	}
	out, err := json.Marshal(m.Payload)
	if err != nil {
		err = &PayloadError{Topic: m.Topic, Err: err}
		b.reject(a, m.Topic, err)
		return nil, err
	}
	return b.publishEncoded(a, m, out, payloadEncoded, cause)
}

// publishEncoded is the one path every message takes. origin says whether the payload
// must be checked and copied; cause is the envelope whose delivery is being handled when a
// handler publishes, nil otherwise.
func (b *Bus) publishEncoded(a *App, m *Msg, payload json.RawMessage, origin payloadOrigin, cause *Envelope) (*Envelope, error) {
	if err := ValidateTopic(m.Topic); err != nil {
		b.reject(a, m.Topic, err)
		return nil, err
	}
	if !a.mayPublish(m.Topic) {
		err := &ACLError{App: a.name, Topic: m.Topic, Action: "publish", Allowed: a.pub}
		b.reject(a, m.Topic, err)
		return nil, err
	}
	if origin != payloadEncoded && !validJSON(payload) {
		err := &PayloadError{Topic: m.Topic, Err: errRawInvalid}
		b.reject(a, m.Topic, err)
		return nil, err
	}
	warning, err := b.contracts.check(m.SchemaVersion, payload)
	if err != nil {
		b.reject(a, m.Topic, err)
		return nil, err
	}

	var env *Envelope
	if origin == payloadLent {
		env = newEnvelopeWithPayload(payload)
	} else {
		// Clipped, so nobody appending to the payload writes into the rest of a caller's
		// buffer.
		env = &Envelope{Payload: payload[:len(payload):len(payload)]}
	}
	env.Topic = m.Topic
	env.SchemaVersion = m.SchemaVersion
	env.Meta.Source = a.name // field by field: env is fresh and zero, skip copying zeros
	if m.CorrelationID != "" {
		env.Meta.CorrelationID = m.CorrelationID
	}
	if m.TraceParent.TraceID != ([16]byte{}) { // an all-zero trace id is invalid (W3C), so unset
		env.Meta.TraceParent = m.TraceParent
	}
	if m.Headers != nil {
		if m.id != (uuid.UUID{}) {
			env.Meta.Headers = m.Headers // Import takes the map over
		} else {
			env.Meta.Headers = maps.Clone(m.Headers)
		}
	}
	if m.CausationID != (uuid.UUID{}) {
		env.Meta.CausationID = m.CausationID
	}
	if cause != nil {
		env.Meta.CausationID = cause.ID
		if env.Meta.CorrelationID == "" {
			env.Meta.CorrelationID = cause.Correlation()
		}
		if env.Meta.TraceParent.TraceID == ([16]byte{}) {
			env.Meta.TraceParent.TraceID = cause.Meta.TraceParent.TraceID
		}
	}

	b.mu.Lock()
	if !a.takeToken(b.now) {
		rl := a.limit
		b.mu.Unlock()
		b.stats.rateLimited.Add(1)
		rlErr := &RateLimitError{App: a.name, PerSecond: rl.PerSecond, Burst: rl.Burst}
		b.emit(TraceEvent{Kind: TraceRateLimited, At: b.Now(), App: a.name, Topic: m.Topic, Reason: rlErr.Error()})
		if rl.Drop {
			return nil, nil
		}
		return nil, rlErr
	}
	now := b.now
	b.seq++
	env.Seq = b.seq
	env.TS = b.epoch.Add(time.Duration(now))
	if m.id == (uuid.UUID{}) {
		env.ID = b.ids.next(b.epochMS + now/int64(time.Millisecond))
		if env.Meta.TraceParent.TraceID == [16]byte{} {
			env.Meta.TraceParent.TraceID = env.ID
		}
		copy(env.Meta.TraceParent.SpanID[:], env.ID[8:])
		env.Meta.TraceParent.Flags = 1
	} else {
		importTraceLocked(env, m)
	}

	tc := b.topicCounterLocked(env.Topic)
	tc.published++
	// The route stays valid while the loop below removes once subscriptions: a remove only
	// marks routes stale, and nothing asks the trie for a route until the loop is done.
	subs := b.trie.route(m.Topic)
	if at, ok := fansOut(subs, env); ok {
		b.queue.push(event{at: now + at, kind: evFanout, env: env, tc: tc, attempt: 1, fan: &fanout{subs: subs}})
	} else {
		for _, s := range subs {
			if !s.accepts(env) {
				continue
			}
			if s.once {
				b.trie.remove(s) // at most one delivery, even if more publishes race in
			}
			b.queue.push(event{at: now + s.app.latency.Load(), kind: evDelivery, env: env, sub: s, tc: tc, attempt: 1})
		}
	}
	b.ring.add(env, now, b.opts.RetainTTL)
	b.stats.published++
	a.published++
	if b.hasTaps() {
		b.emit(TraceEvent{Kind: TracePublished, At: env.TS, Env: env, App: a.name, Topic: env.Topic})
		if warning != "" {
			b.emit(TraceEvent{Kind: TraceContractWarning, At: env.TS, Env: env, App: a.name, Topic: env.Topic, Reason: warning})
		}
	}
	b.mu.Unlock()
	b.nudge()
	return env, nil
}

// Correlation is the conversation the envelope belongs to: its CorrelationID, or its own ID
// when it starts a conversation without one.
func (e *Envelope) Correlation() string {
	if e.Meta.CorrelationID != "" {
		return e.Meta.CorrelationID
	}
	return e.ID.String()
}

func (b *Bus) reject(a *App, topic string, err error) {
	b.stats.rejected.Add(1)
	b.emit(TraceEvent{Kind: TraceRejected, At: b.Now(), App: a.name, Topic: topic, Reason: err.Error(), Err: err})
}

// Envelopes with small payloads are allocated together with a buffer for the payload copy:
// one allocation per publish instead of two, which matters on the hot path. The payload
// slice points into the same object, so both live and die together.
type (
	envelope64 struct {
		env Envelope
		buf [64]byte
	}
	envelope128 struct {
		env Envelope
		buf [128]byte
	}
	envelope256 struct {
		env Envelope
		buf [256]byte
	}
)

func newEnvelopeWithPayload(p json.RawMessage) *Envelope {
	switch n := len(p); {
	case n <= 64:
		e := &envelope64{}
		e.env.Payload = append(e.buf[:0:64], p...)
		return &e.env
	case n <= 128:
		e := &envelope128{}
		e.env.Payload = append(e.buf[:0:128], p...)
		return &e.env
	case n <= 256:
		e := &envelope256{}
		e.env.Payload = append(e.buf[:0:256], p...)
		return &e.env
	}
	return &Envelope{Payload: append(json.RawMessage(nil), p...)}
}

// fansOut reports whether a publish reaches every subscription of route at one latency,
// which it returns, so that its deliveries can wait in the queue as one fan-out entry: two
// or more subscriptions, none once-only, none filtering the envelope out, all of apps with
// the same latency.
func fansOut(route []*Subscription, env *Envelope) (int64, bool) {
	if len(route) < 2 {
		return 0, false
	}
	latency := route[0].app.latency.Load()
	for _, s := range route {
		if s.once || s.app.latency.Load() != latency || !s.accepts(env) {
			return 0, false
		}
	}
	return latency, true
}
