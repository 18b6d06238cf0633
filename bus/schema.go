package bus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Schema is a compiled JSON Schema of the subset the bus supports: type (a name or a list),
// properties, required, additionalProperties (boolean or schema), enum, minimum, maximum,
// minLength, maxLength, pattern and items. Unknown keywords are an error, not ignored, so a
// contract never silently checks less than its author meant.
type Schema struct {
	types      []string
	properties map[string]*Schema
	required   []string
	addlFalse  bool
	addl       *Schema
	enum       []any
	min, max   *float64
	minLen     *int
	maxLen     *int
	pattern    *regexp.Regexp
	items      *Schema
	source     []byte
}

var schemaTypes = []string{"object", "array", "string", "number", "integer", "boolean", "null"}

// CompileSchema parses a schema document.
func CompileSchema(doc []byte) (*Schema, error) {
	var raw any
	if err := json.Unmarshal(doc, &raw); err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	s, err := compileSchema(raw, "")
	if err != nil {
		return nil, err
	}
	s.source = bytes.Clone(doc)
	return s, nil
}

// Source is the schema document as it was compiled. The caller may keep and change the
// copy it gets.
func (s *Schema) Source() []byte { return bytes.Clone(s.source) }

func compileSchema(raw any, path string) (*Schema, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schema%s: want an object, got %s", at(path), jsonKind(raw))
	}
	s := &Schema{}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := m[k]
		var err error
		switch k {
		case "$schema", "$id", "title", "description", "$comment":
		case "type":
			err = s.compileType(v)
		case "properties":
			props, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("schema%s: properties must be an object", at(path))
			}
			s.properties = make(map[string]*Schema, len(props))
			for name, ps := range props {
				c, err := compileSchema(ps, path+"/properties/"+name)
				if err != nil {
					return nil, err
				}
				s.properties[name] = c
			}
		case "required":
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("schema%s: required must be an array of names", at(path))
			}
			for _, x := range list {
				name, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("schema%s: required must be an array of names", at(path))
				}
				s.required = append(s.required, name)
			}
		case "additionalProperties":
			switch a := v.(type) {
			case bool:
				s.addlFalse = !a
			default:
				s.addl, err = compileSchema(a, path+"/additionalProperties")
			}
		case "enum":
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				return nil, fmt.Errorf("schema%s: enum must be a non-empty array", at(path))
			}
			s.enum = list
		case "minimum", "maximum":
			f, ok := v.(float64)
			if !ok {
				return nil, fmt.Errorf("schema%s: %s must be a number", at(path), k)
			}
			if k == "minimum" {
				s.min = &f
			} else {
				s.max = &f
			}
		case "minLength", "maxLength":
			f, ok := v.(float64)
			if !ok || f < 0 || f != math.Trunc(f) {
				return nil, fmt.Errorf("schema%s: %s must be a non-negative integer", at(path), k)
			}
			n := int(f)
			if k == "minLength" {
				s.minLen = &n
			} else {
				s.maxLen = &n
			}
		case "pattern":
			p, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("schema%s: pattern must be a string", at(path))
			}
			if s.pattern, err = regexp.Compile(p); err != nil {
				return nil, fmt.Errorf("schema%s: pattern: %w", at(path), err)
			}
		case "items":
			s.items, err = compileSchema(v, path+"/items")
		default:
			return nil, fmt.Errorf("schema%s: keyword %q is not supported (supported: type, properties, required, additionalProperties, enum, minimum, maximum, minLength, maxLength, pattern, items)", at(path), k)
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Schema) compileType(v any) error {
	var names []string
	switch t := v.(type) {
	case string:
		names = []string{t}
	case []any:
		for _, x := range t {
			n, ok := x.(string)
			if !ok {
				return fmt.Errorf("type list must hold names")
			}
			names = append(names, n)
		}
	default:
		return fmt.Errorf("type must be a name or a list of names")
	}
	for _, n := range names {
		if !slices.Contains(schemaTypes, n) {
			return fmt.Errorf("unknown type %q (want one of %v)", n, schemaTypes)
		}
	}
	s.types = names
	return nil
}

func at(path string) string {
	if path == "" {
		return ""
	}
	return " at " + path
}

// Validate checks a JSON document and returns every problem found, each prefixed with the
// JSON pointer of the offending value; nil means valid.
func (s *Schema) Validate(doc []byte) []string {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return []string{"payload is not JSON: " + err.Error()}
	}
	var problems []string
	s.validate(v, "", &problems)
	return problems
}

func (s *Schema) validate(v any, path string, out *[]string) {
	fail := func(format string, args ...any) {
		p := path
		if p == "" {
			p = "/"
		}
		*out = append(*out, p+": "+fmt.Sprintf(format, args...))
	}
	if s.types != nil && !slices.ContainsFunc(s.types, func(t string) bool { return hasType(v, t) }) {
		fail("want %s, got %s", strings.Join(s.types, " or "), jsonKind(v))
		return
	}
	if s.enum != nil && !slices.ContainsFunc(s.enum, func(e any) bool { return jsonEqual(e, v) }) {
		fail("%s is not one of %s", compactJSON(v), compactJSON(s.enum))
	}
	switch x := v.(type) {
	case map[string]any:
		for _, r := range s.required {
			if _, ok := x[r]; !ok {
				fail("required property %q is missing", r)
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if ps, ok := s.properties[k]; ok {
				ps.validate(x[k], path+"/"+escapePointer(k), out)
			} else if s.addlFalse {
				fail("property %q is not allowed", k)
			} else if s.addl != nil {
				s.addl.validate(x[k], path+"/"+escapePointer(k), out)
			}
		}
	case []any:
		if s.items != nil {
			for i, e := range x {
				s.items.validate(e, path+"/"+strconv.Itoa(i), out)
			}
		}
	case string:
		n := utf8.RuneCountInString(x)
		if s.minLen != nil && n < *s.minLen {
			fail("length %d is shorter than minLength %d", n, *s.minLen)
		}
		if s.maxLen != nil && n > *s.maxLen {
			fail("length %d is longer than maxLength %d", n, *s.maxLen)
		}
		if s.pattern != nil && !s.pattern.MatchString(x) {
			fail("%q does not match pattern %q", x, s.pattern.String())
		}
	case json.Number:
		f, _ := x.Float64()
		if s.min != nil && f < *s.min {
			fail("%s is less than minimum %v", x, *s.min)
		}
		if s.max != nil && f > *s.max {
			fail("%s is greater than maximum %v", x, *s.max)
		}
	}
}

func escapePointer(k string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}

func hasType(v any, t string) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		if _, err := n.Int64(); err == nil {
			return true
		}
		f, err := n.Float64()
		return err == nil && f == math.Trunc(f) && !math.IsInf(f, 0)
	}
	return false
}

func jsonKind(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case nil:
		return "null"
	case json.Number:
		if hasType(x, "integer") {
			return "integer"
		}
		return "number"
	case float64:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// jsonEqual compares a schema value (numbers as float64) with a payload value (numbers as
// json.Number) by JSON meaning.
func jsonEqual(a, b any) bool {
	return compactJSON(normalizeNumbers(a)) == compactJSON(normalizeNumbers(b))
}

func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeNumbers(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeNumbers(e)
		}
		return out
	}
	return v
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
