package history

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"mfelab/bus"
)

// Format is an export format.
type Format string

// Export formats. NDJSON is lossless and re-importable; CloudEvents is re-importable but
// drops free headers, and writes the sequence zero-padded to 20 digits so that it sorts as
// a string; CSV and Mermaid are for reading.
const (
	NDJSON      Format = "ndjson"
	CloudEvents Format = "cloudevents"
	CSV         Format = "csv"
	Mermaid     Format = "mermaid"
)

// ErrDrawn is what exporting Mermaid from the store says: a diagram is drawn from a run's
// whole trace, classified as the window draws it, which package session does
// (session.ExportRun, mfelab export -format mermaid).
var ErrDrawn = errors.New("a Mermaid diagram is drawn from a run's trace, not written message by message: export it with mfelab export -format mermaid (session.ExportRun)")

// Formats lists every export format.
var Formats = []Format{NDJSON, CloudEvents, CSV, Mermaid}

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("export format %q: want one of ndjson, cloudevents, csv, mermaid", s)
}

// Exporter writes envelopes in one format. Write the envelopes in order, then Close.
type Exporter interface {
	Write(env *bus.Envelope) error
	Close() error
}

// NewExporter returns an exporter writing to w.
func NewExporter(w io.Writer, f Format) (Exporter, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	switch f {
	case NDJSON:
		return &ndjsonExporter{w: bw, enc: json.NewEncoder(bw)}, nil
	case CloudEvents:
		return &ceExporter{w: bw}, nil
	case CSV:
		cw := csv.NewWriter(bw)
		err := cw.Write([]string{"seq", "id", "ts", "topic", "source", "schema_version", "correlation_id", "causation_id", "traceparent", "payload"})
		return &csvExporter{w: bw, c: cw}, err
	case Mermaid:
		return nil, ErrDrawn
	}
	_, err := ParseFormat(string(f))
	return nil, err
}

type ndjsonExporter struct {
	w   *bufio.Writer
	enc *json.Encoder
}

func (e *ndjsonExporter) Write(env *bus.Envelope) error { return e.enc.Encode(env) }
func (e *ndjsonExporter) Close() error                  { return e.w.Flush() }

