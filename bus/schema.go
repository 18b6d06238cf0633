package bus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// Schema is a compiled JSON Schema: draft 2020-12 unless the document's $schema names an
// older draft (2019-09, 7, 6 or 4). It is the whole of JSON Schema, checked by a maintained
// implementation, with three rules of the lab's own:
//
//   - A schema is self-contained. $ref and $dynamicRef follow $defs, anchors and JSON
//     pointers within the document; a reference to anything else (another file, a URL) is a
//     compile error, so registering a contract never makes the lab read a file or the network.
//   - format is an assertion, in every draft: a contract that says "date-time" rejects a
//     string that is not one, because a contract exists to catch such payloads. Unknown
//     format names are ignored, as the specification asks. Content keywords
//     (contentEncoding, contentMediaType, contentSchema) stay annotations.
//   - pattern and patternProperties use Go's regexp syntax (RE2): a pattern that needs
//     lookaround or backreferences is a compile error rather than a check that never runs.
//
// A Schema is immutable and safe for concurrent use.
type Schema struct {
	compiled *jsonschema.Schema
	source   []byte
}

// schemaURL names every contract document inside the compiler. It is hierarchical so that
// a relative reference ("item.json") resolves to another document, which then reaches
// refuseLoader, rather than back to this one.
const (
	schemaBase = "mfelab:///"
	schemaURL  = schemaBase + "schema.json"
)

// userURL is a URL as the user wrote it: the internal base taken off.
func userURL(u string) string {
	return strings.ReplaceAll(strings.ReplaceAll(u, schemaURL, ""), schemaBase, "")
}

// ErrSchemaReference is a schema that refers outside itself.
var ErrSchemaReference = errors.New("a contract schema must be self-contained")

// refuseLoader is the compiler's only way to fetch a document, and it fetches nothing.
// Draft metaschemas are built into the library and never reach it.
type refuseLoader struct{}

func (refuseLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%w: it refers to %s; put what it needs under $defs and refer to it as \"#/$defs/NAME\"",
		ErrSchemaReference, userURL(url))
}

// CompileSchema parses and compiles a schema document. An error says where the document
// breaks JSON Schema (the JSON pointer of the offending keyword) or which reference leaves
// it.
func CompileSchema(doc []byte) (s *Schema, err error) {
	defer func() {
		// The library is not expected to panic; if it does on some document, that document
		// is refused rather than taking the bus down.
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("schema could not be compiled: %v", r)
		}
	}()
	raw, err := decodeJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(refuseLoader{})
	if err := c.AddResource(schemaURL, raw); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	compiled, err := c.Compile(schemaURL)
	if err != nil {
		return nil, compileError(err, raw)
	}
	return &Schema{compiled: compiled, source: bytes.Clone(doc)}, nil
}

// compileError rewrites the library's errors in the terms of the document the user wrote:
// pointers into it instead of the internal URL.
func compileError(err error, doc any) error {
	var meta *jsonschema.SchemaValidationError
	if errors.As(err, &meta) {
		var verr *jsonschema.ValidationError
		if errors.As(meta.Err, &verr) {
			lines := problems(verr, doc)
			for i, l := range lines {
				lines[i] = "schema at " + l
			}
			return errors.New(strings.Join(lines, "; "))
		}
	}
	var load *jsonschema.LoadURLError
	if errors.As(err, &load) {
		if errors.Is(load.Err, ErrSchemaReference) {
			return load.Err
		}
		return fmt.Errorf("%w: cannot load %s: %v", ErrSchemaReference, userURL(load.URL), load.Err)
	}
	var anchor *jsonschema.AnchorNotFoundError
	if errors.As(err, &anchor) {
		return fmt.Errorf("schema: $ref %q names no $anchor in the schema", userURL(anchor.Reference))
	}
	var ptr *jsonschema.JSONPointerNotFoundError
	if errors.As(err, &ptr) {
		return fmt.Errorf("schema: $ref %q points at nothing in the schema", userURL(ptr.URL))
	}
	return fmt.Errorf("schema: %s", userURL(err.Error()))
}

