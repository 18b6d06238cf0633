package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"mfelab/bus"
)

// ndjsonLines returns n envelopes and their NDJSON lines.
func ndjsonLines(t testing.TB, n int) ([]*bus.Envelope, []string) {
	t.Helper()
	b := bus.New(bus.Options{Seed: 5, RetainMax: -1})
	a := b.MustRegister(bus.AppConfig{Name: "cart"})
	var envs []*bus.Envelope
	var lines []string
	for i := range n {
		env, err := a.Publish(fmt.Sprintf("cart.item-%d", i), map[string]int{"i": i})
		if err != nil {
			t.Fatal(err)
		}
		line, _ := json.Marshal(env)
		envs, lines = append(envs, env), append(lines, string(line))
	}
	return envs, lines
}

// ceElements returns the CloudEvents form of envs, one JSON object per element.
func ceElements(t testing.TB, envs []*bus.Envelope) []string {
	t.Helper()
	var out []string
	for _, env := range envs {
		data, err := json.Marshal(toCloudEvent(env))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(data))
	}
	return out
}

// errorLines lists the line numbers of res's errors.
func errorLines(res ImportResult) []int {
	var out []int
	for _, e := range res.Errors {
		out = append(out, e.Line)
	}
	return out
}

func TestAnOverLongLineIsSkippedAndTheRestRead(t *testing.T) {
	envs, lines := ndjsonLines(t, 3)
	long := `{"id":"` + strings.Repeat("x", maxLine) + `"}`
	ndjson := strings.Join([]string{lines[0], long, lines[1], "", lines[2]}, "\n") + "\n"
	ces := ceElements(t, envs)
	longCE := `{"specversion":"1.0","data":"` + strings.Repeat("y", maxLine) + `"}`
	batch := "[\n" + ces[0] + ",\n" + longCE + ",\n" + ces[1] + ",\n\n" + ces[2] + "\n]\n"
	dir := t.TempDir()
	for _, c := range []struct {
		name     string
		input    string
		format   Format
		badLines []int
	}{
		{"an NDJSON file yields the lines after an over-long one", ndjson, NDJSON, []int{2}},
		{"a CloudEvents batch yields the elements after an over-long one", batch, CloudEvents, []int{3}},
	} {
		path := filepath.Join(dir, string(c.format))
		if err := os.WriteFile(path, []byte(c.input), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, read := range []struct {
			how  string
			read func() (ImportResult, error)
		}{
			{"by Import", func() (ImportResult, error) { return Import(strings.NewReader(c.input), c.format) }},
			{"by ReadFrom", func() (ImportResult, error) { return ReadFrom("log", strings.NewReader(c.input)) }},
			{"by ReadFile", func() (ImportResult, error) { return ReadFile(path) }},
		} {
			t.Run(c.name+", read "+read.how, func(t *testing.T) {
				res, err := read.read()
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(errorLines(res)) != fmt.Sprint(c.badLines) || !strings.Contains(res.Errors[0].Reason, "longer than") {
					t.Fatalf("errors %v, want one at line %v saying it is too long", res.Errors, c.badLines)
				}
				if len(res.Envelopes) != 3 {
					t.Fatalf("read %d envelopes, want the 3 around the long line", len(res.Envelopes))
				}
				for i, env := range res.Envelopes {
					if env.ID != envs[i].ID {
						t.Fatalf("envelope %d is %v, want %v", i, env.ID, envs[i].ID)
					}
				}
			})
		}
	}
}

// endless yields n bytes: prefix, then fill repeated, without a newline.
type endless struct {
	prefix []byte
	fill   byte
	n      int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), e.n)]
	k := copy(p, e.prefix)
	e.prefix = e.prefix[k:]
	if k < len(p) {
		p[k] = e.fill
		for n := 1; k+n < len(p); n *= 2 {
			copy(p[k+n:], p[k:k+n])
		}
	}
	e.n -= int64(len(p))
	return len(p), nil
}

