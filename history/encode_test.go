package history

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"mfelab/bus"
)

// FuzzAppendEnvelope holds the writer's encoder to encoding/json, byte for byte: stored
// envelopes are exported as they are, so they must be exactly what json.Marshal writes.
func FuzzAppendEnvelope(f *testing.F) {
	f.Add("cart.item-added", "cart", "", "", "", "", []byte(`{"sku":"A-1","qty":2}`), int64(1_700_000_000), int64(123_456_789), 0, uint64(7), []byte("0123456789abcdef0123456789abcdef"), byte(1))
	f.Add("ui.note", "host", "order-1", "ui.note@2", "z", "<b>&</b>", []byte(` { "html" : "<i>" } `), int64(0), int64(0), 3600, uint64(1), []byte{}, byte(0))
	f.Add("a", "naïve ✓\u2028", "\x00\x1f\"\\", "x@1", "k\xff", "v\t\n\r\b\f", []byte(`"\u2029 ✓"`), int64(-62167219201), int64(5), -19800, uint64(0), []byte("\xff\xfe"), byte(255))
	f.Add("b", "s", "", "", "", "", []byte(``), int64(253402300800), int64(0), 0, uint64(1), []byte{}, byte(0))
	f.Fuzz(func(t *testing.T, topic, source, corr, schema, hk, hv string, payload []byte, sec, nsec int64, offset int, seq uint64, ids []byte, flags byte) {
		if len(payload) > 0 && !json.Valid(payload) {
			return // the bus and Import only ever store valid payloads
		}
		var id, cause uuid.UUID
		var tc bus.TraceContext
		copy(id[:], ids)
		if len(ids) > 16 {
			copy(cause[:], ids[16:])
			copy(tc.TraceID[:], ids[8:])
			copy(tc.SpanID[:], ids)
			tc.Flags = flags
		}
		env := &bus.Envelope{
			ID: id, Topic: topic, Seq: seq, Payload: payload, SchemaVersion: schema,
			TS:   time.Unix(sec, nsec).In(time.FixedZone("z", offset%(30*3600))),
			Meta: bus.Meta{Source: source, CorrelationID: corr, CausationID: cause, TraceParent: tc},
		}
		if hk != "" || hv != "" {
			env.Meta.Headers = map[string]string{hk: hv, hv + "2": hk}
		}
		want, werr := json.Marshal(env)
		got, gerr := appendEnvelope([]byte("prefix"), env)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("encoding/json says %v, appendEnvelope says %v", werr, gerr)
		}
		if werr == nil && !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("appendEnvelope wrote\n%s\nencoding/json writes\n%s", got, want)
		}
	})
}

// FuzzPlainJSON: whatever plainJSON passes as is must be what encoding/json writes for it.
func FuzzPlainJSON(f *testing.F) {
	for _, s := range []string{`{"a":"b c"}`, `{"a" :1}`, `["x\" y",1]`, `"\\"`, `"a\\" ,"`, `[1, 2]`,
		`{"t":"<tag>"}`, `"\u003c"`, "\"\u2028\"", "\"\u2027\u202a ✓\"", `{"a":{"b":[true,false,null]}}`, "\"\xff\"",
		` 1`, `1 `, "\"tab\\there\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if !json.Valid(p) || !plainJSON(p) {
			return
		}
		out, err := json.Marshal(json.RawMessage(p))
		if err != nil || !bytes.Equal(out, p) {
			t.Fatalf("plainJSON passed %q, but encoding/json writes %q (%v)", p, out, err)
		}
	})
}
