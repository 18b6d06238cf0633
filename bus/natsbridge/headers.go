package natsbridge

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"mfelab/bus"
)

// NATS headers that carry an envelope across. A message without HeaderOrigin did not come
// from a bridge: it is imported as published by the app ForeignApp.
//
// The trace context travels in HeaderOrigin, not under the W3C name `traceparent`:
// nats-server reads a sampled `traceparent` as a request to trace the message through the
// server, and parses every such message's headers to look for where to send the trace.
const (
	// HeaderOrigin is the envelope's identity and where it was first published, as seven
	// fields separated by spaces (one header line, which is cheaper for client and server
	// to read than seven):
	//
	//	<bridge id> <Seq> <subject count> <TS, RFC 3339> <ID> <source app> <traceparent or ->
	//
	// The bridge id names the sending bridge (one per joined bus); the subject count is its
	// count of messages on this subject (0 when it does not count them).
	HeaderOrigin      = "Mfelab-Origin"
	HeaderCorrelation = "Mfelab-Correlation" // CorrelationID
	HeaderCausation   = "Mfelab-Causation"   // CausationID
	HeaderSchema      = "Mfelab-Schema"      // SchemaVersion
	HeaderHeaders     = "Mfelab-Headers"     // the free headers, as one JSON object
)

// OriginHeader is the free header the bridge adds to an imported envelope, beside those
// it came with, to say where it was first published: "<bridge id> <Seq> <TS, RFC 3339>",
// the sending bridge, the envelope's Seq on its own bus and its time there. OriginOf
// reads it.
const OriginHeader = "origin"

// Origin is where an imported envelope was first published.
type Origin struct {
	Bridge string    // the sending bridge's id (Bridge.ID), one per joined bus
	Seq    uint64    // the envelope's Seq on that bus
	Time   time.Time // the envelope's TS on that bus
}

// OriginOf reads where env was first published, from its OriginHeader; ok is false for
// an envelope published on this bus, or brought in from a client other than a bridge.
func OriginOf(env *bus.Envelope) (o Origin, ok bool) {
	if env == nil {
		return o, false
	}
	v := env.Meta.Headers[OriginHeader]
	id, rest, ok1 := strings.Cut(v, " ")
	seq, ts, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || id == "" {
		return o, false
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return o, false
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return o, false
	}
	return Origin{Bridge: id, Seq: n, Time: t}, true
}

// ForeignApp is the remote app that publishes, on a joined bus, the messages that arrive
// from NATS clients other than a bridge (a `nats pub`, a service).
const ForeignApp = "nats"

// maxHeaders is how many headers a headerEncoder writes at most.
const maxHeaders = 5

// headerEncoder writes envelopes' identities into NATS headers. It runs for every message
// forwarded and is reused from one to the next, so that a forward allocates nothing of
// its own: its values are slices of one buffer, which the next encode overwrites. That is
// safe because the client has copied the headers out by the time a publish returns, and
// nothing else reads them; an encoder is for one goroutine at a time (the bus loop's).
type headerEncoder struct {
	buf  []byte
	vals [maxHeaders]string
}

// encode writes env's identity into h, which it clears first. subjectSeq is 0 when the
// sender does not number the subject. The values h holds stay valid until the next
// encode.
func (e *headerEncoder) encode(h nats.Header, busID string, env *bus.Envelope, subjectSeq uint64) error {
	buf := e.buf[:0]
	var cut [2 * maxHeaders]int // value i is buf[cut[2i]:cut[2i+1]]
	n := 0
	mark := func() { cut[n] = len(buf); n++ }

	mark()
	buf = append(buf, busID...)
	buf = append(buf, ' ')
	buf = strconv.AppendUint(buf, env.Seq, 10)
	buf = append(buf, ' ')
	buf = strconv.AppendUint(buf, subjectSeq, 10)
	buf = append(buf, ' ')
	buf = env.TS.AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, ' ')
	buf = appendUUID(buf, env.ID)
	buf = append(buf, ' ')
	buf = append(buf, env.Meta.Source...)
	buf = append(buf, ' ')
	if env.Meta.TraceParent.IsZero() {
		buf = append(buf, '-')
	} else {
		buf = appendTraceParent(buf, env.Meta.TraceParent)
	}
	mark()
	keys := [maxHeaders]string{HeaderOrigin}
	k := 1
	if env.Meta.CorrelationID != "" {
		mark()
		buf = appendValue(buf, env.Meta.CorrelationID)
		mark()
		keys[k] = HeaderCorrelation
		k++
	}
	if env.Meta.CausationID != (uuid.UUID{}) {
		mark()
		buf = appendUUID(buf, env.Meta.CausationID)
		mark()
		keys[k] = HeaderCausation
		k++
	}
	if env.SchemaVersion != "" {
		mark()
		buf = appendValue(buf, env.SchemaVersion)
		mark()
		keys[k] = HeaderSchema
		k++
	}
	if len(env.Meta.Headers) > 0 {
		// One JSON header keeps any key and value intact, where NATS header lines could not
		// hold a key with a colon or a value with a line break.
		js, err := json.Marshal(env.Meta.Headers)
		if err != nil {
			return fmt.Errorf("headers of %s: %w", env, err)
		}
		mark()
		buf = append(buf, js...)
		mark()
		keys[k] = HeaderHeaders
		k++
	}
	e.buf = buf // keep what it grew to for the next message
	clear(h)
	if len(buf) == 0 {
		return nil // cannot happen (the origin header is never empty); keeps the slice below safe
	}
	all := unsafe.String(&buf[0], len(buf))
	for i := range k {
		e.vals[i] = all[cut[2*i]:cut[2*i+1]]
		h[keys[i]] = e.vals[i : i+1 : i+1]
	}
	return nil
}

