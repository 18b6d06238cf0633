package scenarios

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"

	"mfelab/scenarios/internal/yamltree"
)

// Pos is a place in a scenario file, from 1.
type Pos struct{ Line, Col int }

// FileError is a mistake in a scenario file: where it is and what is wrong, in words a
// person can act on.
type FileError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *FileError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// FileErrors are every mistake found in one scenario file, in the order of the file.
type FileErrors []*FileError

func (es FileErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// ErrInvalidScenarioFile is what every error of a scenario file that cannot be loaded is,
// for errors.Is.
var ErrInvalidScenarioFile = errors.New("invalid scenario file")

// Is makes errors.Is(err, ErrInvalidScenarioFile) hold.
func (es FileErrors) Is(target error) bool { return target == ErrInvalidScenarioFile }

// Limits on what a scenario file may hold, so that opening one is always cheap.
const (
	MaxFileSize   = 256 << 10 // bytes
	maxNodes      = 20_000    // YAML nodes
	maxYAMLDepth  = 32
	maxApps       = 32
	maxReactions  = 256
	maxTimeline   = 256
	maxChecks     = 128
	maxKnobs      = 32
	maxBlocks     = 64    // breakers, calls, sagas, aggregators, ... each
	maxRepeat     = 10000 // firings of one repeating timeline entry
	maxListInFile = 1000  // elements of any one list in the file
)

type ykind uint8

// The kinds are yamltree's, in its order.
const (
	yNull   = ykind(yamltree.Null)
	yScalar = ykind(yamltree.Scalar)
	yMap    = ykind(yamltree.Map)
	yList   = ykind(yamltree.List)
)

// ynode is a YAML value with its place in the file.
type ynode struct {
	kind  ykind
	pos   Pos
	text  string // a scalar as written (unquoted)
	val   any    // a scalar's value: string, float64 or bool
	keys  []*ynode
	vals  []*ynode
	items []*ynode
}

func (n *ynode) describe() string {
	switch n.kind {
	case yMap:
		return "a mapping"
	case yList:
		return "a list"
	case yNull:
		return "nothing"
	}
	switch n.val.(type) {
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "text"
}

// fileParser turns bytes into ynodes and collects errors with their places.
type fileParser struct {
	name string
	errs FileErrors
}

func (p *fileParser) errAt(pos Pos, format string, args ...any) {
	if len(p.errs) >= 50 {
		return
	}
	p.errs = append(p.errs, &FileError{File: p.name, Line: pos.Line, Col: pos.Col, Msg: fmt.Sprintf(format, args...)})
}

// yamlWords fit the YAML reader's messages to scenario files.
var yamlWords = yamltree.Words{
	Noun:    "file",
	TooMany: "a scenario file must be smaller",
	NotRead: "not used in scenario files",
	Instead: "write each value out",
	Number:  "values a scenario can use",
	Empty:   "the file is empty; a scenario starts with id:, title: and horizon:",
	Second:  "a scenario file holds one YAML document; this is a second",
}

// parseYAML reads one YAML document into a ynode.
func (p *fileParser) parseYAML(data []byte) *ynode {
	if len(data) > MaxFileSize {
		p.errAt(Pos{}, "the file is %d bytes; a scenario file may have at most %d", len(data), MaxFileSize)
		return nil
	}
	r := yamltree.Reader{MaxNodes: maxNodes, MaxDepth: maxYAMLDepth, Words: yamlWords,
		Errorf: func(at yamltree.Pos, format string, args ...any) { p.errAt(Pos(at), format, args...) }}
	return fromTree(r.Parse(data))
}

// fromTree is the parser's tree as the scenario format reads it.
func fromTree(t *yamltree.Node) *ynode {
	if t == nil {
		return nil
	}
	n := &ynode{kind: ykind(t.Kind), pos: Pos(t.Pos), text: t.Text, val: t.Val}
	for _, k := range t.Keys {
		n.keys = append(n.keys, fromTree(k))
	}
	for _, v := range t.Vals {
		n.vals = append(n.vals, fromTree(v))
	}
	for _, it := range t.Items {
		n.items = append(n.items, fromTree(it))
	}
	return n
}

// ---- decoding ynodes into the format's structs ----

// tmpl is a value that may hold ${...}: the source as written and where.
type tmpl struct {
	src string
	pos Pos
	t   *template
	set bool
}

var (
	tmplType  = reflect.TypeFor[tmpl]()
	ynodeType = reflect.TypeFor[*ynode]()
	posType   = reflect.TypeFor[Pos]()
)

// decode fills v (a pointer) from n. Struct fields are matched by their yaml tag; a key
// the struct does not have is an error that lists the keys it does have. A field named
// Pos of type Pos receives the value's place.
func (p *fileParser) decode(n *ynode, v reflect.Value, what string) {
	if n == nil {
		return
	}
	t := v.Type()
	switch {
	case t == ynodeType:
		v.Set(reflect.ValueOf(n))
		return
	case t == tmplType:
		if n.kind != yScalar {
			p.errAt(n.pos, "%s: want a single value, got %s", what, n.describe())
			return
		}
		tp, err := parseTemplate(n.text)
		if err != nil {
			p.exprErr(n, what, err)
			return
		}
		v.Set(reflect.ValueOf(tmpl{src: n.text, pos: n.pos, t: tp, set: true}))
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if n.kind == yNull {
			return
		}
		nv := reflect.New(t.Elem())
		p.decode(n, nv.Elem(), what)
		v.Set(nv)
	case reflect.String:
		if n.kind != yScalar {
			p.errAt(n.pos, "%s: want text, got %s", what, n.describe())
			return
		}
		v.SetString(n.text)
	case reflect.Bool:
		b, ok := n.val.(bool)
		if !ok {
			p.errAt(n.pos, "%s: want true or false, got %s", what, n.describe())
			return
		}
		v.SetBool(b)
	case reflect.Int:
		f, ok := n.val.(float64)
		if !ok || f != math.Trunc(f) || math.Abs(f) > 1e9 {
			p.errAt(n.pos, "%s: want a whole number, got %s", what, n.describe())
			return
		}
		v.SetInt(int64(f))
	case reflect.Slice:
		items := n.items
		switch n.kind {
		case yList:
		case yNull:
			return
		default: // one value where a list is expected: a list of one
			items = []*ynode{n}
		}
		if len(items) > maxListInFile {
			p.errAt(n.pos, "%s: a list of %d; at most %d are allowed", what, len(items), maxListInFile)
			return
		}
		s := reflect.MakeSlice(t, len(items), len(items))
		for i, it := range items {
			p.decode(it, s.Index(i), fmt.Sprintf("%s[%d]", what, i))
		}
		v.Set(s)
	case reflect.Struct:
		if n.kind != yMap {
			p.errAt(n.pos, "%s: want a mapping (key: value lines), got %s", what, n.describe())
			return
		}
		fields := map[string]int{}
		var names []string
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Name == "Pos" && f.Type == posType {
				v.Field(i).Set(reflect.ValueOf(n.pos))
				continue
			}
			tag := f.Tag.Get("yaml")
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			fields[tag] = i
			names = append(names, tag)
		}
		for j, k := range n.keys {
			i, ok := fields[k.text]
			if !ok {
				p.errAt(k.pos, "%s has no %s; it takes %s", what, k.text, strings.Join(names, ", "))
				continue
			}
			p.decode(n.vals[j], v.Field(i), k.text)
		}
	default:
		p.errAt(n.pos, "%s: cannot be read (internal: %s)", what, t)
	}
}

// exprErr reports a template mistake at its place in the file: on the value's line,
// moved along by the offset when the value sits on one line as written.
func (p *fileParser) exprErr(n *ynode, what string, err error) {
	var ee *ExprError
	pos := n.pos
	if errors.As(err, &ee) && !strings.Contains(n.text, "\n") {
		pos.Col += ee.Offset
	}
	p.errAt(pos, "%s: %v", what, err)
}
