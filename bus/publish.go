package bus

import (
	"encoding/json"
	"errors"
	"maps"
	"time"
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
	// TraceParent continues an outside trace; inside the bus the trace is inherited.
	TraceParent TraceContext
	// Headers are copied into the envelope.
	Headers map[string]string
}

// Publish publishes payload to topic as this app.
func (a *App) Publish(topic string, payload any) (*Envelope, error) {
	return a.bus.publish(a, &Msg{Topic: topic, Payload: payload}, nil)
}

// Send publishes m as this app.
func (a *App) Send(m Msg) (*Envelope, error) {
	return a.bus.publish(a, &m, nil)
}

var jsonNull = json.RawMessage("null")

func encodePayload(p any) (json.RawMessage, error) {
	switch v := p.(type) {
	case nil:
		return jsonNull, nil
	case json.RawMessage:
		if !validJSON(v) {
			return nil, errors.New("raw message is not one well-formed JSON value")
		}
		return append(json.RawMessage(nil), v...), nil
	}
	out, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// publish is the one path every message takes. cause is the envelope whose delivery is being
// handled when a handler publishes, nil otherwise.
func (b *Bus) publish(a *App, m *Msg, cause *Envelope) (*Envelope, error) {
	if err := ValidateTopic(m.Topic); err != nil {
		b.reject(a, m.Topic, err)
		return nil, err
	}
	if !a.mayPublish(m.Topic) {
		err := &ACLError{App: a.name, Topic: m.Topic, Action: "publish", Allowed: a.pub}
		b.reject(a, m.Topic, err)
		return nil, err
	}
	payload, err := encodePayload(m.Payload)
	if err != nil {
		err = &PayloadError{Topic: m.Topic, Err: err}
		b.reject(a, m.Topic, err)
		return nil, err
	}
	warning, err := b.contracts.check(m.SchemaVersion, payload)
	if err != nil {
		b.reject(a, m.Topic, err)
		return nil, err
	}

	env := &Envelope{
		Topic:         m.Topic,
		Payload:       payload,
		SchemaVersion: m.SchemaVersion,
		Meta: Meta{
			Source:        a.name,
			CorrelationID: m.CorrelationID,
			TraceParent:   m.TraceParent,
		},
	}
	if m.Headers != nil {
		env.Meta.Headers = maps.Clone(m.Headers)
	}
	if cause != nil {
		env.Meta.CausationID = cause.ID
		if env.Meta.CorrelationID == "" {
			env.Meta.CorrelationID = cause.Correlation()
		}
		if env.Meta.TraceParent.IsZero() {
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
	env.ID = b.ids.next(env.TS)
	if env.Meta.TraceParent.TraceID == [16]byte{} {
		env.Meta.TraceParent.TraceID = env.ID
	}
	copy(env.Meta.TraceParent.SpanID[:], env.ID[8:])
	env.Meta.TraceParent.Flags = 1

	tc := b.topicCounterLocked(m.Topic)
	tc.published.Add(1)
	b.scratch = b.trie.match(m.Topic, b.scratch[:0])
	for _, s := range b.scratch {
		if !s.accepts(env) {
			continue
		}
		if s.once {
			b.trie.remove(s) // at most one delivery, even if more publishes race in
		}
		b.queue.push(event{at: now + s.app.latency.Load(), kind: evDelivery, env: env, sub: s, tc: tc, attempt: 1})
	}
	clear(b.scratch) // do not pin subscriptions from a scratch buffer
	b.ring.add(env, now, b.opts.RetainTTL)
	b.stats.published.Add(1)
	a.published.Add(1)
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
