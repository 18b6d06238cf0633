package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/google/uuid"

	"mfelab/bus"
)

// LineError says why one line (NDJSON) or one element (CloudEvents batch, by the line it
// starts on) could not be imported.
type LineError struct {
	Line   int
	Reason string
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// ImportResult is what an import read: the good envelopes, in file order, and a LineError
// for each bad line. Bad lines never stop the good ones from loading.
type ImportResult struct {
	Envelopes []*bus.Envelope
	Errors    []LineError
}

// maxLine bounds one NDJSON line (16 MiB), so a file without newlines cannot exhaust memory.
const maxLine = 16 << 20

// Import reads an export in f (NDJSON or CloudEvents); err is set only when the file
// itself cannot be read.
func Import(r io.Reader, f Format) (ImportResult, error) {
	switch f {
	case NDJSON:
		return importNDJSON(r)
	case CloudEvents:
		return importCloudEvents(r)
	}
	return ImportResult{}, fmt.Errorf("import format %q: only ndjson and cloudevents can be imported", f)
}

func importNDJSON(r io.Reader) (ImportResult, error) {
	var res ImportResult
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		env, err := parseEnvelope(b)
		if err != nil {
			res.Errors = append(res.Errors, LineError{line, err.Error()})
			continue
		}
		res.Envelopes = append(res.Envelopes, env)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			res.Errors = append(res.Errors, LineError{line + 1, fmt.Sprintf("line longer than %d bytes; the rest of the file was not read", maxLine)})
			return res, nil
		}
		return res, fmt.Errorf("import: read line %d: %w", line+1, err)
	}
	return res, nil
}

func parseEnvelope(b []byte) (*bus.Envelope, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	env := new(bus.Envelope)
	if err := dec.Decode(env); err != nil {
		return nil, fmt.Errorf("not an envelope: %v", err)
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value on the line")
	}
	return env, checkEnvelope(env)
}

// checkEnvelope enforces what the bus guarantees of every envelope it publishes.
func checkEnvelope(env *bus.Envelope) error {
	switch {
	case env.ID == uuid.Nil:
		return errors.New("id is missing")
	case env.Seq == 0:
		return errors.New("seq is missing or zero")
	case env.TS.IsZero():
		return errors.New("ts is missing")
	case env.Meta.Source == "":
		return errors.New("meta.source is missing")
	case len(env.Payload) == 0:
		return errors.New("payload is missing")
	}
	if err := bus.ValidateTopic(env.Topic); err != nil {
		return err
	}
	if env.SchemaVersion != "" {
		if _, _, err := bus.ParseSchemaVersion(env.SchemaVersion); err != nil {
			return err
		}
	}
	return nil
}

func importCloudEvents(r io.Reader) (ImportResult, error) {
	var res ImportResult
	data, err := io.ReadAll(r)
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	// lineAt counts newlines incrementally: offsets only grow, so the file is scanned once.
	curLine, counted := 1, 0
	lineAt := func(off int64) int {
		end := min(int(off), len(data))
		if end > counted {
			curLine += bytes.Count(data[counted:end], []byte("\n"))
			counted = end
		}
		return curLine
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		return res, fmt.Errorf("import: a CloudEvents batch must be a JSON array (line %d)", lineAt(dec.InputOffset()))
	}
	for dec.More() {
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			// The array itself is broken: nothing after this point can be located.
			res.Errors = append(res.Errors, LineError{lineAt(start), "malformed JSON: " + err.Error() + "; the rest of the file was not read"})
			return res, nil
		}
		// The element starts at the first byte after start that is not white space or a comma.
		first := start + int64(len(data[start:])-len(bytes.TrimLeft(data[start:], " \t\r\n,")))
		line := lineAt(first)
		env, err := fromCloudEvent(raw)
		if err != nil {
			res.Errors = append(res.Errors, LineError{line, err.Error()})
			continue
		}
		res.Envelopes = append(res.Envelopes, env)
	}
	return res, nil
}

func fromCloudEvent(raw json.RawMessage) (*bus.Envelope, error) {
	var ce cloudEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&ce); err != nil {
		return nil, fmt.Errorf("not a CloudEvent: %v", err)
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

// ImportInto reads an export and appends its good envelopes to the store, skipping ids
// already stored; it returns what was read so the caller can report the bad lines.
func (s *Store) ImportInto(r io.Reader, f Format) (ImportResult, error) {
	res, err := Import(r, f)
	if err != nil {
		return res, err
	}
	if err := s.Append(res.Envelopes...); err != nil {
		return res, err
	}
	return res, s.Flush()
}
