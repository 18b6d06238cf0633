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

// importReference is the import of NDJSON at its plainest: the whole input, past a
// byte-order mark, split at newlines, each line parsed on its own. The stream must agree
// with it.
func importReference(data []byte) ImportResult {
	var res ImportResult
	for i, line := range bytes.Split(bytes.TrimPrefix(data, bom), []byte("\n")) {
		if len(bytes.Trim(line, jsonSpace)) == 0 {
			continue
		}
		if env, err := parseEnvelope(line, 0); err != nil {
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
		"\ufeff" + lines[0] + "\r\n \ufeff" + lines[1],
		"\ufeff\r\n[" + ces[0] + ",\r\n{\n\"id\":\n \xc3\xa9}]",
		"\ufeff", "\xef\xbb", "[\xff]", "\x01\n\xc3\xa9",
		// past the small limit below: an over-long line among good ones, in both forms
		lines[0] + "\n" + strings.Repeat("x", 3000) + "\n" + lines[1] + "\n",
		"\ufeff[" + ces[0] + ",\r\n\"" + strings.Repeat("y", 3000) + "\",\r\n" + ces[1] + "]",
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
		if trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, bom), jsonSpace); len(trimmed) == 0 || trimmed[0] != '[' {
			if diff := sameResult(whole, importReference(data)); diff != "" {
				t.Fatalf("the stream and the split input: %s", diff)
			}
		}
		// with a limit a good line fits in and an over-long one passes: it is skipped by
		// number, and what follows is read as without it
		small, serr := readFrom("fuzz", bytes.NewReader(data), 2048)
		if serr == nil && len(small.Envelopes) > len(whole.Envelopes) {
			t.Fatalf("a smaller limit read more: %d envelopes against %d", len(small.Envelopes), len(whole.Envelopes))
		}
		for _, e := range small.Errors {
			if e.Line < 1 || e.Line > 1+bytes.Count(data, []byte("\n")) {
				t.Fatalf("error on line %d of %d", e.Line, 1+bytes.Count(data, []byte("\n")))
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

func TestAByteOrderMarkAndCRLFLineEndsAreRead(t *testing.T) {
	envs, lines := ndjsonLines(t, 2)
	ces := ceElements(t, envs)
	const bom = "\ufeff"
	for _, c := range []struct {
		name  string
		input string
	}{
		{"NDJSON after a byte-order mark keeps its first line", bom + lines[0] + "\n" + lines[1] + "\n"},
		{"NDJSON with CRLF line ends is read", lines[0] + "\r\n" + lines[1] + "\r\n"},
		{"NDJSON with a byte-order mark and CRLF line ends is read", bom + lines[0] + "\r\n\r\n" + lines[1]},
		{"a CloudEvents batch after a byte-order mark is read as a batch", bom + "[" + ces[0] + "," + ces[1] + "]"},
		{"a CloudEvents batch after a byte-order mark and blank lines is read as a batch", bom + "\r\n  \r\n[\r\n" + ces[0] + ",\r\n" + ces[1] + "\r\n]\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			if err := os.WriteFile(path, []byte(c.input), 0o600); err != nil {
				t.Fatal(err)
			}
			format := NDJSON
			if strings.Contains(c.input, "[") {
				format = CloudEvents
			}
			for how, read := range map[string]func() (ImportResult, error){
				"ReadFrom": func() (ImportResult, error) { return ReadFrom("log", strings.NewReader(c.input)) },
				"ReadFile": func() (ImportResult, error) { return ReadFile(path) },
				"Import":   func() (ImportResult, error) { return Import(strings.NewReader(c.input), format) },
			} {
				res, err := read()
				if err != nil || len(res.Errors) != 0 || len(res.Envelopes) != 2 {
					t.Fatalf("%s: %d envelopes, errors %v (%v); want both and no error", how, len(res.Envelopes), res.Errors, err)
				}
				if res.Envelopes[0].ID != envs[0].ID || res.Envelopes[1].ID != envs[1].ID {
					t.Fatalf("%s: read the wrong envelopes", how)
				}
			}
		})
	}
	t.Run("a bad element of a batch with CRLF line ends is reported by the line it starts on", func(t *testing.T) {
		input := "[\r\n" + ces[0] + ",\r\n{\"specversion\":\"0.3\"},\r\n" + ces[1] + "\r\n]"
		res, err := ReadFrom("log", strings.NewReader(input))
		if err != nil || len(res.Envelopes) != 2 || fmt.Sprint(errorLines(res)) != "[3]" {
			t.Fatalf("%d envelopes, errors %v (%v); want 2 and an error on line 3", len(res.Envelopes), res.Errors, err)
		}
	})
}

func TestABadByteIsNamedByItsValueAndPlace(t *testing.T) {
	envs, lines := ndjsonLines(t, 1)
	ces := ceElements(t, envs)
	for _, c := range []struct {
		name  string
		input string
		line  int
		want  string
	}{
		{"a byte-order mark in the middle of a file is named by its bytes", lines[0] + "\n\ufeff" + lines[0], 2, "byte 0xEF at column 1"},
		{"a letter that is not ASCII outside a string is named by its first byte", lines[0] + "\n" + `{"id": é}`, 2, "byte 0xC3 at column 8"},
		{"a control character is named by its value", lines[0] + "\n  {\x01}", 2, "byte 0x01 at column 4"},
		{"a bad ASCII character is quoted, with its column", lines[0] + "\n" + `{"id" 1}`, 2, "invalid character '1' after object key at column 7"},
		{"a bad byte in a batch element is named with its column", "[" + ces[0] + ",\n  {\"id\":\xff}]", 2, "byte 0xFF at column 9"},
		{"a bad byte on a later line of a batch element is named with its line", "[" + ces[0] + ",\n{\n\"id\":\n \xc3\xa9}]", 2, "byte 0xC3 at line 4, column 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := ReadFrom("log", strings.NewReader(c.input))
			if err != nil || len(res.Envelopes) != 1 || len(res.Errors) != 1 {
				t.Fatalf("%d envelopes, errors %v (%v); want 1 and one error", len(res.Envelopes), res.Errors, err)
			}
			e := res.Errors[0]
			if e.Line != c.line || !strings.Contains(e.Reason, c.want) {
				t.Fatalf("error %q, want one on line %d saying %q", e, c.line, c.want)
			}
			for _, r := range e.Reason {
				if r >= 0x80 {
					t.Fatalf("error %q shows the character %q", e, r)
				}
			}
		})
	}
}

