package contract

import (
	"strings"
	"testing"

	"mfelab/bus"
)

func TestCompare(t *testing.T) {
	tests := []struct {
		name, old, next string
		want            []string // Change.String() of each, in order
	}{
		{"annotations are no change",
			`{"title":"a","properties":{"x":{"type":"string","description":"old"}}}`,
			`{"title":"b","$comment":"c","properties":{"x":{"type":"string","description":"new","examples":["q"]}}}`,
			nil},
		{"moving a subschema under $defs is no change",
			`{"properties":{"price":{"type":"object","required":["amount"],"properties":{"amount":{"type":"number"}}}}}`,
			`{"$defs":{"money":{"type":"object","required":["amount"],"properties":{"amount":{"type":"number"}}}},"properties":{"price":{"$ref":"#/$defs/money"}}}`,
			nil},
		{"a change inside a $defs entry is found where it is used",
			`{"$defs":{"money":{"type":"object","properties":{"amount":{"type":"number"}}}},"properties":{"price":{"$ref":"#/$defs/money"}}}`,
			`{"$defs":{"money":{"type":"object","properties":{"amount":{"type":"string"}}}},"properties":{"price":{"$ref":"#/$defs/money"}}}`,
			[]string{"BREAKING type-changed at /price/amount: type number became string"}},
		{"draft-7 definitions are followed too",
			`{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"q":{"type":"integer","minimum":1}},"properties":{"qty":{"$ref":"#/definitions/q"}}}`,
			`{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"q":{"type":"integer","minimum":0}},"properties":{"qty":{"$ref":"#/definitions/q"}}}`,
			[]string{"additive constraint-loosened at /qty: minimum went from 1 to 0; consumers must tolerate values beyond the old limit"}},
		{"a $ref with siblings is merged with its target",
			`{"$defs":{"base":{"properties":{"id":{"type":"string"}},"required":["id"]}},"$ref":"#/$defs/base","properties":{"n":{"type":"integer"}}}`,
			`{"$defs":{"base":{"properties":{"id":{"type":"string"}},"required":["id"]}},"$ref":"#/$defs/base","properties":{"n":{"type":"integer"},"m":{"type":"integer"}}}`,
			[]string{`additive field-added at /m: optional field "m" added`}},
		{"a recursive schema compares without end",
			`{"$defs":{"node":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}}}},"$ref":"#/$defs/node"}`,
			`{"$defs":{"node":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/$defs/node"}},"name":{"type":"string"}}}},"$ref":"#/$defs/node"}`,
			[]string{`additive field-added at /name: optional field "name" added`}},
		{"a type list that grows is a type change",
			`{"type":"string"}`, `{"type":["string","null"]}`,
			[]string{"BREAKING type-changed at /: type string became null|string"}},
		{"const is an enum of one",
			`{"properties":{"v":{"const":1}}}`, `{"properties":{"v":{"enum":[1.0,2]}}}`,
			[]string{"additive enum-widened at /v: now also allows 2; consumers must tolerate values they do not know"}},
		{"a narrowed enum breaks old messages",
			`{"enum":["a","b"]}`, `{"enum":["a"]}`,
			[]string{`BREAKING enum-narrowed at /: no longer allows "b"`}},
		{"limits tighten and loosen",
			`{"minLength":1,"maxItems":5,"exclusiveMaximum":10}`, `{"minLength":2,"maxItems":9,"minProperties":1}`,
			[]string{
				"additive constraint-loosened at /: exclusiveMaximum 10 removed; consumers must tolerate values beyond it",
				"BREAKING constraint-changed at /: minLength went from 1 to 2",
				"additive constraint-loosened at /: maxItems went from 5 to 9; consumers must tolerate values beyond the old limit",
				"BREAKING constraint-changed at /: minProperties 1 added",
			}},
		{"a new format or pattern is a tightening",
			`{"properties":{"at":{"type":"string"},"sku":{"pattern":"^S"}}}`,
			`{"properties":{"at":{"type":"string","format":"date-time"},"sku":{}}}`,
			[]string{
				`BREAKING constraint-changed at /at: format is now "date-time"`,
				`additive constraint-loosened at /sku: pattern "^S" removed; consumers must tolerate values it rejected`,
			}},
		{"closing an object breaks producers of extra fields",
			`{"properties":{"a":{}}}`, `{"properties":{"a":{}},"additionalProperties":false}`,
			[]string{"BREAKING constraint-changed at /: no longer allows fields it does not list"}},
		{"a field that additionalProperties described keeps its checks",
			`{"additionalProperties":{"type":"string"}}`, `{"properties":{"note":{"type":"integer"}},"additionalProperties":{"type":"string"}}`,
			[]string{`additive field-added at /note: optional field "note" added`, "BREAKING type-changed at /note: type string became integer"}},
		{"a required name without a property schema counts as a field",
			`{"required":["id"]}`, `{"required":["id","kind"]}`,
			[]string{`BREAKING required-field-added at /kind: new field "kind" is required; messages of the old version lack it (make it optional or give it a default)`}},
		{"new items constrain arrays that had none",
			`{"type":"array"}`, `{"type":"array","items":{"type":"string"}}`,
			[]string{"BREAKING type-changed at /items: type any became string"}},
		{"a property that became false",
			`{"properties":{"legacy":{}}}`, `{"properties":{"legacy":false}}`,
			[]string{"BREAKING constraint-changed at /legacy: no value is allowed any more (the schema became false)"}},
		{"an edit to oneOf counts as breaking",
			`{"oneOf":[{"type":"string"},{"type":"integer"}]}`, `{"oneOf":[{"type":"string"},{"type":"number"}]}`,
			[]string{"BREAKING keyword-changed at /: oneOf changed; this comparison does not analyse oneOf, so any change to it counts as breaking"}},
		{"an anyOf that only moved a branch under $defs is no change",
			`{"anyOf":[{"type":"string","minLength":1},{"type":"null"}]}`,
			`{"$defs":{"s":{"type":"string","minLength":1.0,"description":"id"}},"anyOf":[{"$ref":"#/$defs/s"},{"type":"null"}]}`,
			nil},
		{"if/then/else and unevaluatedProperties are compared as written",
			`{"if":{"required":["a"]},"then":{"required":["b"]}}`,
			`{"if":{"required":["a"]},"then":{"required":["c"]},"unevaluatedProperties":false}`,
			[]string{
				"BREAKING keyword-changed at /: then changed; this comparison does not analyse then, so any change to it counts as breaking",
				"BREAKING keyword-changed at /: unevaluatedProperties changed; this comparison does not analyse unevaluatedProperties, so any change to it counts as breaking",
			}},
		{"a new draft is a dialect change",
			`{"type":"object"}`, `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object"}`,
			[]string{"BREAKING dialect-changed at /: $schema went from https://json-schema.org/draft/2020-12/schema to https://json-schema.org/draft-07/schema; keywords may mean other things"}},
		{"naming the default draft is no change",
			`{"type":"object"}`, `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object"}`,
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := bus.CompileSchema([]byte(tt.old))
			if err != nil {
				t.Fatal(err)
			}
			n, err := bus.CompileSchema([]byte(tt.next))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range Compare(o, n) {
				got = append(got, c.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("changes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func FuzzCompare(f *testing.F) {
	f.Add([]byte(`{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`), []byte(`{"properties":{"x":{"$ref":"#"}}}`))
	f.Add([]byte(`{"items":{"$ref":"#"},"anyOf":[{"$ref":"#/items"}]}`), []byte(`{"$anchor":"r","items":{"$ref":"#r"}}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		o, err := bus.CompileSchema(a)
		if err != nil {
			return
		}
		n, err := bus.CompileSchema(b)
		if err != nil {
			return
		}
		Compare(o, n) // must end and not panic
		if ch := Compare(o, o); len(ch) != 0 {
			t.Fatalf("%s against itself: %v", a, ch)
		}
	})
}