// Source is the schema document as it was compiled. The caller may keep and change the
// copy it gets.
func (s *Schema) Source() []byte { return bytes.Clone(s.source) }

// Validate checks a JSON document and returns every problem found, each prefixed with the
// JSON pointer of the offending value ("/" for the whole document), sorted by pointer; nil
// means valid.
func (s *Schema) Validate(doc []byte) []string {
	v, err := decodeJSON(doc)
	if err != nil {
		return []string{"payload is not JSON: " + err.Error()}
	}
	return s.validateValue(v)
}

// validateValue checks an already decoded document: objects as map[string]any, arrays as
// []any, numbers as json.Number.
func (s *Schema) validateValue(v any) (out []string) {
	defer func() {
		if r := recover(); r != nil {
			out = []string{fmt.Sprintf("/: the payload could not be checked: %v", r)}
		}
	}()
	err := s.compiled.Validate(v)
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return []string{"/: " + err.Error()}
	}
	return problems(verr, v)
}

// problem is one failed assertion at one place in the instance.
type problem struct {
	at  []string
	msg string
}

// problems flattens the library's tree of errors into one line per failed assertion,
// "POINTER: what is wrong", sorted by pointer and then text so that the same payload always
// reads the same (the library walks objects in map order).
func problems(verr *jsonschema.ValidationError, root any) []string {
	var ps []problem
	collectProblems(verr, root, &ps)
	slices.SortFunc(ps, func(a, b problem) int {
		if c := slices.Compare(a.at, b.at); c != 0 {
			return c
		}
		return strings.Compare(a.msg, b.msg)
	})
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		line := pointer(p.at) + ": " + p.msg
		if len(out) == 0 || out[len(out)-1] != line {
			out = append(out, line)
		}
	}
	return out
}

func collectProblems(e *jsonschema.ValidationError, root any, out *[]problem) {
	at := e.InstanceLocation
	add := func(format string, args ...any) {
		*out = append(*out, problem{at: at, msg: fmt.Sprintf(format, args...)})
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
		// containers: the failures are in the causes
	case *kind.AnyOf:
		add("no anyOf alternative matches (%s)", alternatives(e.Causes, root))
		return
	case *kind.OneOf:
		if len(k.Subschemas) == 0 {
			add("no oneOf alternative matches (%s)", alternatives(e.Causes, root))
		} else {
			add("oneOf alternatives %d and %d both match; exactly one must", k.Subschemas[0], k.Subschemas[1])
		}
		return
	case *kind.Type:
		add("want %s, got %s", strings.Join(k.Want, " or "), jsonKind(valueAt(root, at)))
	case *kind.Enum:
		add("%s is not one of %s", compactJSON(k.Got), compactJSON(k.Want))
	case *kind.Const:
		add("%s is not the constant %s", compactJSON(k.Got), compactJSON(k.Want))
	case *kind.Required:
		for _, name := range k.Missing {
			add("required property %q is missing", name)
		}
	case *kind.AdditionalProperties:
		for _, name := range k.Properties {
			add("property %q is not allowed", name)
		}
	case *kind.FalseSchema:
		falseSchema(e, at, out)
	case *kind.Minimum:
		add("%s is less than minimum %s", ratText(k.Got), ratText(k.Want))
	case *kind.Maximum:
		add("%s is greater than maximum %s", ratText(k.Got), ratText(k.Want))
	case *kind.ExclusiveMinimum:
		add("%s is not greater than exclusiveMinimum %s", ratText(k.Got), ratText(k.Want))
	case *kind.ExclusiveMaximum:
		add("%s is not less than exclusiveMaximum %s", ratText(k.Got), ratText(k.Want))
	case *kind.MultipleOf:
		add("%s is not a multiple of %s", ratText(k.Got), ratText(k.Want))
	case *kind.MinLength:
		add("length %d is shorter than minLength %d", k.Got, k.Want)
	case *kind.MaxLength:
		add("length %d is longer than maxLength %d", k.Got, k.Want)
	case *kind.Pattern:
		add("%q does not match pattern %q", k.Got, k.Want)
	case *kind.Format:
		add("%s is not a valid %s: %v", compactJSON(k.Got), k.Want, k.Err)
	case *kind.MinItems:
		add("%d items are fewer than minItems %d", k.Got, k.Want)
	case *kind.MaxItems:
		add("%d items are more than maxItems %d", k.Got, k.Want)
	case *kind.MinProperties:
		add("%d properties are fewer than minProperties %d", k.Got, k.Want)
	case *kind.MaxProperties:
		add("%d properties are more than maxProperties %d", k.Got, k.Want)
	case *kind.UniqueItems:
		add("items %d and %d are equal; uniqueItems forbids duplicates", k.Duplicates[0], k.Duplicates[1])
	case *kind.Contains:
		add("no item matches contains")
		return // the causes are each item's failure to match, which is allowed
	case *kind.MinContains:
		add("%d items match contains, fewer than minContains %d", len(k.Got), k.Want)
		return
	case *kind.MaxContains:
		add("%d items match contains, more than maxContains %d", len(k.Got), k.Want)
		return
	case *kind.DependentRequired:
		add("property %q requires %s", k.Prop, quotedList(k.Missing))
	case *kind.Dependency:
		add("property %q requires %s", k.Prop, quotedList(k.Missing))
	case *kind.AdditionalItems:
		add("%d more items than the schema allows", k.Count)
	case *kind.PropertyNames:
		add("property name %q is not allowed by propertyNames", k.Property)
		return // the causes describe the name as if it were a value at the object
	case *kind.Not:
		add("matches the schema under not, which it must not")
	case *kind.RefCycle:
		add("the schema refers to itself without consuming any of the value (%s)", userURL(k.URL))
	default:
		add("fails %s", strings.Join(e.ErrorKind.KeywordPath(), "/"))
	}
	for _, c := range e.Causes {
		collectProblems(c, root, out)
	}
}

