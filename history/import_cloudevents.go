package history

// Reading a CloudEvents batch: a JSON array, one element at a time.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/google/uuid"

	"mfelab/bus"
)

// cloudEvents reads a CloudEvents batch, a JSON array, one element at a time. A bad
// element is reported by the line it starts on and the next one is read; when the array
// itself is broken (a missing comma, a file cut short) the rest cannot be located, and
// the last error says it was not read.
func (in *input) cloudEvents(s sink) error {
	skipped := 0
	stop := func(line int, reason string) error {
		s.bad(LineError{line, reason + "; the rest of the file was not read"})
		return nil
	}
	if err := in.skipSpace(); err != nil && err != io.EOF {
		return fmt.Errorf("import: read line %d: %w", in.line, err)
	}
	if c, err := in.readByte(); err != nil || c != '[' {
		return fmt.Errorf("import: a CloudEvents batch must be a JSON array (line %d)", in.line)
	}
	for i := 0; ; i++ {
		if i > 0 {
			if err := in.tick(s, skipped); err != nil {
				return fmt.Errorf("import stopped at line %d: %w", in.line, err)
			}
		}
		if err := in.skipSpace(); err != nil {
			return in.cutShort(s, err)
		}
		c, _ := in.readByte()
		if c == ']' {
			if err := in.skipSpace(); err != io.EOF {
				return stop(in.line, "text after the end of the array")
			}
			return nil
		}
		if i > 0 {
			if c != ',' {
				return stop(in.line, fmt.Sprintf("%s where a comma or ] should follow an element", describeByte(c)))
			}
			if err := in.skipSpace(); err != nil {
				return in.cutShort(s, err)
			}
		} else {
			in.unreadByte()
		}
		start, startCol := in.line, in.col
		raw, tooLong, err := in.readElement()
		switch {
		case err == io.EOF && tooLong:
			return stop(start, "element longer than "+sizeText(in.limit)+", and the file ends inside it")
		case err == io.EOF:
			return in.cutShort(s, err)
		case err != nil:
			return fmt.Errorf("import: read line %d: %w", in.line, err)
		case tooLong:
			s.bad(LineError{start, "element longer than " + sizeText(in.limit) + "; skipped"})
			skipped++
		case len(raw) == 0:
			c, _ := in.readByte()
			return stop(start, fmt.Sprintf("%s where an element should start", describeByte(c)))
		default:
			if env, err := fromCloudEvent(raw, start, startCol); err != nil {
				s.bad(LineError{start, err.Error()})
				skipped++
			} else {
				s.good(env)
			}
		}
	}
}

// cutShort ends a batch whose input stopped (err) before the array closed.
func (in *input) cutShort(s sink, err error) error {
	if err != io.EOF {
		return fmt.Errorf("import: read line %d: %w", in.line, err)
	}
	s.bad(LineError{in.line, "the file ends before the array is closed with ]: it was cut short"})
	return nil
}

