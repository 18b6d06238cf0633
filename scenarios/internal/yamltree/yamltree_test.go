package yamltree

import (
	"fmt"
	"strings"
	"testing"
)

func read(t *testing.T, doc string) (*Node, []string) {
	t.Helper()
	var errs []string
	r := Reader{MaxNodes: 50, MaxDepth: 4, Words: Words{Noun: "file", TooMany: "smaller, please",
		NotRead: "not read", Instead: "write it out", Number: "numbers here", Empty: "empty", Second: "second"},
		Errorf: func(at Pos, format string, args ...any) {
			errs = append(errs, fmt.Sprintf("%d:%d: ", at.Line, at.Col)+fmt.Sprintf(format, args...))
		}}
	return r.Parse([]byte(doc)), errs
}

// Plain data reads into a tree with places; what a data file has no use for is refused
// at its line and column, in the reader's words.
func TestReadsPlainDataAndRefusesTheRestAtItsPlace(t *testing.T) {
	n, errs := read(t, "\ufeffa: 1\nb: [x, true, 2.5]\nc:\n  d: |\n    text\n")
	if len(errs) > 0 || n == nil {
		t.Fatalf("plain data: %v", errs)
	}
	if v := n.Get("a"); v.Kind != Scalar || v.Val != 1.0 || v.Text != "1" || v.Pos != (Pos{1, 4}) {
		t.Fatalf("a: %+v", v)
	}
	if b := n.Get("b"); b.Kind != List || len(b.Items) != 3 || b.Items[1].Val != true || b.Items[2].Val != 2.5 {
		t.Fatalf("b: %+v", b)
	}
	if d := n.Get("c").Get("d"); d.Val != "text\n" {
		t.Fatalf("c.d: %+v", d)
	}
	for _, tc := range []struct{ doc, want string }{
		{"", "1:1: empty"},
		{"a: 1\n---\nb: 2\n", "3:2: second"},
		{"a: 1\na: 2\n", `2:1: YAML: mapping key "a" already defined`},
		{"a: !!str 1\n", "YAML tags (!!str) are not read; write the value plainly"},
		{"a: &x 1\nb: *x\n", "anchors, aliases and merge keys are not read; write it out"},
		{"a: .inf\n", "1:4: infinity and NaN are not numbers here"},
		{"a: .nan\n", "infinity and NaN are not numbers here"},
		{"[a]: 1\n", "1:4: YAML: found an invalid key"},
		{"a: [[[[[1]]]]]\n", "values nested more than 4 deep"},
		{"a: [" + strings.Repeat("1, ", 60) + "1]\n", "the file has more than 50 values; smaller, please"},
		{"a: [1\n", "YAML: "},
	} {
		if n, errs := read(t, tc.doc); n != nil || len(errs) == 0 || !strings.Contains(errs[0], tc.want) {
			t.Errorf("%q: got %v %v, want an error with %q", tc.doc, n, errs, tc.want)
		}
	}
}
