package history

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"mfelab/bus"
)

// sameAsReadFrom reports how reading data into a Log differs from ReadFrom, or "" when
// it does not: the same envelopes, field for field, the same errors on the same lines,
// the same failure.
func sameAsReadFrom(data []byte) string {
	want, werr := ReadFrom("log", bytes.NewReader(data))
	log, gerr := ReadLog(context.Background(), "log", iotest.HalfReader(bytes.NewReader(data)), nil)
	if fmt.Sprint(werr) != fmt.Sprint(gerr) {
		return fmt.Sprintf("ReadFrom fails with %v, ReadLog with %v", werr, gerr)
	}
	if gerr != nil {
		return ""
	}
	if fmt.Sprint(want.Errors) != fmt.Sprint(log.Errors()) {
		return fmt.Sprintf("errors differ:\n%v\n%v", want.Errors, log.Errors())
	}
	if log.Len() != len(want.Envelopes) {
		return fmt.Sprintf("%d envelopes, want %d", log.Len(), len(want.Envelopes))
	}
	for i, w := range want.Envelopes {
		got := log.Envelope(i)
		if len(w.Meta.Headers) == 0 {
			w.Meta.Headers = nil // "headers":{} is kept as none
		}
		if !reflect.DeepEqual(got, w) {
			return fmt.Sprintf("envelope %d:\n got %+v\nwant %+v", i, got, w)
		}
	}
	return ""
}

// withLine is the first line of a fresh export with old replaced by new.
func withLine(t testing.TB, old, new string) string {
	_, lines := ndjsonLines(t, 1)
	if !strings.Contains(lines[0], old) {
		t.Fatalf("%q is not in %s", old, lines[0])
	}
	return strings.Replace(lines[0], old, new, 1)
}

func TestALogHoldsWhatReadFromReads(t *testing.T) {
	_, lines := ndjsonLines(t, 3)
	good := lines[0]
	cases := []struct {
		name string
		data string
	}{
		{"lines as the lab exports them", strings.Join(lines, "\n") + "\n"},
		{"a time in another zone", withLine(t, `Z"`, `+02:00"`)},
		{"a time with nanoseconds", withLine(t, `Z"`, `.123456789Z"`)},
		{"a correlation id and a causation id", withLine(t, `"meta":{`, `"meta":{"correlationId":"order-7","causationId":"019b76da-a800-73c4-8813-2801242ce258",`)},
		{"headers, out of order", withLine(t, `"meta":{`, `"meta":{"headers":{"z":"1","a":"2","m":""},`)},
		{"empty headers", withLine(t, `"meta":{`, `"meta":{"headers":{},`)},
		{"a schema version", withLine(t, `"payload"`, `"schemaVersion":"cart.item-added@2","payload"`)},
		{"a bad schema version", withLine(t, `"payload"`, `"schemaVersion":"cart","payload"`)},
		{"a trace context of its own", withLine(t, `"source":"cart"`, `"source":"cart","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"`)},
		{"a bad trace context", withLine(t, `"source":"cart"`, `"source":"cart","traceparent":"00-00000000000000000000000000000000-b7ad6b7169203331-00"`)},
		{"white space between tokens", strings.ReplaceAll(strings.ReplaceAll(good, ":", " : "), ",", " ,\t")},
		{"fields in another order", `{"meta":{"source":"cart"},"payload":[1, {"a":"}"}],"seq":9,"ts":"2026-01-01T00:00:00Z","topic":"a.b","id":"019b76da-a800-73c4-8813-2801242ce258"}`},
		{"a payload that is a string with escapes", withLine(t, `"payload":{"i":0}`, `"payload":"a\"b\\"`)},
		{"a null payload", withLine(t, `"payload":{"i":0}`, `"payload":null`)},
		{"a payload that is not JSON", withLine(t, `"payload":{"i":0}`, `"payload":{"i":}`)},
		{"an escaped topic", withLine(t, `"topic":"cart.item-0"`, `"topic":"cart\u002eitem"`)},
		{"a topic that is not a topic", withLine(t, `"topic":"cart.item-0"`, `"topic":"cart..item"`)},
		{"a source that is not an app name", withLine(t, `"source":"cart"`, `"source":"café"`)},
		{"a key in capitals", withLine(t, `"topic"`, `"Topic"`)},
		{"a field given twice", withLine(t, `"seq":1`, `"seq":1,"seq":2`)},
		{"an unknown field", withLine(t, `"seq":1`, `"seq":1,"extra":2`)},
		{"a zero seq", withLine(t, `"seq":1`, `"seq":0`)},
		{"a seq with a leading zero", withLine(t, `"seq":1`, `"seq":01`)},
		{"a seq past uint64", withLine(t, `"seq":1`, `"seq":18446744073709551616`)},
		{"a fractional seq", withLine(t, `"seq":1`, `"seq":1.5`)},
		{"a time past 2262", withLine(t, `"ts":"2026`, `"ts":"9999`)},
		{"a missing id", withLine(t, `"id":"`, `"xid":"`)},
		{"two values on a line", good + " {}"},
		{"bad lines among good ones", lines[0] + "\nnot json\n\n" + lines[1] + "\n{\"id\":1}\n" + lines[2]},
		{"a CloudEvents batch", "[" + strings.Join(ceElements(t, func() []*bus.Envelope { e, _ := ndjsonLines(t, 2); return e }()), ",") + "]"},
		{"nothing", ""},
		{"only bad lines", "x\ny\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := sameAsReadFrom([]byte(c.data)); diff != "" {
				t.Fatal(diff)
			}
		})
	}
}

