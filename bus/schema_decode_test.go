package bus

import (
	"reflect"
	"testing"
)

func TestDecodeJSONAgreesWithEncodingJSON(t *testing.T) {
	tests := []struct {
		name, doc string
		fast      bool // whether the direct path takes it
	}{
		{"an object", `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, true},
		{"whitespace around and inside", " \t\n{ \"a\" : [ 1 , 2 ] }\r\n", true},
		{"numbers keep their spelling", `[0,-0,1.50,1e400,-2E-3,12345678901234567890]`, true},
		{"a repeated key keeps the last value", `{"a":1,"a":2}`, true},
		{"non-ASCII text", `"héllo ✓"`, true},
		{"an escaped string goes the long way", `"a\nb\u00e9"`, false},
		{"invalid UTF-8 goes the long way", "\"\xff\"", false},
		{"a leading zero is not a number", `01`, false},
		{"a bare minus is not a number", `-`, false},
		{"a trailing comma", `[1,]`, false},
		{"two values", `1 2`, false},
		{"empty input", ``, false},
		{"a byte-order mark", "\ufeff{}", false},
		{"deep nesting goes the long way", deep(300), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fv, ok := decodeFast([]byte(tt.doc))
			if ok != tt.fast {
				t.Fatalf("direct path took it: %v, want %v", ok, tt.fast)
			}
			sv, err := decodeStd([]byte(tt.doc))
			if ok && (err != nil || !reflect.DeepEqual(fv, sv)) {
				t.Fatalf("direct %#v, encoding/json %#v (%v)", fv, sv, err)
			}
		})
	}
}

func deep(n int) string {
	b := make([]byte, 0, 2*n)
	for range n {
		b = append(b, '[')
	}
	for range n {
		b = append(b, ']')
	}
	return string(b)
}

// FuzzDecodeJSON checks the direct path against encoding/json: whatever it accepts must
// decode to the very same value, and it must accept nothing encoding/json refuses.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,"x",null,true]}`, `"\u00e9"`, `-0.0e-0`, `{"a":1,"a":{}}`, "[\"\xc3\xa9\"]", `  []  `, `{"":""}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		fv, ok := decodeFast(doc)
		sv, err := decodeStd(doc)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("direct path accepted %q, encoding/json refuses it: %v", doc, err)
		}
		if !reflect.DeepEqual(fv, sv) {
			t.Fatalf("%q: direct %#v, encoding/json %#v", doc, fv, sv)
		}
	})
}
