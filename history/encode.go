package history

import (
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/google/uuid"

	"mfelab/bus"
)

// appendEnvelope appends env's JSON to dst: byte for byte what json.Marshal(env) gives
// (FuzzAppendEnvelope holds it to that), several times faster, because every stored
// message is encoded on the writer's one goroutine. env.Payload must be valid JSON, as the
// bus and Import guarantee. Anything unusual, a timestamp encoding/json refuses or a
// payload that is not compact, goes through encoding/json.
func appendEnvelope(dst []byte, env *bus.Envelope) ([]byte, error) {
	start := len(dst)
	dst = append(dst, `{"id":`...)
	dst = appendUUID(dst, env.ID)
	dst = append(dst, `,"topic":`...)
	dst = appendString(dst, env.Topic)
	dst = append(dst, `,"ts":"`...)
	ts, err := env.TS.AppendText(dst) // what Time.MarshalJSON quotes
	if err != nil {
		return marshalAppend(dst[:start], env)
	}
	dst = ts
	dst = append(dst, `","seq":`...)
	dst = strconv.AppendUint(dst, env.Seq, 10)
	dst = append(dst, `,"payload":`...)
	switch p := env.Payload; {
	case p == nil:
		dst = append(dst, "null"...)
	case len(p) > 0 && plainJSON(p):
		dst = append(dst, p...)
	default:
		// Not compact, holding what encoding/json escapes, or empty (which it refuses):
		// let it do what it does.
		return marshalAppend(dst[:start], env)
	}
	if env.SchemaVersion != "" {
		dst = append(dst, `,"schemaVersion":`...)
		dst = appendString(dst, env.SchemaVersion)
	}
	m := &env.Meta
	dst = append(dst, `,"meta":{"source":`...)
	dst = appendString(dst, m.Source)
	if m.CorrelationID != "" {
		dst = append(dst, `,"correlationId":`...)
		dst = appendString(dst, m.CorrelationID)
	}
	if m.CausationID != (uuid.UUID{}) {
		dst = append(dst, `,"causationId":`...)
		dst = appendUUID(dst, m.CausationID)
	}
	if !m.TraceParent.IsZero() {
		tp, _ := m.TraceParent.MarshalText() // hex digits and dashes: nothing to escape
		dst = append(dst, `,"traceparent":"`...)
		dst = append(dst, tp...)
		dst = append(dst, '"')
	}
	if len(m.Headers) > 0 {
		dst = append(dst, `,"headers":{`...)
		keys := make([]string, 0, len(m.Headers))
		for k := range m.Headers {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			dst = appendString(dst, m.Headers[k])
		}
		dst = append(dst, '}')
	}
	return append(dst, "}}"...), nil
}

func marshalAppend(dst []byte, env *bus.Envelope) ([]byte, error) {
	data, err := json.Marshal(env)
	if err != nil {
		return dst, err
	}
	return append(dst, data...), nil
}

func appendUUID(dst []byte, id uuid.UUID) []byte {
	var buf [38]byte
	buf[0], buf[37] = '"', '"'
	hex.Encode(buf[1:9], id[0:4])
	buf[9] = '-'
	hex.Encode(buf[10:14], id[4:6])
	buf[14] = '-'
	hex.Encode(buf[15:19], id[6:8])
	buf[19] = '-'
	hex.Encode(buf[20:24], id[8:10])
	buf[24] = '-'
	hex.Encode(buf[25:37], id[10:16])
	return append(dst, buf[:]...)
}

// plainJSON reports whether p, valid JSON, is already what encoding/json writes for it:
// no white space between tokens, and nothing it escapes (<, >, & and U+2028, U+2029).
func plainJSON(p []byte) bool {
	inString := false
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '"':
			inString = !inString
		case '\\':
			i++ // only inside a string; the escaped byte is not a quote that ends it
		case ' ', '\t', '\r', '\n':
			if !inString {
				return false
			}
		case '<', '>', '&':
			return false
		case 0xe2: // U+2028 and U+2029 are e2 80 a8 and e2 80 a9
			if i+2 < len(p) && p[i+1] == 0x80 && p[i+2]&0xfe == 0xa8 {
				return false
			}
		}
	}
	return true
}

// appendString appends s as a JSON string, escaped as encoding/json escapes it: HTML
// characters, control characters, U+2028 and U+2029 as \u escapes, and invalid UTF-8 as
// U+FFFD.
func appendString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
