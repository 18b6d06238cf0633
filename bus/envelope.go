package bus

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Envelope is one published message exactly as the bus recorded it. The bus never changes
// an envelope after Publish returns it, and neither may anyone else: handlers, taps and
// stores all share the same pointer. A consumer that needs a different shape (an upcast
// payload) receives a new envelope with the same ID.
type Envelope struct {
	// ID is a UUIDv7: milliseconds of the bus clock plus bits from the bus's seeded
	// generator, so IDs sort by time and a simulated run reproduces them exactly.
	ID    uuid.UUID `json:"id"`
	Topic string    `json:"topic"`
	// TS is the bus clock when the message was published.
	TS time.Time `json:"ts"`
	// Seq numbers publishes bus-wide, from 1, without gaps: a rejected publish takes none.
	Seq uint64 `json:"seq"`
	// Payload is compact-or-as-given, always valid JSON.
	Payload json.RawMessage `json:"payload"`
	// SchemaVersion names the contract the payload follows, as "name@N"; empty if none.
	SchemaVersion string `json:"schemaVersion,omitempty"`
	Meta          Meta   `json:"meta"`
}

// Meta is the envelope's routing and causality metadata.
type Meta struct {
	// Source is the app that published the message.
	Source string `json:"source"`
	// CorrelationID groups every message of one conversation (an order, a saga). Messages
	// published from a handler inherit it from the delivery that caused them.
	CorrelationID string `json:"correlationId,omitempty"`
	// CausationID is the ID of the message whose delivery caused this publish; zero for
	// messages that start a chain.
	CausationID uuid.UUID `json:"causationId,omitzero"`
	// TraceParent is the W3C trace context: the trace is inherited along a causal chain,
	// the span is this message.
	TraceParent TraceContext `json:"traceparent,omitzero"`
	// Headers are free string headers; nil when there are none.
	Headers map[string]string `json:"headers,omitempty"`
}

// IsCausedBy reports whether the envelope was published while handling parent.
func (e *Envelope) IsCausedBy(parent *Envelope) bool {
	return parent != nil && e.Meta.CausationID == parent.ID
}

// String is a one-line summary for logs and test failures.
func (e *Envelope) String() string {
	return fmt.Sprintf("#%d %s from %s", e.Seq, e.Topic, e.Meta.Source)
}

// TraceContext is a W3C traceparent (version 00). It is a value, not a string, so that
// publishing does not allocate one; it marshals to and from the standard text form.
type TraceContext struct {
	TraceID [16]byte
	SpanID  [8]byte
	Flags   byte
}

// IsZero reports whether no trace context is set.
func (tc TraceContext) IsZero() bool { return tc == TraceContext{} }

// String renders "00-<trace-id>-<span-id>-<flags>".
func (tc TraceContext) String() string {
	b, _ := tc.MarshalText()
	return string(b)
}

// MarshalText implements encoding.TextMarshaler.
func (tc TraceContext) MarshalText() ([]byte, error) {
	out := make([]byte, 55)
	copy(out, "00-")
	hex.Encode(out[3:35], tc.TraceID[:])
	out[35] = '-'
	hex.Encode(out[36:52], tc.SpanID[:])
	out[52] = '-'
	hex.Encode(out[53:55], []byte{tc.Flags})
	return out, nil
}

// UnmarshalText implements encoding.TextUnmarshaler; it accepts version 00 only.
func (tc *TraceContext) UnmarshalText(b []byte) error {
	parsed, err := ParseTraceParent(string(b))
	if err != nil {
		return err
	}
	*tc = parsed
	return nil
}

// ParseTraceParent parses a W3C traceparent header value.
func ParseTraceParent(s string) (TraceContext, error) {
	var tc TraceContext
	if len(s) != 55 || s[:3] != "00-" || s[35] != '-' || s[52] != '-' {
		return tc, fmt.Errorf("traceparent %q: want 00-<32 hex>-<16 hex>-<2 hex>", s)
	}
	if _, err := hex.Decode(tc.TraceID[:], []byte(s[3:35])); err != nil {
		return tc, fmt.Errorf("traceparent %q: trace id: %w", s, err)
	}
	if _, err := hex.Decode(tc.SpanID[:], []byte(s[36:52])); err != nil {
		return tc, fmt.Errorf("traceparent %q: span id: %w", s, err)
	}
	var f [1]byte
	if _, err := hex.Decode(f[:], []byte(s[53:55])); err != nil {
		return tc, fmt.Errorf("traceparent %q: flags: %w", s, err)
	}
	tc.Flags = f[0]
	if tc.TraceID == [16]byte{} || tc.SpanID == [8]byte{} {
		return tc, fmt.Errorf("traceparent %q: all-zero ids are invalid", s)
	}
	return tc, nil
}
