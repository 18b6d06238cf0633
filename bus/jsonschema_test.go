package bus

import (
	"errors"
	"strings"
	"testing"
)

// The keywords of draft 2020-12 beyond what contracts used to check, each with a payload
// that passes and one that fails, and the problems the failing one reports.
func TestSchemaDraft2020Keywords(t *testing.T) {
	tests := []struct {
		name, schema, doc string
		problems          []string
	}{
		{"oneOf accepts a value that matches exactly one alternative",
			`{"oneOf":[{"type":"string"},{"type":"integer"}]}`, `"a"`, nil},
		{"oneOf rejects a value that matches two alternatives",
			`{"oneOf":[{"type":"number"},{"type":"integer"}]}`, `3`,
			[]string{"/: oneOf alternatives 0 and 1 both match; exactly one must"}},
		{"oneOf names why each alternative failed",
			`{"oneOf":[{"type":"string"},{"type":"integer","minimum":3}]}`, `1`,
			[]string{"/: no oneOf alternative matches (#0: /: want string, got integer; #1: /: 1 is less than minimum 3)"}},
		{"anyOf accepts a value that matches any alternative",
			`{"anyOf":[{"type":"string"},{"minimum":3}]}`, `5`, nil},
		{"anyOf rejects a value that matches none",
			`{"properties":{"id":{"anyOf":[{"type":"string","minLength":2},{"type":"null"}]}}}`, `{"id":"x"}`,
			[]string{"/id: no anyOf alternative matches (#0: /id: length 1 is shorter than minLength 2; #1: /id: want null, got string)"}},
		{"allOf reports every schema that fails",
			`{"allOf":[{"required":["a"]},{"required":["b"]},{"type":"object"}]}`, `{}`,
			[]string{`/: required property "a" is missing`, `/: required property "b" is missing`}},
		{"if/then applies then when if holds",
			`{"if":{"properties":{"kind":{"const":"card"}}},"then":{"required":["last4"]},"else":{"required":["iban"]}}`,
			`{"kind":"card"}`, []string{`/: required property "last4" is missing`}},
		{"if/else applies else when if fails",
			`{"if":{"properties":{"kind":{"const":"card"}}},"then":{"required":["last4"]},"else":{"required":["iban"]}}`,
			`{"kind":"sepa"}`, []string{`/: required property "iban" is missing`}},
		{"patternProperties checks the properties whose names match",
			`{"patternProperties":{"^qty_":{"type":"integer"}},"additionalProperties":false}`, `{"qty_a":1,"qty_b":"2","x":1}`,
			[]string{`/: property "x" is not allowed`, "/qty_b: want integer, got string"}},
		{"$defs and $ref reuse a definition",
			`{"$defs":{"money":{"type":"object","required":["amount","currency"],"properties":{"amount":{"type":"number","minimum":0}}}},
			  "properties":{"price":{"$ref":"#/$defs/money"},"discount":{"$ref":"#/$defs/money"}}}`,
			`{"price":{"amount":-1,"currency":"EUR"},"discount":{"amount":1}}`,
			[]string{`/discount: required property "currency" is missing`, "/price/amount: -1 is less than minimum 0"}},
		{"a recursive $ref checks every level",
			`{"$defs":{"node":{"type":"object","required":["id"],"properties":{"children":{"type":"array","items":{"$ref":"#/$defs/node"}}}}},"$ref":"#/$defs/node"}`,
			`{"id":1,"children":[{"id":2,"children":[{}]}]}`,
			[]string{`/children/0/children/0: required property "id" is missing`}},
		{"$ref to an $anchor",
			`{"$defs":{"sku":{"$anchor":"sku","type":"string","pattern":"^SKU-"}},"items":{"$ref":"#sku"}}`, `["SKU-1","x"]`,
			[]string{`/1: "x" does not match pattern "^SKU-"`}},
		{"unevaluatedProperties sees the properties an allOf declared",
			`{"allOf":[{"properties":{"a":{}}}],"properties":{"b":{}},"unevaluatedProperties":false}`, `{"a":1,"b":2,"c":3}`,
			[]string{`/: property "c" is not allowed`}},
		{"unevaluatedItems forbids items past prefixItems",
			`{"prefixItems":[{"type":"string"}],"unevaluatedItems":false}`, `["a",1]`,
			[]string{"/: item 1 is not allowed"}},
		{"const accepts only its value", `{"const":{"v":2}}`, `{"v":2.0}`, nil},
		{"const rejects others", `{"properties":{"v":{"const":2}}}`, `{"v":3}`, []string{"/v: 3 is not the constant 2"}},
		{"exclusiveMinimum and exclusiveMaximum exclude the bounds",
			`{"items":{"exclusiveMinimum":0,"exclusiveMaximum":10}}`, `[0,5,10]`,
			[]string{"/0: 0 is not greater than exclusiveMinimum 0", "/2: 10 is not less than exclusiveMaximum 10"}},
		{"multipleOf works on decimals exactly", `{"multipleOf":0.01}`, `19.99`, nil},
		{"multipleOf rejects others", `{"multipleOf":0.5}`, `0.3`, []string{"/: 0.3 is not a multiple of 0.5"}},
		{"minItems and maxItems count items", `{"properties":{"a":{"minItems":2},"b":{"maxItems":1}}}`, `{"a":[1],"b":[1,2]}`,
			[]string{"/a: 1 items are fewer than minItems 2", "/b: 2 items are more than maxItems 1"}},
		{"minProperties and maxProperties count properties", `{"prefixItems":[{"minProperties":1},{"maxProperties":1}]}`, `[{},{"a":1,"b":2}]`,
			[]string{"/0: 0 properties are fewer than minProperties 1", "/1: 2 properties are more than maxProperties 1"}},
		{"uniqueItems compares by JSON value", `{"uniqueItems":true}`, `[1,{"a":1},1.0]`,
			[]string{"/: items 0 and 2 are equal; uniqueItems forbids duplicates"}},
		{"contains with minContains", `{"contains":{"type":"string"},"minContains":2}`, `["a",1]`,
			[]string{"/: 1 items match contains, fewer than minContains 2"}},
		{"dependentRequired", `{"dependentRequired":{"card":["expiry"]}}`, `{"card":"4111"}`,
			[]string{`/: property "card" requires "expiry"`}},
		{"propertyNames", `{"propertyNames":{"pattern":"^[a-z]+$"}}`, `{"ok":1,"Bad":2}`,
			[]string{`/: property name "Bad" is not allowed by propertyNames`}},
		{"not", `{"not":{"type":"null"}}`, `null`, []string{"/: matches the schema under not, which it must not"}},
		{"a false subschema forbids the property", `{"properties":{"legacy":false}}`, `{"legacy":1}`,
			[]string{"/legacy: no value is allowed here (the schema is false)"}},
		{"format is an assertion", `{"properties":{"at":{"format":"date-time"},"id":{"format":"uuid"}}}`,
			`{"at":"2024-02-30T10:00:00Z","id":"0190a5b2-7c1e-7000-8000-000000000001"}`,
			[]string{`/at: "2024-02-30T10:00:00Z" is not a valid date-time: invalid date element: parsing time "2024-02-30": day out of range`}},
		{"an unknown format is ignored", `{"format":"sku-code"}`, `"anything"`, nil},
		{"integers beyond 2^53 are compared exactly", `{"maximum":9007199254740993}`, `9007199254740994`,
			[]string{"/: 9007199254740994 is greater than maximum 9007199254740993"}},
		{"an older draft named by $schema keeps its meaning: $ref replaces its siblings",
			`{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"s":{"type":"string"}},"$ref":"#/definitions/s","minLength":5}`,
			`"abc"`, nil},
		{"in 2020-12 $ref applies beside its siblings",
			`{"$defs":{"s":{"type":"string"}},"$ref":"#/$defs/s","minLength":5}`,
			`"abc"`, []string{"/: length 3 is shorter than minLength 5"}},
		{"draft-04 exclusiveMaximum is a boolean",
			`{"$schema":"http://json-schema.org/draft-04/schema#","maximum":3,"exclusiveMaximum":true}`, `3`,
			[]string{"/: 3 is not less than exclusiveMaximum 3"}},
		{"a boolean schema true accepts anything", `true`, `{"x":[1]}`, nil},
		{"two values in a payload are not JSON", `{}`, `{} {}`, []string{"payload is not JSON: more than one value (at byte 4)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := CompileSchema([]byte(tt.schema))
			if err != nil {
				t.Fatal(err)
			}
			got := s.Validate([]byte(tt.doc))
			if strings.Join(got, "|") != strings.Join(tt.problems, "|") {
				t.Fatalf("problems\n %q\nwant\n %q", got, tt.problems)
			}
		})
	}
}