// cloudEvent is the CloudEvents 1.0 JSON form of an envelope. The sequence extension is a
// string, and CloudEvents orders it as one: it is the envelope's Seq zero-padded to 20
// digits, the width of the largest uint64, so that "...09" sorts before "...10". Import
// reads it with or without the padding.
type cloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Time            string          `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
	CorrelationID   string          `json:"correlationid,omitempty"`
	CausationID     string          `json:"causationid,omitempty"`
	Sequence        string          `json:"sequence"`
	TraceParent     string          `json:"traceparent,omitempty"`
	SchemaVersion   string          `json:"schemaversion,omitempty"`
}

func toCloudEvent(env *bus.Envelope) cloudEvent {
	ce := cloudEvent{SpecVersion: "1.0", ID: env.ID.String(), Source: env.Meta.Source, Type: env.Topic,
		Time: env.TS.UTC().Format(time.RFC3339Nano), DataContentType: "application/json", Data: env.Payload,
		CorrelationID: env.Meta.CorrelationID, Sequence: fmt.Sprintf("%020d", env.Seq),
		SchemaVersion: env.SchemaVersion}
	if env.SchemaVersion != "" {
		if _, v, err := bus.ParseSchemaVersion(env.SchemaVersion); err == nil {
			ce.Type = env.Topic + ".v" + strconv.Itoa(v)
		}
	}
	if env.Meta.CausationID != [16]byte{} {
		ce.CausationID = env.Meta.CausationID.String()
	}
	if !env.Meta.TraceParent.IsZero() {
		ce.TraceParent = env.Meta.TraceParent.String()
	}
	return ce
}

type ceExporter struct {
	w *bufio.Writer
	n int
}

func (e *ceExporter) Write(env *bus.Envelope) error {
	sep := ",\n"
	if e.n == 0 {
		sep = "[\n"
	}
	e.n++
	data, err := json.Marshal(toCloudEvent(env))
	if err != nil {
		return err
	}
	e.w.WriteString(sep)
	_, err = e.w.Write(data)
	return err
}

func (e *ceExporter) Close() error {
	if e.n == 0 {
		e.w.WriteString("[")
	}
	e.w.WriteString("\n]\n")
	return e.w.Flush()
}

type csvExporter struct {
	w *bufio.Writer
	c *csv.Writer
}

func (e *csvExporter) Write(env *bus.Envelope) error {
	ce := toCloudEvent(env)
	return e.c.Write([]string{strconv.FormatUint(env.Seq, 10), ce.ID, ce.Time, env.Topic, env.Meta.Source, env.SchemaVersion,
		env.Meta.CorrelationID, ce.CausationID, ce.TraceParent, string(env.Payload)})
}

func (e *csvExporter) Close() error {
	e.c.Flush()
	if err := e.c.Error(); err != nil {
		return err
	}
	return e.w.Flush()
}

// Export writes the selected messages to w in format f, streaming from one read transaction.
func (s *Store) Export(w io.Writer, f Format, q Query) (int, error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	ex, err := NewExporter(w, f)
	if err != nil {
		return 0, err
	}
	if q.Pattern == "" {
		q.Pattern = "#"
	}
	if err := bus.ValidatePattern(q.Pattern); err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if f == NDJSON && q.selectsAll() {
		return s.exportStored(w, q)
	}
	n := 0
	err = s.db.View(func(tx *bolt.Tx) error {
		return s.iterateTx(tx, q, func(env *bus.Envelope) error {
			n++
			return ex.Write(env)
		})
	})
	if cerr := ex.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// exportStored is the NDJSON export of a whole namespace (up to q.Limit, in q.Order). It
// writes each envelope's stored JSON as it is: that is exactly what encoding the decoded
// envelope again gives (TestStoredNDJSONIsWhatEncodingGives holds it to that), and
// skipping the decode and the encode makes a large export several times faster. Each
// record is still checked to be JSON, so a damaged store fails the export with the row.
func (s *Store) exportStored(w io.Writer, q Query) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		c := s.sub(tx, bMsgs).Cursor()
		first, next := c.First, c.Next
		if q.Order == NewestFirst {
			first, next = c.Last, c.Prev
		}
		for k, v := first(); k != nil && (q.Limit <= 0 || n < q.Limit); k, v = next() {
			if !json.Valid(v) {
				return fmt.Errorf("row %d: history: stored envelope is unreadable", readUint(k))
			}
			bw.Write(v)
			if err := bw.WriteByte('\n'); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return n, err
}

// ExportFile exports to path atomically: it writes a temporary file beside it and renames
// it into place, so a failed export never leaves a half-written file under that name.
func (s *Store) ExportFile(path string, f Format, q Query) (int, error) {
	return WriteFileAtomic(path, func(w io.Writer) (int, error) { return s.Export(w, f, q) })
}

// WriteFileAtomic creates path through a temporary file in the same directory. The file
// gets mode 0644 less the umask, as any file a user saves does.
func WriteFileAtomic(path string, write func(io.Writer) (int, error)) (int, error) {
	tmp, err := createTemp(path)
	if err != nil {
		return 0, fmt.Errorf("export to %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	n, err := write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return 0, fmt.Errorf("export to %s: %w", path, err)
	}
	return n, nil
}

// createTemp creates a new file beside path, named ".<name>.tmp-<random>", with mode 0644
// less the umask. (os.CreateTemp gives 0600, which would stay on the renamed file.)
func createTemp(path string) (*os.File, error) {
	prefix := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	for range 100 {
		f, err := os.OpenFile(prefix+strconv.FormatUint(rand.Uint64(), 36), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("no free temporary name like %s*", prefix)
}

// Deliveries returns what the store recorded of env's deliveries, in order.
func (s *Store) Deliveries(env *bus.Envelope) ([]Delivery, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	var out []Delivery
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = s.deliveriesTx(tx, env)
		return err
	})
	return out, err
}

func (s *Store) deliveriesTx(tx *bolt.Tx, env *bus.Envelope) ([]Delivery, error) {
	var out []Delivery
	c := s.sub(tx, bDeliv).Cursor() // written by versions that kept deliveries apart
	prefix := env.ID[:]
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var d Delivery
		if err := json.Unmarshal(v, &d); err != nil {
			return nil, fmt.Errorf("delivery record of %s: %w", env.ID, err)
		}
		out = append(out, d)
	}
	err := s.traceTx(tx, func(r TraceRecord) error {
		if r.ID == env.ID {
			if d, ok := DeliveryOf(r.event(env)); ok {
				out = append(out, d)
			}
		}
		return nil
	})
	return out, err
}

// DeadLetters returns the persisted dead letters, oldest first.
func (s *Store) DeadLetters() ([]DeadLetter, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	var out []DeadLetter
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := s.sub(tx, bDead).ForEach(func(_, v []byte) error { // as older versions kept them
			var d DeadLetter
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		}); err != nil {
			return err
		}
		ids, msgs := s.sub(tx, bIDs), s.sub(tx, bMsgs)
		return s.traceTx(tx, func(r TraceRecord) error {
			if r.Kind != bus.TraceDeadLettered {
				return nil
			}
			d := DeadLetter{Subscriber: r.App, Pattern: r.Pattern, Reason: r.Reason, Attempt: r.Attempt, At: r.At}
			if row := ids.Get(r.ID[:]); row != nil {
				env, err := decode(msgs.Get(row))
				if err != nil {
					return err
				}
				d.Envelope = env
			}
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

// traceTx calls fn with each of the namespace's trace records, in order.
func (s *Store) traceTx(tx *bolt.Tx, fn func(TraceRecord) error) error {
	tb := tx.Bucket(s.ns).Bucket(bTrace)
	if tb == nil {
		return nil
	}
	return tb.ForEach(func(k, v []byte) error {
		var r TraceRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("trace record %x is unreadable: %w", k, err)
		}
		return fn(r)
	})
}

// State reads a named state stored with PutState into v; it reports whether one exists.
func (s *Store) State(kind, id string, v any) (bool, error) {
	if err := s.usable(); err != nil {
		return false, err
	}
	var data []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		data = append(data, s.sub(tx, bStates).Get([]byte(kind+"\x00"+id))...)
		return nil
	})
	if err != nil || data == nil {
		return false, err
	}
	return true, json.Unmarshal(data, v)
}