// readElement reads one JSON value of an array: an object or array up to its matching
// close, a string up to its closing quote, anything else up to the next comma, ] or white
// space. That is all it checks: fromCloudEvent parses the value. A value longer than
// maxLine is read to its end but not kept: tooLong is set. raw is empty when the next
// byte cannot start a value. err is io.EOF if the input ends inside the value.
func (in *input) readElement() (raw []byte, tooLong bool, err error) {
	in.buf = in.buf[:0]
	depth, inString, escaped, started := 0, false, false, false
	for {
		if in.br.Buffered() == 0 {
			if _, err := in.br.Peek(1); err != nil {
				if err == io.EOF && started && depth == 0 && !inString {
					return in.buf, tooLong, nil // a number or literal ends the input
				}
				return nil, tooLong, err
			}
		}
		chunk, _ := in.br.Peek(in.br.Buffered())
		end, i := -1, 0
	scan:
		for i < len(chunk) {
			if inString {
				if escaped {
					escaped = false
					i++
					continue
				}
				q := bytes.IndexByte(chunk[i:], '"')
				if q < 0 {
					q = len(chunk) - i
				}
				if bs := bytes.IndexByte(chunk[i:i+q], '\\'); bs >= 0 {
					i += bs + 1
					escaped = true
					continue
				}
				i += q
				if i == len(chunk) {
					break
				}
				i++
				inString = false
				if depth == 0 {
					end = i
					break scan
				}
				continue
			}
			switch c := chunk[i]; c {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				if depth == 0 {
					end = i
					break scan
				}
				depth--
				if depth == 0 {
					end = i + 1
					break scan
				}
			case ',', ' ', '\t', '\r', '\n':
				if depth == 0 {
					end = i
					break scan
				}
			}
			started = true
			i++
		}
		if end >= 0 {
			i = end
		}
		if !tooLong && !in.keep(chunk[:i]) {
			tooLong = true
		}
		in.advance(chunk[:i])
		in.br.Discard(i)
		if end >= 0 {
			return in.buf, tooLong, nil
		}
	}
}

// notJSON explains err, from decoding data (which starts on line line, at column col from
// 0), as what, with where the error is: its column, and its line too when that is not the
// line data starts on. encoding/json quotes a bad byte as if it were a character of its
// own, which for a byte of a multi-byte character or of a byte-order mark shows nonsense
// fromCloudEvent reads one element of a batch, raw, which starts on line line, at column
// col (from 0).
func fromCloudEvent(raw json.RawMessage, line, col int) (*bus.Envelope, error) {
	var ce cloudEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&ce); err != nil {
		return nil, notJSON("not a CloudEvent", raw, line, col, err)
	}
	if ce.SpecVersion != "1.0" {
		return nil, fmt.Errorf("specversion %q: want 1.0", ce.SpecVersion)
	}
	if ce.DataContentType != "" && ce.DataContentType != "application/json" {
		return nil, fmt.Errorf("datacontenttype %q: only application/json can become a bus payload", ce.DataContentType)
	}
	env := &bus.Envelope{Payload: ce.Data, SchemaVersion: ce.SchemaVersion}
	env.Meta.Source, env.Meta.CorrelationID = ce.Source, ce.CorrelationID
	var err error
	if env.ID, err = uuid.Parse(ce.ID); err != nil {
		return nil, fmt.Errorf("id %q is not a UUID", ce.ID)
	}
	if env.TS, err = time.Parse(time.RFC3339Nano, ce.Time); err != nil {
		return nil, fmt.Errorf("time %q is not RFC 3339", ce.Time)
	}
	if env.Seq, err = strconv.ParseUint(ce.Sequence, 10, 64); err != nil {
		return nil, fmt.Errorf("sequence %q is not a number", ce.Sequence)
	}
	if ce.CausationID != "" {
		if env.Meta.CausationID, err = uuid.Parse(ce.CausationID); err != nil {
			return nil, fmt.Errorf("causationid %q is not a UUID", ce.CausationID)
		}
	}
	if ce.TraceParent != "" {
		if env.Meta.TraceParent, err = bus.ParseTraceParent(ce.TraceParent); err != nil {
			return nil, err
		}
	}
	// The type is the topic, with ".vN" appended when a schema version is set.
	env.Topic = ce.Type
	if env.SchemaVersion != "" {
		if _, v, err := bus.ParseSchemaVersion(env.SchemaVersion); err == nil {
			suffix := ".v" + strconv.Itoa(v)
			if len(ce.Type) > len(suffix) && ce.Type[len(ce.Type)-len(suffix):] == suffix {
				env.Topic = ce.Type[:len(ce.Type)-len(suffix)]
			}
		}
	}
	if len(env.Payload) == 0 {
		env.Payload = json.RawMessage("null")
	}
	return env, checkEnvelope(env)
}