// A schema is self-contained: whatever the form of a reference that leaves it, compiling
// refuses it with ErrSchemaReference and says what to do, and nothing is read.
func TestSchemaRefusesReferencesOutsideItself(t *testing.T) {
	tests := []struct{ name, schema, names string }{
		{"a relative file", `{"$ref":"item.json"}`, "item.json"},
		{"a relative file with a fragment", `{"properties":{"a":{"$ref":"defs.json#/$defs/a"}}}`, "defs.json"},
		{"an absolute file", `{"$ref":"file:///etc/passwd"}`, "file:///etc/passwd"},
		{"a URL", `{"items":{"$ref":"https://example.com/schemas/item.json"}}`, "https://example.com/schemas/item.json"},
		{"a URL against the schema's own $id", `{"$id":"https://example.com/cart.json","$ref":"item.json"}`, "https://example.com/item.json"},
		{"a $dynamicRef", `{"$dynamicRef":"https://example.com/meta#node"}`, "https://example.com/meta"},
		{"an unknown $schema", `{"$schema":"https://example.com/my-dialect"}`, "https://example.com/my-dialect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileSchema([]byte(tt.schema))
			if !errors.Is(err, ErrSchemaReference) {
				t.Fatalf("err %v, want ErrSchemaReference", err)
			}
			if !strings.Contains(err.Error(), tt.names) || !strings.Contains(err.Error(), "$defs") {
				t.Fatalf("err %q does not name %s and say to use $defs", err, tt.names)
			}
		})
	}
	// The same through the registry, which a user reaches first.
	b := New(Options{})
	err := b.Contracts().Register("cart.item-added@1", []byte(`{"$ref":"https://example.com/item.json"}`))
	if !errors.Is(err, ErrSchemaReference) || !strings.Contains(err.Error(), "cart.item-added@1") {
		t.Fatalf("register: %v", err)
	}
}

