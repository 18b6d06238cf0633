package natsbridge

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

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
		{"a message with every field set", bus.Msg{Topic: "cart.added", Payload: json.RawMessage(`[1]`), SchemaVersion: "cart.added@3",
			CorrelationID: "c-1", CausationID: cause, Headers: map[string]string{"a": "1", "key: with colon": "value\r\nwith break"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := app.Send(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			h, err := encodeHeaders("bus-1", env, 9)
			if err != nil {
				t.Fatal(err)
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
			if m.Headers[OriginTime] != env.TS.Format(time.RFC3339Nano) || m.Headers[OriginBus] != "bus-1" {
				t.Errorf("origin headers %v", m.Headers)
			}
		})
	}
}

func TestMalformedHeadersAreRefused(t *testing.T) {
	good := func() nats.Header {
		return nats.Header{HeaderBus: {"b"}, HeaderID: {"0190c4a2-0000-7000-8000-0000000000bb"}, HeaderSource: {"cart"}}
	}
	tests := []struct {
		name   string
		header string
		value  string
	}{
		{"an id that is not a UUID", HeaderID, "42"},
		{"a missing source", HeaderSource, ""},
		{"a causation that is not a UUID", HeaderCausation, "x"},
		{"a traceparent of the wrong form", HeaderTraceParent, "00-xyz"},
		{"a subject number that is not a number", HeaderSubjectSeq, "-1"},
		{"free headers that are not a JSON object", HeaderHeaders, "[1]"},
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
