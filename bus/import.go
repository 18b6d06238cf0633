package bus

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// ErrNoID is returned by Import for a message without the ID it was given where it was
// first published.
var ErrNoID = errors.New("imported message has no ID")

// Import publishes, as this app, a message first published somewhere else (on a bus in
// another process, brought over by a bridge), keeping the identity it was given there:
// id becomes the envelope's ID, and m's CorrelationID, CausationID, TraceParent (span and
// flags included), SchemaVersion and Headers are kept as given, with nothing inherited.
//
// The message is checked like any publish (topic, ACL, payload, contract, rate limit) and
// traced as published by this app. It takes this bus's next Seq and the bus time as TS, so
// Seq stays bus-wide and gap-free; where the message came from, and its number there, is
// for the caller to keep in its headers. Because the ID was made by another clock, IDs on
// a bus that imports are no longer in time order; they remain unique as long as the
// other buses' IDs are (give each bus its own Options.IDSalt).
//
// Like PublishJSON, Import takes over what it is given rather than copy it: a
// json.RawMessage payload and the Headers map become the envelope's own, and the caller
// must not change them afterwards.
//
// A zero id is an error (ErrNoID): a message that never had an identity is published with
// Send instead.
func (a *App) Import(id uuid.UUID, m Msg) (*Envelope, error) {
	if id == (uuid.UUID{}) {
		err := fmt.Errorf("import %q as %q: %w", m.Topic, a.name, ErrNoID)
		a.bus.reject(a, m.Topic, err)
		return nil, err
	}
	m.id = id
	if raw, ok := m.Payload.(json.RawMessage); ok {
		return a.bus.publishEncoded(a, &m, raw, payloadHandedOver, nil)
	}
	return a.bus.publish(a, &m, nil)
}

// importTraceLocked sets an imported envelope's ID and trace context: the one it came with
// when it has one, else a trace of its own as a fresh publish would start. Caller holds mu.
func importTraceLocked(env *Envelope, m *Msg) {
	env.ID = m.id
	if m.TraceParent.TraceID != ([16]byte{}) && m.TraceParent.SpanID != ([8]byte{}) {
		env.Meta.TraceParent = m.TraceParent
		return
	}
	if env.Meta.TraceParent.TraceID == [16]byte{} {
		env.Meta.TraceParent.TraceID = env.ID
	}
	copy(env.Meta.TraceParent.SpanID[:], env.ID[8:])
	env.Meta.TraceParent.Flags = 1
}

// RecordRejection records on the trace that something beyond the bus refused or lost a
// message of this app: a NATS server refusing a publish the app's permissions do not
// allow, say, or a bridge dropping messages it could not pass on. It emits a
// TraceRejected event naming this app, topic and the reason, with env when the message
// is known, and counts it in Stats.Rejected. The message, if it was published here, stays
// published: this is a diagnostic about what happened to it elsewhere, and it follows the
// message's own Published event.
func (a *App) RecordRejection(env *Envelope, topic string, err error) {
	if err == nil {
		return
	}
	b := a.bus
	b.stats.rejected.Add(1)
	b.emit(TraceEvent{Kind: TraceRejected, At: b.Now(), Env: env, App: a.name, Topic: topic, Reason: err.Error(), Err: err})
}