func TestCompileSchemaPointsAtBrokenReferences(t *testing.T) {
	for schema, want := range map[string]string{
		`{"$ref":"#/$defs/missing"}`:               `$ref "#/$defs/missing" points at nothing in the schema`,
		`{"$ref":"#nowhere"}`:                      `$ref "#nowhere" names no $anchor in the schema`,
		`{"items":{"pattern":"(?<=x)"}}`:           `schema at /items/pattern`,
		`{"properties":{"a":{"type":["x"]}}}`:      `schema at /properties/a/type`,
		`{"$defs":{"a":{"minimum":"1"}},"$ref":1}`: "schema at /$defs/a/minimum: want number, got string",
	} {
		_, err := CompileSchema([]byte(schema))
		checkErr(t, err, want)
	}
}

// Problems come out in the same order for the same payload, whatever order the validator
// visits an object's properties in: the log of a run must not change from run to run.
func TestSchemaProblemsAreDeterministic(t *testing.T) {
	s, err := CompileSchema([]byte(`{"type":"object","properties":{
		"a":{"type":"string"},"b":{"type":"string"},"c":{"type":"string"},"d":{"type":"string"},"e":{"type":"string"}},
		"required":["x","y"],"additionalProperties":false}`))
	if err != nil {
		t.Fatal(err)
	}
	doc := []byte(`{"e":1,"d":1,"c":1,"b":1,"a":1,"z":1,"q":1,"k":1}`)
	first := strings.Join(s.Validate(doc), "|")
	for range 50 {
		if got := strings.Join(s.Validate(doc), "|"); got != first {
			t.Fatalf("problems changed order:\n%s\n%s", first, got)
		}
	}
	if !strings.HasPrefix(first, `/: property "k" is not allowed|/: property "q" is not allowed`) {
		t.Fatalf("not sorted: %s", first)
	}
}

func FuzzSchemaValidateAnyDraft(f *testing.F) {
	for _, s := range []string{
		`{"oneOf":[{"type":"string"},{"$ref":"#/$defs/n"}],"$defs":{"n":{"type":"integer","multipleOf":3}}}`,
		`{"if":{"required":["a"]},"then":{"properties":{"a":{"const":1}}},"unevaluatedProperties":false}`,
		`{"$schema":"http://json-schema.org/draft-04/schema#","items":[{"type":"string"}],"additionalItems":false}`,
		`{"prefixItems":[true],"contains":{"format":"date"},"maxContains":1,"uniqueItems":true}`,
		`{"patternProperties":{"^x":{"minLength":1}},"propertyNames":{"maxLength":3},"dependentSchemas":{"a":{"required":["b"]}}}`,
		`{"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`,
	} {
		f.Add([]byte(s), []byte(`{"a":1,"x":"","b":[1,1]}`))
		f.Add([]byte(s), []byte(`[1e400,"2024-01-01",-0,{"a":[]}]`))
	}
	f.Fuzz(func(t *testing.T, schema, doc []byte) {
		s, err := CompileSchema(schema)
		if err != nil {
			return
		}
		for _, p := range s.Validate(doc) { // must not panic, whatever the input
			if p == "" {
				t.Fatal("an empty problem")
			}
		}
	})
}

// A compiled schema is shared by every publisher of its version, from any goroutine.
func TestSchemaValidatesConcurrently(t *testing.T) {
	s, err := CompileSchema([]byte(`{"$defs":{"n":{"type":"integer","minimum":1}},"type":"object",
		"properties":{"qty":{"$ref":"#/$defs/n"},"at":{"format":"date-time"},"tags":{"uniqueItems":true}},
		"unevaluatedProperties":false}`))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []string)
	for i := range 8 {
		go func() {
			var last []string
			for range 50 {
				last = s.Validate([]byte(`{"qty":0,"at":"now","tags":[1,1],"x":` + string(rune('0'+i)) + `}`))
			}
			done <- last
		}()
	}
	for range 8 {
		if got := <-done; len(got) != 4 {
			t.Errorf("problems %q, want 4", got)
		}
	}
}
