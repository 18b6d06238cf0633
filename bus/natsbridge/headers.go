package natsbridge

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"mfelab/bus"
)

// NATS headers that carry an envelope across. A message without HeaderBus did not come
// from a bridge: it is imported as published by the app ForeignApp.
const (
	HeaderBus         = "Mfelab-Bus"         // the bridge (one per joined bus) that sent it
	HeaderID          = "Mfelab-Id"          // envelope ID
	HeaderSeq         = "Mfelab-Seq"         // envelope Seq on its own bus
	HeaderTime        = "Mfelab-Time"        // envelope TS on its own bus, RFC 3339
	HeaderSource      = "Mfelab-Source"      // the publishing app
	HeaderCorrelation = "Mfelab-Correlation" // CorrelationID
	HeaderCausation   = "Mfelab-Causation"   // CausationID
	HeaderSchema      = "Mfelab-Schema"      // SchemaVersion
	HeaderHeaders     = "Mfelab-Headers"     // the free headers, as one JSON object
	HeaderSubjectSeq  = "Mfelab-Subject-Seq" // the sender's count of messages on this subject
	HeaderTraceParent = "traceparent"        // W3C trace context, under its standard name
)

// Free headers the bridge adds to an imported envelope, beside those it came with, so
// that the local envelope says where it was first published.
const (
	OriginBus  = "origin-bus"  // the HeaderBus it came with
	OriginSeq  = "origin-seq"  // its Seq on its own bus
	OriginTime = "origin-time" // its TS on its own bus, RFC 3339
)

// ForeignApp is the remote app that publishes, on a joined bus, the messages that arrive
// from NATS clients other than a bridge (a `nats pub`, a service).
const ForeignApp = "nats"

// encodeHeaders writes env's identity into NATS headers. subjectSeq is 0 when the sender
// does not number the subject.
func encodeHeaders(busID string, env *bus.Envelope, subjectSeq uint64) (nats.Header, error) {
	h := make(nats.Header, 11)
	h[HeaderBus] = []string{busID}
	h[HeaderID] = []string{env.ID.String()}
	h[HeaderSeq] = []string{strconv.FormatUint(env.Seq, 10)}
	h[HeaderTime] = []string{env.TS.Format(time.RFC3339Nano)}
	h[HeaderSource] = []string{env.Meta.Source}
	if subjectSeq > 0 {
		h[HeaderSubjectSeq] = []string{strconv.FormatUint(subjectSeq, 10)}
	}
	if env.Meta.CorrelationID != "" {
		h[HeaderCorrelation] = []string{env.Meta.CorrelationID}
	}
	if env.Meta.CausationID != (uuid.UUID{}) {
		h[HeaderCausation] = []string{env.Meta.CausationID.String()}
	}
	if !env.Meta.TraceParent.IsZero() {
		h[HeaderTraceParent] = []string{env.Meta.TraceParent.String()}
	}
	if env.SchemaVersion != "" {
		h[HeaderSchema] = []string{env.SchemaVersion}
	}
	if len(env.Meta.Headers) > 0 {
		// One JSON header keeps any key and value intact, where NATS header lines could not
		// hold a key with a colon or a value with a line break.
		js, err := json.Marshal(env.Meta.Headers)
		if err != nil {
			return nil, fmt.Errorf("headers of %s: %w", env, err)
		}
		h[HeaderHeaders] = []string{string(js)}
	}
	return h, nil
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
	in.bus = h.Get(HeaderBus)
	if in.bus == "" {
		in.source = ForeignApp
		return in, nil
	}
	var err error
	bad := func(name string, e error) (incoming, error) {
		return incoming{}, &HeaderError{Header: name, Value: h.Get(name), Err: e}
	}
	if in.id, err = uuid.Parse(h.Get(HeaderID)); err != nil {
		return bad(HeaderID, err)
	}
	if in.source = h.Get(HeaderSource); in.source == "" {
		return bad(HeaderSource, fmt.Errorf("missing"))
	}
	if v := h.Get(HeaderSubjectSeq); v != "" {
		if in.subjectSeq, err = strconv.ParseUint(v, 10, 64); err != nil {
			return bad(HeaderSubjectSeq, err)
		}
	}
	in.msg.CorrelationID = h.Get(HeaderCorrelation)
	if v := h.Get(HeaderCausation); v != "" {
		if in.msg.CausationID, err = uuid.Parse(v); err != nil {
			return bad(HeaderCausation, err)
		}
	}
	if v := h.Get(HeaderTraceParent); v != "" {
		if in.msg.TraceParent, err = bus.ParseTraceParent(v); err != nil {
			return bad(HeaderTraceParent, err)
		}
	}
	in.msg.SchemaVersion = h.Get(HeaderSchema)
	headers := map[string]string{}
	if v := h.Get(HeaderHeaders); v != "" {
		if err := json.Unmarshal([]byte(v), &headers); err != nil {
			return bad(HeaderHeaders, err)
		}
	}
	headers[OriginBus] = in.bus
	if v := h.Get(HeaderSeq); v != "" {
		headers[OriginSeq] = v
	}
	if v := h.Get(HeaderTime); v != "" {
		headers[OriginTime] = v
	}
	in.msg.Headers = headers
	return in, nil
}