func TestImportMemoryIsBoundedByTheLineLimit(t *testing.T) {
	const size = 200 << 20
	// The line buffer grows by doubling up to maxLine: twice that, and some slack.
	const bound = 2*maxLine + 4<<20
	for _, c := range []struct {
		name  string
		read  func(io.Reader) (ImportResult, error)
		input func() io.Reader
	}{
		{"200 MiB of NDJSON without a newline is refused in bounded memory",
			func(r io.Reader) (ImportResult, error) { return Import(r, NDJSON) },
			func() io.Reader { return &endless{[]byte(`{"id":"`), 'x', size} }},
		{"a 200 MiB CloudEvents element is refused in bounded memory",
			func(r io.Reader) (ImportResult, error) { return Import(r, CloudEvents) },
			func() io.Reader { return &endless{[]byte(`[{"id":"`), 'x', size} }},
		{"200 MiB without a newline given to ReadFrom is refused in bounded memory",
			func(r io.Reader) (ImportResult, error) { return ReadFrom("endless", r) },
			func() io.Reader { return &endless{[]byte(`{"id":"`), 'x', size} }},
		{"a 200 MiB batch given to ReadFrom is refused in bounded memory",
			func(r io.Reader) (ImportResult, error) { return ReadFrom("endless", r) },
			func() io.Reader { return &endless{[]byte("  [\n{\"data\":\""), 'x', size} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := c.input()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			res, _ := c.read(r)
			runtime.ReadMemStats(&after)
			if len(res.Envelopes) != 0 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Reason, "longer than") {
				t.Fatalf("got %d envelopes, errors %v: want one saying the line is too long", len(res.Envelopes), res.Errors)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > bound {
				t.Fatalf("allocated %d MiB reading %d MiB, want at most %d MiB", alloc>>20, size>>20, bound>>20)
			}
		})
	}
}

// importReference is the import of NDJSON at its plainest: the whole input split at
// newlines, each line parsed on its own. The stream must agree with it.
func importReference(data []byte) ImportResult {
	var res ImportResult
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if env, err := parseEnvelope(line); err != nil {
			res.Errors = append(res.Errors, LineError{i + 1, err.Error()})
		} else {
			res.Envelopes = append(res.Envelopes, env)
		}
	}
	return res
}

// sameResult reports how two imports differ, or "" if they do not.
func sameResult(a, b ImportResult) string {
	if fmt.Sprint(a.Errors) != fmt.Sprint(b.Errors) {
		return fmt.Sprintf("errors differ:\n%v\n%v", a.Errors, b.Errors)
	}
	if len(a.Envelopes) != len(b.Envelopes) {
		return fmt.Sprintf("%d envelopes against %d", len(a.Envelopes), len(b.Envelopes))
	}
	for i := range a.Envelopes {
		x, _ := json.Marshal(a.Envelopes[i])
		y, _ := json.Marshal(b.Envelopes[i])
		if !bytes.Equal(x, y) {
			return fmt.Sprintf("envelope %d differs:\n%s\n%s", i, x, y)
		}
	}
	return ""
}

// FuzzReadFrom holds the import stream to what it promises whatever the bytes: read whole
// or a byte at a time (so every line and element spans reads) it gives the same result;
// NDJSON gives what splitting the input at newlines gives; every envelope it accepts is
// valid; and errors come in line order, on lines the input has.
func FuzzReadFrom(f *testing.F) {
	envs, lines := ndjsonLines(f, 2)
	ces := ceElements(f, envs)
	for _, seed := range []string{
		lines[0] + "\n" + lines[1] + "\n",
		lines[0] + "\r\n\r\n" + lines[1],
		"\n\n  " + lines[0] + "\nnot json\n",
		"[" + ces[0] + "," + ces[1] + "]",
		"[\n" + ces[0] + ",\n{\"specversion\":\"0.3\"},\n" + ces[1] + "\n]\n",
		"  \n[\n" + ces[0] + "\n",
		`[{"a":"x\"]},{"b":[1,{"c":"\\"}]}],` + "\n" + ces[1] + "]",
		`[1, "two", null, true, [3], {}]`,
		`[,]`, `[` + ces[0] + `,]`, `[` + ces[0] + ` x]`, `[]]`, `[`, `]`, ``, " \t\r\n",
		`{"id":1}` + "\n" + `[` + ces[0] + `]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		whole, werr := ReadFrom("fuzz", bytes.NewReader(data))
		drip, derr := ReadFrom("fuzz", iotest.OneByteReader(bytes.NewReader(data)))
		if (werr == nil) != (derr == nil) {
			t.Fatalf("read whole: %v; read a byte at a time: %v", werr, derr)
		}
		if diff := sameResult(whole, drip); diff != "" {
			t.Fatalf("read whole and a byte at a time: %s", diff)
		}
		if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '[' {
			if diff := sameResult(whole, importReference(data)); diff != "" {
				t.Fatalf("the stream and the split input: %s", diff)
			}
		}
		for _, env := range whole.Envelopes {
			if err := checkEnvelope(env); err != nil {
				t.Fatalf("an invalid envelope was accepted (%v): %+v", err, env)
			}
		}
		last, lineCount := 0, 1+bytes.Count(data, []byte("\n"))
		for _, e := range whole.Errors {
			if e.Line < last || e.Line < 1 || e.Line > lineCount {
				t.Fatalf("error on line %d after one on line %d, in %d lines: %v", e.Line, last, lineCount, whole.Errors)
			}
			last = e.Line
		}
	})
}