// withField returns the JSON object line with the value at path (such as "meta.source")
// set to v.
func withField(t *testing.T, line, path string, v any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	keys := strings.Split(path, ".")
	obj := m
	for _, k := range keys[:len(keys)-1] {
		obj = obj[k].(map[string]any)
	}
	obj[keys[len(keys)-1]] = v
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestImportRefusesWhatTheBusNeverPublishes(t *testing.T) {
	envs, lines := ndjsonLines(t, 1)
	ce := ceElements(t, envs)[0]
	for _, c := range []struct {
		name, line, want string
	}{
		{"a source that is not an app name is refused", withField(t, lines[0], "meta.source", "ca rt"), `meta.source "ca rt" is not a valid app name`},
		{"a source with a letter that is not ASCII is refused and the letter named", withField(t, lines[0], "meta.source", "café"), `character 'é' at byte 3`},
		{"a source that is a pattern is refused", withField(t, lines[0], "meta.source", "cart.#"), `meta.source "cart.#" is not a valid app name`},
		{"an empty source is refused", withField(t, lines[0], "meta.source", ""), "meta.source is missing"},
		{"an empty topic is refused", withField(t, lines[0], "topic", ""), "topic is missing"},
		{"a topic with + is refused as a pattern", withField(t, lines[0], "topic", "cart.+"), `topic "cart.+": wildcard "+"`},
		{"a topic with # is refused as a pattern", withField(t, lines[0], "topic", "cart.#"), `topic "cart.#": wildcard "#"`},
		{"a topic with a letter that is not ASCII is refused and the letter named", withField(t, lines[0], "topic", "cart.é"), `character 'é' at byte 5`},
		{"a zero id is refused", withField(t, lines[0], "id", "00000000-0000-0000-0000-000000000000"), "id is missing or zero"},
		{"a CloudEvent whose source is not an app name is refused", "[" + withField(t, ce, "source", "ca rt") + "]", `meta.source "ca rt" is not a valid app name`},
		{"a CloudEvent whose type is a pattern is refused", "[" + withField(t, ce, "type", "cart.#") + "]", `topic "cart.#": wildcard "#"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			input := lines[0] + "\n" + c.line + "\n" + lines[0]
			if strings.HasPrefix(c.line, "[") {
				input = c.line
			}
			res, _ := ReadFrom("log", strings.NewReader(input))
			if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Reason, c.want) {
				t.Fatalf("errors %v, want one saying %q", res.Errors, c.want)
			}
			if !strings.HasPrefix(c.line, "[") && res.Errors[0].Line != 2 {
				t.Fatalf("error on line %d, want 2", res.Errors[0].Line)
			}
			for _, env := range res.Envelopes {
				if env.Meta.Source != "cart" {
					t.Fatalf("an envelope from %q was accepted", env.Meta.Source)
				}
			}
		})
	}
}

// Under a small limit an over-long line is skipped by its number and the lines after it are read, in NDJSON
// and in a CloudEvents batch alike.
func TestAnOverLongLineIsSkippedUnderASmallLimit(t *testing.T) {
	envs, lines := ndjsonLines(t, 2)
	ces := ceElements(t, envs)
	for name, data := range map[string]string{
		"ndjson":      lines[0] + "\n" + strings.Repeat("x", 3000) + "\n" + lines[1] + "\n",
		"cloudevents": "[" + ces[0] + ",\n\"" + strings.Repeat("y", 3000) + "\",\n" + ces[1] + "]",
	} {
		res, err := readFrom(name, strings.NewReader(data), 2048)
		if err != nil || len(res.Envelopes) != 2 || len(res.Errors) != 1 || res.Errors[0].Line != 2 ||
			!strings.Contains(res.Errors[0].Reason, "longer than 2048 bytes") {
			t.Fatalf("%s: %d envelopes, errors %v, %v", name, len(res.Envelopes), res.Errors, err)
		}
	}
}
