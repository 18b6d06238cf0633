package history

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/google/uuid"

	"mfelab/bus"
)

// Log is an exported log read into memory compactly, so that a log of millions of
// messages can be replayed: each message is packed into a few dozen bytes (a message of
// the load scenario into about 40), and expanded into a *bus.Envelope only when it is
// read. Strings that repeat, such as topics, apps, schema versions, correlation ids and
// header names, are held once. It keeps the file's order, and a LineError for each line
// that could not be read, as ImportResult does.
//
// A Log is filled by one goroutine (ReadLog) and read by any number once it is full.
type Log struct {
	arena  [][]byte // the packed messages, in chunks of logChunk bytes (a bigger one has a chunk of its own)
	offs   []uint64 // where message i starts: chunk<<32 | offset in the chunk
	strs   []string // interned strings; a string reference names one by its index
	strIdx map[string]uint32
	// named caches, per interned string, whether it was checked as a topic or app name
	// (the same rule) and as a schema version, and whether it passed
	named []uint8
	base  int64 // the first message's time, Unix nanoseconds: times are kept relative to it
	size  int64 // bytes of packed messages

	errs []LineError
	// scratch is reused to pack one message
	scratch []byte
}

const (
	// logChunk is the size of one chunk of packed messages.
	logChunk = 1 << 20
	// maxLogStrings bounds the strings a Log interns; past it (ids in correlation ids,
	// say) each is packed with its message.
	maxLogStrings = 1 << 16
)

// The bits of a packed message's flags byte: what it holds beyond the fields every
// message has.
const (
	packCause     = 1 << iota // a causation id follows
	packTrace                 // a trace context follows, in part:
	packTraceIsID             // its trace id is the message's own id
	packSpanIsID              // its span id is the second half of the message's id
	packFlags01               // its flags are 01 (sampled)
	packHeaders               // headers follow
	packTSText                // the time is not in UTC: its RFC 3339 text follows
)

// The bits of Log.named.
const (
	nameChecked = 1 << iota
	nameValid
	schemaChecked
	schemaValid
)

func newLog() *Log { return &Log{strIdx: map[string]uint32{}} }

// Len is how many messages the log holds.
func (l *Log) Len() int { return len(l.offs) }

// Errors are the lines that could not be read, in file order.
func (l *Log) Errors() []LineError { return l.errs }

// Size is the memory the packed messages take, in bytes, besides 8 bytes each of index.
func (l *Log) Size() int64 { return l.size }

// Envelope expands message i (0 <= i < Len()). Its Payload shares the log's memory and
// must not be changed; everything else is its own.
func (l *Log) Envelope(i int) *bus.Envelope {
	env := new(bus.Envelope)
	l.unpack(l.record(i), env)
	return env
}

// Envelopes expands messages from..to-1.
func (l *Log) Envelopes(from, to int) []*bus.Envelope {
	out := make([]*bus.Envelope, 0, max(to-from, 0))
	for i := from; i < to; i++ {
		out = append(out, l.Envelope(i))
	}
	return out
}

// record returns the packed bytes of message i, and what follows them in their chunk.
func (l *Log) record(i int) []byte {
	o := l.offs[i]
	return l.arena[o>>32][uint32(o):]
}

// intern returns the reference of s: interned while fewer than maxLogStrings are, else
// packed in place (ok false).
func (l *Log) intern(s []byte) (idx uint32, ok bool) {
	if i, ok := l.strIdx[string(s)]; ok {
		return i, true
	}
	if len(l.strs) >= maxLogStrings {
		return 0, false
	}
	i := uint32(len(l.strs))
	str := string(s)
	l.strs = append(l.strs, str)
	l.named = append(l.named, 0)
	l.strIdx[str] = i
	return i, true
}

// appendStr packs a string reference: 0 for "", 2k+1 for interned string k, 2n followed
// by the n bytes of a string packed in place.
func (l *Log) appendStr(dst, s []byte, intern bool) []byte {
	if len(s) == 0 {
		return append(dst, 0)
	}
	if intern {
		if i, ok := l.intern(s); ok {
			return binary.AppendUvarint(dst, uint64(i)<<1|1)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(s))<<1)
	return append(dst, s...)
}

// readStr reads a string reference packed by appendStr.
func (l *Log) readStr(b []byte) (string, []byte) {
	k, n := binary.Uvarint(b)
	b = b[n:]
	switch {
	case k == 0:
		return "", b
	case k&1 == 1:
		return l.strs[k>>1], b
	}
	size := int(k >> 1)
	return string(b[:size]), b[size:]
}

// packed is a message in the pieces add packs: what the fast NDJSON reader or an
// envelope gives, byte slices that need not outlive the call.
type packed struct {
	id, cause                   uuid.UUID
	topic, source, schema, corr []byte
	ts                          time.Time
	seq                         uint64
	payload                     []byte
	trace                       bus.TraceContext
	headerKeys, headerValues    []string // sorted by key
}

