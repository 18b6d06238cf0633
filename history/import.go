package history

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
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

// maxLine bounds one NDJSON line or one element of a CloudEvents batch (16 MiB). A longer
// one is reported and skipped, never held in memory whole, and what follows it is read.
const maxLine = 16 << 20

// Import reads an export in f (NDJSON or CloudEvents) as a stream: memory holds one line
// (or element) at a time, besides the good envelopes. err is set only when r itself
// cannot be read.
func Import(r io.Reader, f Format) (ImportResult, error) {
	var res ImportResult
	switch f {
	case NDJSON:
		return res, newInput(r).ndjson((*resultSink)(&res))
	case CloudEvents:
		return res, newInput(r).cloudEvents((*resultSink)(&res))
	}
	return res, fmt.Errorf("import format %q: only ndjson and cloudevents can be imported", f)
}

// sink takes what an import reads, in file order.
type sink interface {
	// fast takes an NDJSON line that holds more than white space if it can read it the
	// quick way; it reports false to have parseEnvelope read and check it.
	fast(line []byte) bool
	good(env *bus.Envelope)
	bad(e LineError)
	Len() int
	errors() []LineError
}

// resultSink gathers an ImportResult.
type resultSink ImportResult

func (r *resultSink) fast([]byte) bool       { return false }
func (r *resultSink) good(env *bus.Envelope) { r.Envelopes = append(r.Envelopes, env) }
func (r *resultSink) bad(e LineError)        { r.Errors = append(r.Errors, e) }
func (r *resultSink) Len() int               { return len(r.Envelopes) }
func (r *resultSink) errors() []LineError    { return r.Errors }

func (l *Log) good(env *bus.Envelope) { l.addEnvelope(env) }
func (l *Log) bad(e LineError)        { l.errs = append(l.errs, e) }
func (l *Log) errors() []LineError    { return l.errs }

// Progress is how far an import has read.
type Progress struct {
	Line     int   // the line being read
	Messages int   // messages read so far
	Skipped  int   // lines (or elements) that could not be read, so far
	Bytes    int64 // bytes of the input read so far
}

// tickEvery is how many lines or elements an import reads between two looks at its
// context and two reports of its progress.
const tickEvery = 4096

