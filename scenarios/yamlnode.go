package scenarios

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
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

const (
	yNull ykind = iota
	yScalar
	yMap
	yList
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

// get finds a key of a mapping.
func (n *ynode) get(key string) *ynode {
	for i, k := range n.keys {
		if k.text == key {
			return n.vals[i]
		}
	}
	return nil
}

// fileParser turns bytes into ynodes and collects errors with their places.
type fileParser struct {
	name  string
	errs  FileErrors
	nodes int
}

func (p *fileParser) errAt(pos Pos, format string, args ...any) {
	if len(p.errs) >= 50 {
		return
	}
	p.errs = append(p.errs, &FileError{File: p.name, Line: pos.Line, Col: pos.Col, Msg: fmt.Sprintf(format, args...)})
}

// parseYAML reads one YAML document into a ynode.
func (p *fileParser) parseYAML(data []byte) *ynode {
	if len(data) > MaxFileSize {
		p.errAt(Pos{}, "the file is %d bytes; a scenario file may have at most %d", len(data), MaxFileSize)
		return nil
	}
	data = []byte(strings.TrimPrefix(string(data), "\ufeff"))
	f, err := parseAST(data)
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			tk := ye.GetToken()
			p.errAt(Pos{tk.Position.Line, tk.Position.Column}, "YAML: %s", ye.GetMessage())
		} else {
			p.errAt(Pos{1, 1}, "YAML: %v", err)
		}
		return nil
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		p.errAt(Pos{1, 1}, "the file is empty; a scenario starts with id:, title: and horizon:")
		return nil
	}
	if len(docs) > 1 {
		p.errAt(posOf(docs[1].Body), "a scenario file holds one YAML document; this is a second")
		return nil
	}
	return p.convert(docs[0].Body, 0)
}

// parseAST runs the YAML parser, turning a panic inside it into an error.
func parseAST(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("the YAML parser could not read the file (%v)", r)
		}
	}()
	return parser.ParseBytes(data, 0)
}

func posOf(n ast.Node) Pos {
	if n == nil || n.GetToken() == nil {
		return Pos{}
	}
	tk := n.GetToken()
	return Pos{tk.Position.Line, tk.Position.Column}
}

func (p *fileParser) convert(n ast.Node, depth int) *ynode {
	p.nodes++
	pos := posOf(n)
	if p.nodes > maxNodes {
		if p.nodes == maxNodes+1 {
			p.errAt(pos, "the file has more than %d values; a scenario file must be smaller", maxNodes)
		}
		return nil
	}
	if depth > maxYAMLDepth {
		p.errAt(pos, "values nested more than %d deep", maxYAMLDepth)
		return nil
	}
	switch x := n.(type) {
	case nil:
		return &ynode{kind: yNull, pos: pos}
	case *ast.NullNode:
		return &ynode{kind: yNull, pos: pos}
	case *ast.StringNode:
		return &ynode{kind: yScalar, pos: pos, text: x.Value, val: x.Value}
	case *ast.LiteralNode:
		s := ""
		if x.Value != nil {
			s = x.Value.Value
		}
		return &ynode{kind: yScalar, pos: pos, text: s, val: s}
	case *ast.IntegerNode:
		text := x.GetToken().Value
		var f float64
		switch v := x.Value.(type) {
		case int64:
			f = float64(v)
		case uint64:
			f = float64(v)
		}
		return &ynode{kind: yScalar, pos: pos, text: text, val: f}
	case *ast.FloatNode:
		return &ynode{kind: yScalar, pos: pos, text: x.GetToken().Value, val: x.Value}
	case *ast.InfinityNode, *ast.NanNode:
		p.errAt(pos, "infinity and NaN are not values a scenario can use")
		return nil
	case *ast.BoolNode:
		return &ynode{kind: yScalar, pos: pos, text: strconv.FormatBool(x.Value), val: x.Value}
	case *ast.TagNode:
		p.errAt(pos, "YAML tags (%s) are not used in scenario files; write the value plainly", x.Start.Value)
		return nil
	case *ast.AnchorNode, *ast.AliasNode, *ast.MergeKeyNode:
		p.errAt(pos, "YAML anchors, aliases and merge keys are not used in scenario files; write each value out")
		return nil
	case *ast.CommentNode, *ast.CommentGroupNode:
		return &ynode{kind: yNull, pos: pos}
	case *ast.MappingValueNode:
		return p.mapping(pos, []*ast.MappingValueNode{x}, depth)
	case *ast.MappingNode:
		return p.mapping(pos, x.Values, depth)
	case *ast.SequenceNode:
		out := &ynode{kind: yList, pos: pos}
		for _, v := range x.Values {
			c := p.convert(v, depth+1)
			if c == nil {
				return nil
			}
			out.items = append(out.items, c)
		}
		return out
	}
	p.errAt(pos, "a YAML %s is not used in scenario files", n.Type())
	return nil
}

func (p *fileParser) mapping(pos Pos, values []*ast.MappingValueNode, depth int) *ynode {
	out := &ynode{kind: yMap, pos: pos}
	if len(values) > 0 {
		out.pos = posOf(values[0].Key)
	}
	for _, mv := range values {
		if _, merge := mv.Key.(*ast.MergeKeyNode); merge {
			p.errAt(posOf(mv.Key), "YAML merge keys (<<) are not used in scenario files; write each value out")
			return nil
		}
		k := p.convert(mv.Key, depth+1)
		if k == nil {
			return nil
		}
		if k.kind != yScalar {
			p.errAt(k.pos, "a key must be plain text")
			return nil
		}
		if out.get(k.text) != nil {
			p.errAt(k.pos, "%s appears twice in this mapping", k.text)
			return nil
		}
		v := p.convert(mv.Value, depth+1)
		if v == nil {
			return nil
		}
		if v.pos.Line == 0 {
			v.pos = k.pos
		}
		out.keys = append(out.keys, k)
		out.vals = append(out.vals, v)
	}
	return out
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
