package history

// Reading an NDJSON line the quick way: what the lab's own exports write, straight into a
// Log, without encoding/json or an envelope in between. Anything else, including every
// line with something wrong in it, is left to parseEnvelope, which says what is wrong.

import (
	"encoding/json"
	"slices"
	"unicode/utf8"

	"github.com/google/uuid"

	"mfelab/bus"
)

// The fields of an envelope line, as bits, to catch a field given twice.
const (
	fieldID = 1 << iota
	fieldTopic
	fieldTS
	fieldSeq
	fieldPayload
	fieldSchema
	fieldMeta
	fieldSource
	fieldCorrelation
	fieldCausation
	fieldTrace
	fieldHeaders
)

// scanner reads the JSON of one line, strictly: it gives up (ok false) on whatever it
// does not expect, rather than explain it.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// next reads past white space and c, if c comes next.
func (s *scanner) next(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string with no escapes and no control characters, in valid UTF-8: then
// its bytes are its value, as encoding/json would decode it.
func (s *scanner) str() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start, ascii := s.i, true
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			return v, ascii || utf8.Valid(v)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// uint reads a whole number without sign, exponent or fraction that fits in a uint64.
func (s *scanner) uint() (uint64, bool) {
	s.space()
	start := s.i
	var n uint64
	for ; s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9'; s.i++ {
		d := uint64(s.b[s.i] - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	digits := s.i - start
	if digits == 0 || (digits > 1 && s.b[start] == '0') {
		return 0, false
	}
	return n, true
}

// value reads one JSON value, which must be valid and not null, as it stands.
func (s *scanner) value() ([]byte, bool) {
	s.space()
	start, depth, inString := s.i, 0, false
	for s.i < len(s.b) {
		c := s.b[s.i]
		if inString {
			switch c {
			case '\\':
				s.i++
			case '"':
				inString = false
				if depth == 0 {
					s.i++
					return s.valid(start)
				}
			}
			s.i++
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return s.valid(start)
			}
			if depth--; depth == 0 {
				s.i++
				return s.valid(start)
			}
		case ',', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return s.valid(start)
			}
		}
		s.i++
	}
	return s.valid(start)
}

func (s *scanner) valid(start int) ([]byte, bool) {
	v := s.b[start:min(s.i, len(s.b))]
	return v, len(v) > 0 && v[0] != 'n' && json.Valid(v)
}

// object reads the members of an object, handing each key to member, which reads its
// value; it reports false when the object or a member is not what it expects.
func (s *scanner) object(member func(key []byte) bool) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	for {
		key, ok := s.str()
		if !ok || !s.next(':') || !member(key) {
			return false
		}
		if s.next(',') {
			continue
		}
		return s.next('}')
	}
}

// fast reads an NDJSON line, which holds more than white space, into the log if it is
// a valid envelope written as the lab writes them; it reports false to leave the line to
// parseEnvelope, which reads anything else and explains what is wrong.
func (l *Log) fast(line []byte) bool {
	var p packed
	var seen uint16
	once := func(f uint16) bool {
		if seen&f != 0 {
			return false
		}
		seen |= f
		return true
	}
	s := scanner{b: line}
	meta := func(key []byte) bool {
		var ok bool
		var v []byte
		switch string(key) {
		case "source":
			p.source, ok = s.str()
			return ok && once(fieldSource)
		case "correlationId":
			p.corr, ok = s.str()
			return ok && once(fieldCorrelation)
		case "causationId":
			if v, ok = s.str(); ok {
				p.cause, ok = parseUUID(v)
			}
			return ok && once(fieldCausation)
		case "traceparent":
			if v, ok = s.str(); ok {
				ok = p.trace.UnmarshalText(v) == nil
			}
			return ok && once(fieldTrace)
		case "headers":
			return once(fieldHeaders) && s.object(func(k []byte) bool {
				v, ok := s.str()
				if !ok || slices.Contains(p.headerKeys, string(k)) {
					return false
				}
				p.headerKeys, p.headerValues = append(p.headerKeys, string(k)), append(p.headerValues, string(v))
				return true
			})
		}
		return false
	}
	top := func(key []byte) bool {
		var ok bool
		var v []byte
		switch string(key) {
		case "id":
			if v, ok = s.str(); ok {
				p.id, ok = parseUUID(v)
			}
			return ok && once(fieldID)
		case "topic":
			p.topic, ok = s.str()
			return ok && once(fieldTopic)
		case "ts":
			if v, ok = s.str(); ok {
				ok = p.ts.UnmarshalText(v) == nil
			}
			return ok && once(fieldTS)
		case "seq":
			p.seq, ok = s.uint()
			return ok && once(fieldSeq)
		case "payload":
			p.payload, ok = s.value()
			return ok && once(fieldPayload)
		case "schemaVersion":
			p.schema, ok = s.str()
			return ok && once(fieldSchema)
		case "meta":
			return once(fieldMeta) && s.object(meta)
		}
		return false
	}
	if !s.object(top) {
		return false
	}
	if s.space(); s.i != len(line) {
		return false
	}
	if !l.sound(&p) {
		return false
	}
	if len(p.headerKeys) > 1 {
		sortHeaders(&p)
	}
	l.add(&p)
	return true
}

// parseUUID reads a UUID as encoding/json decodes one (uuid.UUID.UnmarshalText).
func parseUUID(b []byte) (uuid.UUID, bool) {
	id, err := uuid.ParseBytes(b)
	return id, err == nil
}

// sound reports whether p passes checkEnvelope, looking up what it already knows of its
// strings.
func (l *Log) sound(p *packed) bool {
	switch {
	case p.id == uuid.Nil, p.seq == 0, p.ts.IsZero(), p.ts.Before(minTS), p.ts.After(maxTS), len(p.source) == 0, len(p.topic) == 0:
		return false
	}
	return l.check(p.topic, nameChecked, nameValid, validName) && l.check(p.source, nameChecked, nameValid, validName) &&
		(len(p.schema) == 0 || l.check(p.schema, schemaChecked, schemaValid, validSchema))
}

// check runs valid on s once per interned string (checked and ok are its bits in named).
func (l *Log) check(s []byte, checked, ok uint8, valid func(string) bool) bool {
	i, interned := l.intern(s)
	if !interned {
		return valid(string(s))
	}
	if l.named[i]&checked == 0 {
		l.named[i] |= checked
		if valid(l.strs[i]) {
			l.named[i] |= ok
		}
	}
	return l.named[i]&ok != 0
}

func validName(s string) bool   { return bus.ValidateTopic(s) == nil }
func validSchema(s string) bool { _, _, err := bus.ParseSchemaVersion(s); return err == nil }

// sortHeaders puts p's headers in the order of their names.
func sortHeaders(p *packed) {
	idx := make([]int, len(p.headerKeys))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case p.headerKeys[a] < p.headerKeys[b]:
			return -1
		case p.headerKeys[a] > p.headerKeys[b]:
			return 1
		}
		return 0
	})
	keys, values := make([]string, len(idx)), make([]string, len(idx))
	for i, j := range idx {
		keys[i], values[i] = p.headerKeys[j], p.headerValues[j]
	}
	p.headerKeys, p.headerValues = keys, values
}