// tick counts a line or element read; every tickEvery of them it reports the progress
// and returns the context's error once it is cancelled.
func (in *input) tick(s sink, skipped int) error {
	if in.ticks++; in.ticks%tickEvery != 0 {
		return nil
	}
	if in.progress != nil {
		in.progress(Progress{Line: in.line, Messages: s.Len(), Skipped: skipped, Bytes: in.counted.n - int64(in.br.Buffered())})
	}
	if in.ctx != nil {
		return in.ctx.Err()
	}
	return nil
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// read imports an export into s, telling NDJSON from a CloudEvents batch by its first
// byte that is not white space: a batch starts with '['. It fails when the input cannot
// be read, when the import is cancelled, or when not one line of it is a message;
// otherwise the bad lines went to s. name is used in errors.
func (in *input) read(name string, s sink) error {
	f := NDJSON
	if err := in.skipSpace(); err != nil && err != io.EOF {
		return fmt.Errorf("%s: import: read line %d: %w", name, in.line, err)
	}
	if c, err := in.br.Peek(1); err == nil && c[0] == '[' {
		f = CloudEvents
	}
	var err error
	if f == CloudEvents {
		err = in.cloudEvents(s)
	} else {
		err = in.ndjson(s)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if s.Len() == 0 {
		if errs := s.errors(); len(errs) > 0 {
			return fmt.Errorf("%s: no message could be read (first problem: %v)", name, errs[0])
		}
		return fmt.Errorf("%s: the file holds no messages", name)
	}
	return nil
}

// ReadLog imports an exported log from r, as ReadFrom does, into a compact Log: memory
// holds one line at a time besides the packed messages, so a log of a million messages
// takes tens of megabytes, not the hundreds its envelopes would. progress, when not nil,
// is called every few thousand lines on the reading goroutine; cancelling ctx stops the
// import with an error that wraps ctx.Err(). name is used in errors.
func ReadLog(ctx context.Context, name string, r io.Reader, progress func(Progress)) (*Log, error) {
	in := newInput(r)
	in.ctx, in.progress = ctx, progress
	l := newLog()
	if err := in.read(name, l); err != nil {
		return nil, err
	}
	l.scratch = nil
	return l, nil
}

// ReadLogFile is ReadLog of the file at path.
func ReadLogFile(ctx context.Context, path string, progress func(Progress)) (*Log, error) {
	f, err := openLog(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadLog(ctx, path, f, progress)
}

// input reads an export, counting lines.
type input struct {
	br   *bufio.Reader
	line int    // the line the next byte is on
	col  int    // bytes before it on its line; kept by the CloudEvents reader only
	buf  []byte // the current line or element, when it spans reads; reused
	// limit bounds a line or element: maxLine, less in tests
	limit int

	counted  *counter
	ctx      context.Context // nil: the import cannot be cancelled
	progress func(Progress)  // nil: nobody asks
	ticks    int
}

// bom is the UTF-8 byte-order mark some editors write at the start of a file.
var bom = []byte{0xEF, 0xBB, 0xBF}

// newInput reads r, past a UTF-8 byte-order mark if it starts with one.
func newInput(r io.Reader) *input {
	c := &counter{r: r}
	in := &input{br: bufio.NewReaderSize(c, 64<<10), line: 1, limit: maxLine, counted: c}
	if b, err := in.br.Peek(len(bom)); err == nil && bytes.Equal(b, bom) {
		in.br.Discard(len(bom))
	}
	return in
}

// readByte reads one byte that is not a newline.
func (in *input) readByte() (byte, error) {
	c, err := in.br.ReadByte()
	if err == nil {
		in.col++
	}
	return c, err
}

// unreadByte puts back the byte readByte read.
func (in *input) unreadByte() {
	in.br.UnreadByte()
	in.col--
}

// advance counts the lines and columns of b, which was read.
func (in *input) advance(b []byte) {
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		in.line += bytes.Count(b[:i+1], []byte("\n"))
		in.col = len(b) - i - 1
	} else {
		in.col += len(b)
	}
}

// skipSpace reads past JSON white space; it returns io.EOF at the end of the input.
func (in *input) skipSpace() error {
	for {
		c, err := in.readByte()
		if err != nil {
			return err
		}
		switch c {
		case '\n':
			in.line++
			in.col = 0
		case ' ', '\t', '\r':
		default:
			in.unreadByte()
			return nil
		}
	}
}

// keep appends b to in.buf unless that would pass maxLine: then it empties in.buf and
// reports false, and the caller keeps nothing more of the line. in.buf grows by doubling,
// so the buffers a line that reaches the limit takes add up to twice the limit.
func (in *input) keep(b []byte) bool {
	need := len(in.buf) + len(b)
	if need > in.limit {
		in.buf = in.buf[:0]
		return false
	}
	if need > cap(in.buf) {
		size := max(cap(in.buf), 4096)
		for size < need {
			size *= 2
		}
		grown := make([]byte, len(in.buf), min(size, in.limit))
		copy(grown, in.buf)
		in.buf = grown
	}
	in.buf = append(in.buf, b...)
	return true
}

// readLine reads one line, without its LF. A line longer than maxLine is read to its end
// but not kept: tooLong is set. err is io.EOF after the last line.
func (in *input) readLine() (line []byte, tooLong bool, err error) {
	in.buf = in.buf[:0]
	for {
		chunk, err := in.br.ReadSlice('\n')
		if err == nil {
			in.line++
			chunk = chunk[:len(chunk)-1]
			if len(in.buf) == 0 && !tooLong {
				return chunk, len(chunk) > in.limit, nil // the whole line is in the reader's buffer
			}
		}
		if !tooLong && !in.keep(chunk) {
			tooLong = true
		}
		if err != bufio.ErrBufferFull {
			return in.buf, tooLong, err
		}
	}
}

// ndjson reads NDJSON lines into s.
func (in *input) ndjson(s sink) error {
	col := in.col // white space already read on the first line, telling the format
	skipped := 0
	for ; ; col = 0 {
		n := in.line
		line, tooLong, err := in.readLine()
		if err != nil && err != io.EOF {
			return fmt.Errorf("import: read line %d: %w", n, err)
		}
		if tooLong {
			s.bad(LineError{n, "longer than " + sizeText(in.limit) + "; skipped"})
			skipped++
		} else if len(bytes.Trim(line, jsonSpace)) > 0 && !s.fast(line) {
			if env, perr := parseEnvelope(line, col); perr != nil {
				s.bad(LineError{n, perr.Error()})
				skipped++
			} else {
				s.good(env)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err := in.tick(s, skipped); err != nil {
			return fmt.Errorf("import stopped at line %d: %w", in.line, err)
		}
	}
}

// jsonSpace is the white space JSON allows between tokens.
const jsonSpace = " \t\r\n"

// parseEnvelope reads one NDJSON line, b, white space around it included; col bytes of
// the line came before b.
func parseEnvelope(b []byte, col int) (*bus.Envelope, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	env := new(bus.Envelope)
	if err := dec.Decode(env); err != nil {
		return nil, notJSON("not an envelope", b, 0, col, err)
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value on the line")
	}
	return env, checkEnvelope(env)
}

// The instants a bus clock (nanoseconds in an int64) can hold.
var (
	minTS = time.Unix(0, math.MinInt64).UTC()
	maxTS = time.Unix(0, math.MaxInt64).UTC()
)

// checkEnvelope enforces what the bus guarantees of every envelope it publishes, so that
// nothing imported can stop a replay: a concrete topic, a source that is a valid app name,
// an id, a sequence number, a time and a payload.
func checkEnvelope(env *bus.Envelope) error {
	switch {
	case env.ID == uuid.Nil:
		return errors.New("id is missing or zero")
	case env.Seq == 0:
		return errors.New("seq is missing or zero")
	case env.TS.IsZero():
		return errors.New("ts is missing")
	case len(env.Payload) == 0:
		return errors.New("payload is missing")
	case env.TS.Before(minTS) || env.TS.After(maxTS):
		return fmt.Errorf("ts %s is outside the years 1678 to 2262, which the lab's nanosecond clock can hold", env.TS.Format(time.RFC3339))
	}
	if err := checkName("topic", "", env.Topic); err != nil {
		return err
	}
	if err := checkName("meta.source", "app name", env.Meta.Source); err != nil {
		return err
	}
	if env.SchemaVersion != "" {
		if _, _, err := bus.ParseSchemaVersion(env.SchemaVersion); err != nil {
			return err
		}
	}
	return nil
}

// checkName checks the value of field: a topic, or an app name (kind), which follows the
// rules of topics. Its error names a character that is not ASCII as that character, where
// the bus would show only its first byte, as if that were a character of its own.
func checkName(field, kind, s string) error {
	if s == "" {
		return fmt.Errorf("%s is missing", field)
	}
	err := bus.ValidateTopic(s)
	if err == nil {
		return nil
	}
	reason := err.Error()
	var te *bus.TopicError
	if errors.As(err, &te) {
		reason = te.Reason
	}
	if kind != "" {
		return fmt.Errorf("%s %q is not a valid %s (app names follow the rules of topics): %s", field, s, kind, reason)
	}
	return fmt.Errorf("%s %q: %s", field, s, reason)
}

// (0xEF as 'ï'); such a byte is named by its value instead.
func notJSON(what string, data []byte, line, col int, err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) || se.Offset < 1 || se.Offset > int64(len(data)) {
		return fmt.Errorf("%s: %v", what, err)
	}
	at := int(se.Offset) - 1 // encoding/json counts the bad byte as read
	where := fmt.Sprintf("column %d", col+at+1)
	if nl := bytes.LastIndexByte(data[:at], '\n'); nl >= 0 {
		where = fmt.Sprintf("line %d, column %d", line+bytes.Count(data[:at], []byte("\n")), at-nl)
	}
	if c := data[at]; c < 0x20 || c >= 0x7f {
		return fmt.Errorf("%s: byte 0x%02X at %s is not JSON", what, c, where)
	}
	return fmt.Errorf("%s: %v at %s", what, err, where)
}

// describeByte names a byte for an error message: printable ASCII quoted, anything else
// (a byte-order mark, a control character) by its value, so no message shows a byte of a
// multi-byte character as if it were a character of its own.
func describeByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02X", c)
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

// sizeText renders a byte count as "16 MiB", or in bytes when it is not whole MiB.
func sizeText(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