// addEnvelope packs env, which Import checked.
func (l *Log) addEnvelope(env *bus.Envelope) {
	p := packed{id: env.ID, cause: env.Meta.CausationID, topic: []byte(env.Topic), source: []byte(env.Meta.Source),
		schema: []byte(env.SchemaVersion), corr: []byte(env.Meta.CorrelationID), ts: env.TS, seq: env.Seq,
		payload: env.Payload, trace: env.Meta.TraceParent}
	if len(env.Meta.Headers) > 0 {
		for k := range env.Meta.Headers {
			p.headerKeys = append(p.headerKeys, k)
		}
		slices.Sort(p.headerKeys)
		for _, k := range p.headerKeys {
			p.headerValues = append(p.headerValues, env.Meta.Headers[k])
		}
	}
	l.add(&p)
}

// add packs p as the next message.
func (l *Log) add(p *packed) {
	if len(l.offs) == 0 {
		l.base = p.ts.UnixNano()
	}
	var flags byte
	if p.cause != (uuid.UUID{}) {
		flags |= packCause
	}
	tc := p.trace
	if !tc.IsZero() {
		flags |= packTrace
		if tc.TraceID == p.id {
			flags |= packTraceIsID
		}
		if [8]byte(p.id[8:]) == tc.SpanID {
			flags |= packSpanIsID
		}
		if tc.Flags == 1 {
			flags |= packFlags01
		}
	}
	if len(p.headerKeys) > 0 {
		flags |= packHeaders
	}
	if p.ts.Location() != time.UTC {
		flags |= packTSText
	}
	b := append(l.scratch[:0], flags)
	b = append(b, p.id[:]...)
	b = binary.AppendUvarint(b, p.seq)
	if flags&packTSText != 0 {
		b = l.appendStr(b, []byte(p.ts.Format(time.RFC3339Nano)), false)
	} else {
		b = binary.AppendVarint(b, p.ts.UnixNano()-l.base) // wraps, and unwraps on reading
	}
	b = l.appendStr(b, p.topic, true)
	b = l.appendStr(b, p.source, true)
	b = l.appendStr(b, p.schema, true)
	b = l.appendStr(b, p.corr, true)
	b = binary.AppendUvarint(b, uint64(len(p.payload)))
	b = append(b, p.payload...)
	if flags&packCause != 0 {
		b = append(b, p.cause[:]...)
	}
	if flags&packTrace != 0 {
		if flags&packTraceIsID == 0 {
			b = append(b, tc.TraceID[:]...)
		}
		if flags&packSpanIsID == 0 {
			b = append(b, tc.SpanID[:]...)
		}
		if flags&packFlags01 == 0 {
			b = append(b, tc.Flags)
		}
	}
	if flags&packHeaders != 0 {
		b = binary.AppendUvarint(b, uint64(len(p.headerKeys)))
		for i, k := range p.headerKeys {
			b = l.appendStr(b, []byte(k), true)
			b = l.appendStr(b, []byte(p.headerValues[i]), true)
		}
	}
	l.scratch = b
	l.put(b)
}

// put stores one packed message.
func (l *Log) put(b []byte) {
	last := len(l.arena) - 1
	if last < 0 || len(l.arena[last])+len(b) > cap(l.arena[last]) {
		l.arena = append(l.arena, make([]byte, 0, max(logChunk, len(b))))
		last++
	}
	l.offs = append(l.offs, uint64(last)<<32|uint64(len(l.arena[last])))
	l.arena[last] = append(l.arena[last], b...)
	l.size += int64(len(b))
}

// unpack expands the packed message b into env.
func (l *Log) unpack(b []byte, env *bus.Envelope) {
	flags := b[0]
	env.ID = uuid.UUID(b[1:17])
	b = b[17:]
	seq, n := binary.Uvarint(b)
	env.Seq, b = seq, b[n:]
	if flags&packTSText != 0 {
		var text string
		text, b = l.readStr(b)
		_ = env.TS.UnmarshalText([]byte(text)) // written by Format from a time that parsed
	} else {
		d, n := binary.Varint(b)
		env.TS, b = time.Unix(0, l.base+d).UTC(), b[n:]
	}
	env.Topic, b = l.readStr(b)
	env.Meta.Source, b = l.readStr(b)
	env.SchemaVersion, b = l.readStr(b)
	env.Meta.CorrelationID, b = l.readStr(b)
	size, n := binary.Uvarint(b)
	b = b[n:]
	env.Payload, b = b[:size:size], b[size:]
	if flags&packCause != 0 {
		env.Meta.CausationID, b = uuid.UUID(b[:16]), b[16:]
	}
	if flags&packTrace != 0 {
		tc := &env.Meta.TraceParent
		if flags&packTraceIsID != 0 {
			tc.TraceID = env.ID
		} else {
			tc.TraceID, b = [16]byte(b[:16]), b[16:]
		}
		if flags&packSpanIsID != 0 {
			tc.SpanID = [8]byte(env.ID[8:])
		} else {
			tc.SpanID, b = [8]byte(b[:8]), b[8:]
		}
		if flags&packFlags01 != 0 {
			tc.Flags = 1
		} else {
			tc.Flags, b = b[0], b[1:]
		}
	}
	if flags&packHeaders != 0 {
		count, n := binary.Uvarint(b)
		b = b[n:]
		env.Meta.Headers = make(map[string]string, count)
		for range count {
			var k, v string
			k, b = l.readStr(b)
			v, b = l.readStr(b)
			env.Meta.Headers[k] = v
		}
	}
}