// appendValue appends a free string as a header value that arrives as it was sent. The
// client trims spaces and tabs at either end of a value and turns line breaks into spaces,
// so a value with those, or any control character, or a leading quote, goes quoted (Go
// syntax); readValue undoes it.
func appendValue(buf []byte, v string) []byte {
	quote := v[0] == '"' || v[0] == ' ' || v[0] == '\t' || v[len(v)-1] == ' ' || v[len(v)-1] == '\t'
	for i := 0; i < len(v) && !quote; i++ {
		quote = v[i] < 0x20 || v[i] == 0x7f
	}
	if quote {
		return strconv.AppendQuote(buf, v)
	}
	return append(buf, v...)
}

// readValue reads a value written by appendValue.
func readValue(v string) (string, error) {
	if v == "" || v[0] != '"' {
		return v, nil
	}
	return strconv.Unquote(v)
}

// appendTraceParent appends tc as bus.TraceContext.String does, without allocating.
func appendTraceParent(buf []byte, tc bus.TraceContext) []byte {
	var text [55]byte
	copy(text[:], "00-")
	hex.Encode(text[3:35], tc.TraceID[:])
	text[35] = '-'
	hex.Encode(text[36:52], tc.SpanID[:])
	text[52] = '-'
	hex.Encode(text[53:], []byte{tc.Flags})
	return append(buf, text[:]...)
}

// appendUUID appends u in its canonical text form without allocating.
func appendUUID(buf []byte, u uuid.UUID) []byte {
	var text [36]byte
	hex.Encode(text[0:8], u[0:4])
	text[8] = '-'
	hex.Encode(text[9:13], u[4:6])
	text[13] = '-'
	hex.Encode(text[14:18], u[6:8])
	text[18] = '-'
	hex.Encode(text[19:23], u[8:10])
	text[23] = '-'
	hex.Encode(text[24:], u[10:])
	return append(buf, text[:]...)
}

// incoming is a remote message decoded from its NATS headers.
type incoming struct {
	bus        string // "" for a message that did not come from a bridge
	id         uuid.UUID
	source     string
	subjectSeq uint64
	msg        bus.Msg
}

// decodeHeaders reads what encodeHeaders wrote. A header that is present but malformed is
// an error: the message is refused rather than imported with part of its identity lost.
func decodeHeaders(h nats.Header, topic string, payload []byte) (incoming, error) {
	in := incoming{msg: bus.Msg{Topic: topic, Payload: json.RawMessage(payload)}}
	if len(payload) == 0 {
		in.msg.Payload = json.RawMessage("null")
	}
	origin := h.Get(HeaderOrigin)
	if origin == "" {
		in.source = ForeignApp
		return in, nil
	}
	bad := func(name string, e error) (incoming, error) {
		return incoming{}, &HeaderError{Header: name, Value: h.Get(name), Err: e}
	}
	var f [7]string
	rest := origin
	for i := range f {
		var ok bool
		if f[i], rest, ok = strings.Cut(rest, " "); f[i] == "" || ok != (i < len(f)-1) {
			return bad(HeaderOrigin, errors.New("want: bridge-id seq subject-count time id source traceparent"))
		}
	}
	in.bus = f[0]
	var err error
	if _, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return bad(HeaderOrigin, fmt.Errorf("seq: %w", err))
	}
	if in.subjectSeq, err = strconv.ParseUint(f[2], 10, 64); err != nil {
		return bad(HeaderOrigin, fmt.Errorf("subject count: %w", err))
	}
	if in.id, err = uuid.Parse(f[4]); err != nil {
		return bad(HeaderOrigin, fmt.Errorf("id: %w", err))
	}
	in.source = f[5]
	if f[6] != "-" {
		if in.msg.TraceParent, err = bus.ParseTraceParent(f[6]); err != nil {
			return bad(HeaderOrigin, fmt.Errorf("traceparent: %w", err))
		}
	}
	if in.msg.CorrelationID, err = readValue(h.Get(HeaderCorrelation)); err != nil {
		return bad(HeaderCorrelation, err)
	}
	if v := h.Get(HeaderCausation); v != "" {
		if in.msg.CausationID, err = uuid.Parse(v); err != nil {
			return bad(HeaderCausation, err)
		}
	}
	if in.msg.SchemaVersion, err = readValue(h.Get(HeaderSchema)); err != nil {
		return bad(HeaderSchema, err)
	}
	headers := make(map[string]string, 1)
	if v := h.Get(HeaderHeaders); v != "" {
		if err := json.Unmarshal([]byte(v), &headers); err != nil {
			return bad(HeaderHeaders, err)
		}
	}
	headers[OriginHeader] = in.bus + " " + f[1] + " " + f[3]
	in.msg.Headers = headers
	return in, nil
}