// falseSchema words a `false` schema by where it stands: as unevaluatedProperties or
// unevaluatedItems it forbids the extra member, anywhere else it forbids the value.
func falseSchema(e *jsonschema.ValidationError, at []string, out *[]problem) {
	kw := e.SchemaURL[strings.LastIndexByte(e.SchemaURL, '/')+1:]
	if len(at) > 0 {
		parent, last := at[:len(at)-1], at[len(at)-1]
		switch kw {
		case "unevaluatedProperties", "additionalProperties":
			*out = append(*out, problem{at: parent, msg: fmt.Sprintf("property %q is not allowed", last)})
			return
		case "unevaluatedItems", "items", "additionalItems":
			*out = append(*out, problem{at: parent, msg: fmt.Sprintf("item %s is not allowed", last)})
			return
		}
	}
	*out = append(*out, problem{at: at, msg: "no value is allowed here (the schema is false)"})
}

// alternatives words the failures of each alternative of an anyOf or oneOf, all of which
// failed, in their order in the schema.
func alternatives(causes []*jsonschema.ValidationError, root any) string {
	parts := make([]string, len(causes))
	for i, c := range causes {
		parts[i] = fmt.Sprintf("#%d: %s", i, strings.Join(problems(c, root), ", "))
	}
	return strings.Join(parts, "; ")
}

func pointer(tokens []string) string {
	if len(tokens) == 0 {
		return "/"
	}
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		sb.WriteString(escapePointer(t))
	}
	return sb.String()
}

// valueAt follows instance tokens from the root; nil if they lead nowhere.
func valueAt(v any, tokens []string) any {
	for _, t := range tokens {
		switch x := v.(type) {
		case map[string]any:
			v = x[t]
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// ratText prints a limit or a value as a person would write it: whole numbers in full,
// fractions as the shortest decimal.
func ratText(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func quotedList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

func escapePointer(k string) string {
	if !strings.ContainsAny(k, "~/") {
		return k
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
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
		if isInteger(x) {
			return "integer"
		}
		return "number"
	case float64:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// isInteger says whether a number has no fractional part, as JSON Schema counts integers
// (2.0 is one).
func isInteger(n json.Number) bool {
	if _, err := n.Int64(); err == nil {
		return true
	}
	r, ok := new(big.Rat).SetString(n.String())
	return ok && r.IsInt()
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
