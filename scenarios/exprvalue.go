package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The values of the template language (see expr.go): how they are read from JSON,
// rendered into text, compared and converted. An expression yields nil, bool, float64,
// string, time.Duration, []any or *object.
// object is a JSON object that keeps its keys in the order they were written.
type object struct {
	keys []string
	vals map[string]any
}

func newObject() *object { return &object{vals: map[string]any{}} }

func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// MarshalJSON writes the keys in their order.
func (o *object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		vb, err := json.Marshal(jsonable(o.vals[k]))
		if err != nil {
			return nil, err
		}
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// jsonable turns a value into what encoding/json writes as the file means it: a
// duration as its text.
func jsonable(v any) any {
	switch x := v.(type) {
	case time.Duration:
		return x.String()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	}
	return v
}

// fromJSON decodes JSON into values, objects keeping their key order.
func fromJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeJSONValue(dec, 0)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func decodeJSONValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxExprDepth {
		return nil, errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := newObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeJSONValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				o.set(k, v)
			}
			_, err := dec.Token()
			return o, err
		case '[':
			var l []any
			for dec.More() {
				v, err := decodeJSONValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := dec.Token()
			if l == nil {
				l = []any{}
			}
			return l, err
		}
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	return tok, nil
}

// render writes a value into text: strings as they are, numbers as JSON writes them,
// durations as Go writes them ("1.5s"), null as nothing, lists and objects as JSON.
func render(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return formatNumber(x), nil
	case time.Duration:
		return x.String(), nil
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return "", err
	}
	if len(b) > maxValueSize {
		return "", fmt.Errorf("a value renders to %d bytes; at most %d are allowed", len(b), maxValueSize)
	}
	return string(b), nil
}

func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	b, _ := json.Marshal(f)
	return string(b)
}

func isText(v any) bool { _, ok := v.(string); return ok }

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "text"
	case time.Duration:
		return "a duration"
	case []any:
		return "a list"
	case *object:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// toNumber reads a number; text that is a number counts (an app's state is text), and
// null and empty text are 0, as a state line not set yet.
func toNumber(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case nil:
		return 0, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, fmt.Errorf("%q is not a number", truncate(x, 40))
		}
		return f, nil
	}
	return 0, fmt.Errorf("want a number, got %s", typeName(v))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// truthy: false, null, 0, empty text, "false" and empty lists are false.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != "" && x != "false" && x != "0"
	case time.Duration:
		return x != 0
	case []any:
		return len(x) > 0
	case *object:
		return len(x.keys) > 0
	}
	return true
}

// equal compares values; a number and text that reads as that number are equal (state is
// text), and so are a duration and its text.
func equal(a, b any) bool {
	switch x := a.(type) {
	case float64:
		if f, err := toNumber(b); err == nil && b != nil {
			return f == x
		}
	case time.Duration:
		if s, ok := b.(string); ok {
			d, err := time.ParseDuration(s)
			return err == nil && d == x
		}
	case string:
		switch b.(type) {
		case float64, time.Duration:
			return equal(b, a)
		}
	}
	ra, err1 := render(a)
	rb, err2 := render(b)
	return err1 == nil && err2 == nil && typeName(a) == typeName(b) && ra == rb
}

func compare(a, b any) (int, error) {
	a, b = durationText(a, b), durationText(b, a)
	if da, ok := a.(time.Duration); ok {
		if db, ok := b.(time.Duration); ok {
			return cmpOrdered(da, db), nil
		}
	}
	sa, aStr := a.(string)
	sb, bStr := b.(string)
	if aStr && bStr {
		if fa, err := strconv.ParseFloat(sa, 64); err == nil {
			if fb, err := strconv.ParseFloat(sb, 64); err == nil {
				return cmpOrdered(fa, fb), nil
			}
		}
		return strings.Compare(sa, sb), nil
	}
	fa, err := toNumber(a)
	if err != nil {
		return 0, fmt.Errorf("cannot compare %s with %s", typeName(a), typeName(b))
	}
	fb, err := toNumber(b)
	if err != nil {
		return 0, fmt.Errorf("cannot compare %s with %s", typeName(a), typeName(b))
	}
	return cmpOrdered(fa, fb), nil
}

func cmpOrdered[T int64 | float64 | time.Duration](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// appendRendered renders v onto sb, refusing a text that grows past maxValueSize.
func appendRendered(sb *strings.Builder, v any) error {
	s, err := render(v)
	if err != nil {
		return err
	}
	sb.WriteString(s)
	if sb.Len() > maxValueSize {
		return fmt.Errorf("the text grows past %d bytes", maxValueSize)
	}
	return nil
}