func TestALogHoldsEveryScenarioExportAsReadFromDoes(t *testing.T) {
	files, _ := filepath.Glob("../scenarios/testdata/*.ndjson")
	if len(files) == 0 {
		t.Skip("no scenario exports to read")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if diff := sameAsReadFrom(data); diff != "" {
				t.Fatal(diff)
			}
		})
	}
}

func TestALogOfTicksTakesAFewDozenBytesAMessage(t *testing.T) {
	_, lines := ndjsonLines(t, 2000)
	log, err := ReadLog(context.Background(), "ticks", strings.NewReader(strings.Join(lines, "\n")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if per := float64(log.Size()) / float64(log.Len()); per > 48 {
		t.Fatalf("%.1f bytes a message; lines of %d bytes should pack into fewer than 48", per, len(lines[0]))
	}
}

func TestReadLogReportsProgressAndStopsWhenCancelled(t *testing.T) {
	_, lines := ndjsonLines(t, 3*tickEvery)
	data := []byte(strings.Join(lines, "\n") + "\n")
	var seen []Progress
	if _, err := ReadLog(context.Background(), "log", bytes.NewReader(data), func(p Progress) { seen = append(seen, p) }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 || seen[0].Messages != tickEvery || seen[0].Line != tickEvery+1 || seen[2].Bytes != int64(len(data)) {
		t.Fatalf("progress %+v: want one every %d lines, counting messages and bytes", seen, tickEvery)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err := ReadLog(ctx, "log", bytes.NewReader(data), func(Progress) { cancel() })
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), fmt.Sprintf("line %d", tickEvery+1)) {
		t.Fatalf("cancelled after the first report: %v; want it stopped at line %d", err, tickEvery+1)
	}
}

// FuzzReadLog holds a Log to ReadFrom, whatever the bytes: the quick way of reading a
// line must read what encoding/json reads, and leave to it all it cannot.
func FuzzReadLog(f *testing.F) {
	_, lines := ndjsonLines(f, 2)
	for _, seed := range []string{
		lines[0] + "\n" + lines[1],
		strings.Replace(lines[0], `Z"`, `+01:00"`, 1),
		strings.Replace(lines[0], `"meta":{`, `"meta":{"headers":{"b":"x","a":"y"},"correlationId":"c",`, 1),
		strings.Replace(lines[0], `{"i":0}`, `[1,"]",{"a":[]}]`, 1),
		`{"id":"019b76da-a800-73c4-8813-2801242ce258","topic":"a","ts":"2026-01-01T00:00:00Z","seq":1,"payload":1,"meta":{"source":"a"}}`,
		"\ufeff" + lines[0] + "\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if diff := sameAsReadFrom(data); diff != "" {
			t.Fatal(diff)
		}
	})
}

// tickLog returns n lines of NDJSON as an export of the load scenario holds them: eight
// apps publishing load.<app>.tick with a counter for payload, 12.5µs apart.
func tickLog(tb testing.TB, n int) []byte {
	tb.Helper()
	b := bus.New(bus.Options{Seed: 42, RetainMax: -1})
	apps := []string{"catalog", "cart", "inventory", "payment", "shipping", "notifications", "host", "dashboard"}
	conns := make([]*bus.App, len(apps))
	for i, name := range apps {
		conns[i] = b.MustRegister(bus.AppConfig{Name: name})
	}
	var out bytes.Buffer
	for i := range n {
		b.RunFor(12500 * time.Nanosecond)
		env, err := conns[i%len(apps)].PublishJSON("load."+apps[i%len(apps)]+".tick", []byte(strconv.Itoa(i/len(apps)+1)))
		if err != nil {
			tb.Fatal(err)
		}
		line, err := appendEnvelope(nil, env)
		if err != nil {
			tb.Fatal(err)
		}
		out.Write(append(line, '\n'))
	}
	return out.Bytes()
}

// BenchmarkImportTicks reads 100,000 lines of an export of the load scenario with
// ReadFrom (an envelope each, through encoding/json) and with ReadLog (packed, read the
// quick way), and reports the bytes each holds per message once read.
func BenchmarkImportTicks(b *testing.B) {
	data := tickLog(b, 100_000)
	b.Run("ReadFrom", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			res, err := ReadFrom("ticks", bytes.NewReader(data))
			if err != nil || len(res.Envelopes) != 100_000 {
				b.Fatal(err)
			}
		}
	})
	b.Run("ReadLog", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		var log *Log
		for b.Loop() {
			var err error
			if log, err = ReadLog(context.Background(), "ticks", bytes.NewReader(data), nil); err != nil || log.Len() != 100_000 {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(log.Size())/float64(log.Len()), "packedB/msg")
	})
}
