package asyncapi

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
)

// omap is a JSON object that keeps its keys in the order of the document, so the file
// written follows the documents.
type omap struct {
	keys []string
	vals []any
}

func (m *omap) set(k string, v any) {
	if i := slices.Index(m.keys, k); i >= 0 {
		m.vals[i] = v
		return
	}
	m.keys = append(m.keys, k)
	m.vals = append(m.vals, v)
}

// MarshalJSON writes the keys in order.
func (m *omap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(m.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// canonical is v as JSON with sorted keys: equal for schemas that say the same.
func canonical(v any) string {
	var plain func(v any) any
	plain = func(v any) any {
		switch x := v.(type) {
		case *omap:
			m := make(map[string]any, len(x.keys))
			for i, k := range x.keys {
				m[k] = plain(x.vals[i])
			}
			return m
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = plain(e)
			}
			return out
		}
		return v
	}
	b, _ := json.Marshal(plain(v))
	return string(b)
}

// data is a node as plain JSON data, taken as written ($ref in data is data).
func data(n *node) any {
	switch n.kind {
	case kMap:
		m := &omap{}
		for i, k := range n.keys {
			m.set(k, data(n.vals[i]))
		}
		return m
	case kList:
		l := make([]any, len(n.items))
		for i, it := range n.items {
			l[i] = data(it)
		}
		return l
	case kScalar:
		return n.val
	}
	return nil
}

// Keywords of a schema whose values are schemas, one, a list or a mapping of them.
var (
	schemaOne  = []string{"additionalProperties", "additionalItems", "contains", "propertyNames", "not", "if", "then", "else", "unevaluatedProperties", "unevaluatedItems"}
	schemaList = []string{"allOf", "anyOf", "oneOf", "prefixItems"}
	schemaMap  = []string{"properties", "patternProperties", "dependentSchemas"}
	// dropped say nothing a payload is checked against (or, for definitions, are
	// inlined where they are used), so a contract leaves them out.
	dropped = []string{"discriminator", "externalDocs", "deprecated", "examples", "example", "default", "readOnly", "writeOnly",
		"$comment", "$id", "$schema", "$anchor", "definitions", "$defs"}
)

// maxSchemaValues bounds a schema with its references inlined.
const maxSchemaValues = 20_000

// schemaState inlines one payload schema.
type schemaState struct {
	d      *document
	stack  []*node
	budget int
	failed bool
}

// schema turns a payload schema into a contract's JSON Schema: every $ref inlined (a
// contract stands alone), annotations a payload is not checked against left out, and
// const written as the one-value enum it means.
func (d *document) schema(n *node) (any, bool) {
	st := &schemaState{d: d, budget: maxSchemaValues}
	v := st.walk(n)
	return v, !st.failed
}

func (st *schemaState) walk(n *node) any {
	if st.failed {
		return nil
	}
	if st.budget--; st.budget < 0 {
		st.d.r.errAt(n.pos, "the schema grows past %d values with its references inlined", maxSchemaValues)
		st.failed = true
		return nil
	}
	if n.kind == kMap && n.get("$ref") != nil {
		ref := n.get("$ref")
		t, _ := st.d.resolve(n)
		if t == nil {
			st.failed = true
			return nil
		}
		if slices.Contains(st.stack, t) {
			st.d.r.errAt(ref.pos, "$ref %q: the schema contains itself; a contract cannot be recursive", ref.str())
			st.failed = true
			return nil
		}
		st.stack = append(st.stack, t)
		defer func() { st.stack = st.stack[:len(st.stack)-1] }()
		n = t
	}
	switch n.kind {
	case kScalar:
		if _, ok := n.val.(bool); ok {
			return n.val // true and false are schemas too
		}
		fallthrough
	case kList, kNull:
		st.d.r.errAt(n.pos, "want a schema (a mapping such as {type: string}), got %s", n.describe())
		st.failed = true
		return nil
	}
	out := &omap{}
	for i, k := range n.keys {
		v := n.vals[i]
		switch {
		case strings.HasPrefix(k, "x-") || slices.Contains(dropped, k):
		case slices.Contains(schemaOne, k) || k == "items" && v.kind == kMap:
			out.set(k, st.walk(v))
		case slices.Contains(schemaList, k) || k == "items" && v.kind == kList:
			if v.kind != kList {
				st.d.r.errAt(v.pos, "%s: want a list of schemas, got %s", k, v.describe())
				st.failed = true
				return nil
			}
			l := make([]any, len(v.items))
			for j, it := range v.items {
				l[j] = st.walk(it)
			}
			out.set(k, l)
		case slices.Contains(schemaMap, k):
			if v.kind != kMap {
				st.d.r.errAt(v.pos, "%s: want a mapping of schemas, got %s", k, v.describe())
				st.failed = true
				return nil
			}
			m := &omap{}
			for j, name := range v.keys {
				m.set(name, st.walk(v.vals[j]))
			}
			out.set(k, m)
		case k == "const" && n.get("enum") == nil:
			out.set("enum", []any{data(v)})
		default:
			out.set(k, data(v))
		}
	}
	return out
}

// withoutFormat is a schema with every format left out, for a bus that does not check
// formats; it reports whether there was one.
func withoutFormat(v any) (any, bool) {
	switch x := v.(type) {
	case *omap:
		out, had := &omap{}, false
		for i, k := range x.keys {
			if k == "format" {
				if _, isText := x.vals[i].(string); isText {
					had = true
					continue
				}
			}
			nv, h := withoutFormat(x.vals[i])
			out.set(k, nv)
			had = had || h
		}
		return out, had
	case []any:
		out, had := make([]any, len(x)), false
		for i, e := range x {
			var h bool
			out[i], h = withoutFormat(e)
			had = had || h
		}
		return out, had
	}
	return v, false
}

// maxSampleDepth bounds how deep a made-up example goes.
const maxSampleDepth = 12

// sample makes up a payload a schema accepts, from what it says: its examples, default,
// const or enum first, else the least value of its type that keeps its bounds. What it
// makes is checked against the contract before it is used, so a guess that fails
// (a pattern it cannot satisfy) is never published.
func (d *document) sample(n *node, depth int) any {
	if depth > maxSampleDepth {
		return nil
	}
	n, _ = d.resolve(n)
	if n == nil || n.kind != kMap {
		return nil
	}
	if ex := n.get("examples"); ex != nil && ex.kind == kList && len(ex.items) > 0 {
		return data(ex.items[0])
	}
	for _, k := range []string{"example", "default", "const"} {
		if v := n.get(k); v != nil {
			return data(v)
		}
	}
	if e := n.get("enum"); e != nil && e.kind == kList && len(e.items) > 0 {
		return data(e.items[0])
	}
	for _, k := range []string{"allOf", "oneOf", "anyOf"} {
		if l := n.get(k); l != nil && l.kind == kList && len(l.items) > 0 {
			if k != "allOf" {
				return d.sample(l.items[0], depth+1)
			}
		}
	}
	typ := ""
	switch t := n.get("type"); {
	case t == nil:
		if n.get("properties") != nil {
			typ = "object"
		}
	case t.kind == kList:
		for _, it := range t.items {
			if it.str() != "null" {
				typ = it.str()
				break
			}
		}
	default:
		typ = t.str()
	}
	num := func(k string) (float64, bool) {
		if v := n.get(k); v != nil {
			f, ok := v.val.(float64)
			return f, ok
		}
		return 0, false
	}
	switch typ {
	case "object":
		out := &omap{}
		props := n.get("properties")
		req := n.get("required")
		if req == nil || req.kind != kList {
			return out
		}
		for _, r := range req.items {
			name := r.str()
			var ps *node
			if props != nil {
				ps = props.get(name)
			}
			if ps == nil {
				out.set(name, "example")
				continue
			}
			out.set(name, d.sample(ps, depth+1))
		}
		return out
	case "array":
		min, _ := num("minItems")
		items := n.get("items")
		l := []any{}
		for i := 0; i < int(min) && i < 16 && items != nil; i++ {
			l = append(l, d.sample(items, depth+1))
		}
		return l
	case "string":
		switch n.get("format").str() {
		case "date-time":
			return "2024-01-01T00:00:00Z"
		case "date":
			return "2024-01-01"
		case "email":
			return "someone@example.com"
		case "uuid":
			return "00000000-0000-4000-8000-000000000000"
		case "uri", "url":
			return "https://example.com/"
		}
		s := "example"
		if m, ok := num("minLength"); ok && int(m) > len(s) {
			s += strings.Repeat("x", min(int(m), 4096)-len(s))
		}
		if m, ok := num("maxLength"); ok && int(m) < len(s) {
			s = s[:max(int(m), 0)]
		}
		return s
	case "integer", "number":
		v := 1.0
		if lo, ok := num("minimum"); ok {
			v = lo
		} else if lo, ok := num("exclusiveMinimum"); ok {
			v = lo + 1
		}
		if hi, ok := num("maximum"); ok && v > hi {
			v = hi
		}
		if typ == "integer" {
			v = math.Ceil(v)
		}
		return v
	case "boolean":
		return false
	}
	return nil
}

// jsonOf is v as JSON. Values read from YAML always encode (infinity and NaN are
// refused when read); anything else gives null, which no contract of an object accepts.
func jsonOf(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("null")
	}
	return b
}
