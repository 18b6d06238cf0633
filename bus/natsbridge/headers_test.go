package natsbridge

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"mfelab/bus"
)

func TestHeadersRoundTrip(t *testing.T) {
	b := bus.New(bus.Options{Seed: 3})
	app := b.MustRegister(bus.AppConfig{Name: "cart"})
	cause := uuid.MustParse("0190c4a2-0000-7000-8000-0000000000bb")
	tests := []struct {
		name string
		msg  bus.Msg
	}{
		{"a bare message", bus.Msg{Topic: "cart.added"}},
		{"a correlation with line breaks, quotes and spaces at its ends", bus.Msg{Topic: "cart.added", CorrelationID: " \"order\"\r\n7\t"}},
		{"a correlation that only starts with a quote", bus.Msg{Topic: "cart.added", CorrelationID: `"quoted`}},
		{"a message with every field set", bus.Msg{Topic: "cart.added", Payload: json.RawMessage(`[1]`), SchemaVersion: "cart.added@3",
			CorrelationID: "c-1", CausationID: cause, Headers: map[string]string{"a": "1", "key: with colon": "value\r\nwith break"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := app.Send(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			h := nats.Header{"Stale": {"from the message before"}}
			var enc headerEncoder
			if err := enc.encode(h, "bus-1", env, 9); err != nil {
				t.Fatal(err)
			}
			if _, stale := h["Stale"]; stale {
				t.Error("a header of the message before is still there")
			}
			in, err := decodeHeaders(h, env.Topic, env.Payload)
			if err != nil {
				t.Fatal(err)
			}
			m := in.msg
			if in.bus != "bus-1" || in.id != env.ID || in.source != "cart" || in.subjectSeq != 9 || m.CorrelationID != env.Meta.CorrelationID ||
				m.CausationID != env.Meta.CausationID || m.TraceParent != env.Meta.TraceParent || m.SchemaVersion != env.SchemaVersion {
				t.Errorf("decoded %+v from %+v", in, env)
			}
			for k, v := range env.Meta.Headers {
				if m.Headers[k] != v {
					t.Errorf("header %q = %q, want %q", k, m.Headers[k], v)
				}
			}
			imported := &bus.Envelope{Meta: bus.Meta{Headers: m.Headers}}
			if o, ok := OriginOf(imported); !ok || o.Bridge != "bus-1" || o.Seq != env.Seq || !o.Time.Equal(env.TS) {
				t.Errorf("origin %+v (%v) from headers %v", o, ok, m.Headers)
			}
		})
	}
}

func TestMalformedHeadersAreRefused(t *testing.T) {
	const origin = "b 1 1 2026-01-01T00:00:00Z 0190c4a2-0000-7000-8000-0000000000bb cart -"
	good := func() nats.Header { return nats.Header{HeaderOrigin: {origin}} }
	tests := []struct {
		name   string
		header string
		value  string
	}{
		{"an origin with fields missing", HeaderOrigin, "b 1 1 2026-01-01T00:00:00Z 0190c4a2-0000-7000-8000-0000000000bb cart"},
		{"an origin with a field too many", HeaderOrigin, origin + " x"},
		{"an origin with an empty field", HeaderOrigin, "b  1 2026-01-01T00:00:00Z 0190c4a2-0000-7000-8000-0000000000bb cart -"},
		{"an origin whose seq is not a number", HeaderOrigin, "b x 1 2026-01-01T00:00:00Z 0190c4a2-0000-7000-8000-0000000000bb cart -"},
		{"an origin whose subject count is not a number", HeaderOrigin, "b 1 -1 2026-01-01T00:00:00Z 0190c4a2-0000-7000-8000-0000000000bb cart -"},
		{"an origin whose id is not a UUID", HeaderOrigin, "b 1 1 2026-01-01T00:00:00Z 42 cart -"},
		{"an origin whose traceparent is of the wrong form", HeaderOrigin, "b 1 1 2026-01-01T00:00:00Z 0190c4a2-0000-7000-8000-0000000000bb cart 00-xyz"},
		{"a causation that is not a UUID", HeaderCausation, "x"},
		{"a free-headers value that is not a JSON object", HeaderHeaders, "[1]"},
		{"a quoted correlation that does not unquote", HeaderCorrelation, `"open`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			h := good()
			h[tt.header] = []string{tt.value}
			_, err := decodeHeaders(h, "cart.added", nil)
			var he *HeaderError
			if !errors.As(err, &he) || he.Header != tt.header || !errors.Is(err, ErrBadHeader) {
				t.Errorf("error %v, want a HeaderError for %s", err, tt.header)
			}
		})
	}
}

func TestOriginOf(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		ok      bool
	}{
		{"an envelope published here has no origin", nil, false},
		{"a well-formed origin is read", map[string]string{OriginHeader: "b1 7 2026-01-01T00:00:00.5Z"}, true},
		{"an origin without its time is not", map[string]string{OriginHeader: "b1 7"}, false},
		{"an origin whose seq is not a number is not", map[string]string{OriginHeader: "b1 x 2026-01-01T00:00:00Z"}, false},
		{"an origin whose time is malformed is not", map[string]string{OriginHeader: "b1 7 yesterday"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := OriginOf(&bus.Envelope{Meta: bus.Meta{Headers: tt.headers}}); ok != tt.ok {
				t.Errorf("ok = %v, want %v", ok, tt.ok)
			}
		})
	}
}
