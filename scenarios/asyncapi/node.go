package asyncapi

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Limits on one document, so that reading any input stays cheap.
const (
	MaxDocSize   = 4 << 20 // bytes
	maxNodes     = 200_000
	maxDepth     = 64
	maxErrors    = 50
	maxDocuments = 32 // one per app, as a scenario file holds at most 32 apps
)

// Error is a mistake in a document: where it is and what is wrong.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Errors are every mistake found, in the order of the documents.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// ErrInvalidSpec is what every error of a document that cannot be imported is, for
// errors.Is.
var ErrInvalidSpec = errors.New("invalid AsyncAPI document")

// Is makes errors.Is(err, ErrInvalidSpec) hold.
func (es Errors) Is(target error) bool { return target == ErrInvalidSpec }

type kind uint8

const (
	kNull kind = iota
	kScalar
	kMap
	kList
)

type pos struct{ line, col int }

// node is a YAML value with its place in its document; mappings keep their order, so
// the output follows the documents.
type node struct {
	kind  kind
	pos   pos
	val   any // a scalar: string, float64 or bool
	keys  []string
	kpos  []pos
	vals  []*node
	items []*node
}

func (n *node) get(key string) *node {
	if n == nil || n.kind != kMap {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// str is a scalar's text, or "" for anything else.
func (n *node) str() string {
	if n == nil || n.kind != kScalar {
		return ""
	}
	switch v := n.val.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func (n *node) describe() string {
	if n == nil {
		return "nothing"
	}
	switch n.kind {
	case kMap:
		return "a mapping"
	case kList:
		return "a list"
	case kNull:
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

// reader turns one document's bytes into nodes and collects its errors.
type reader struct {
	file  string
	errs  *Errors
	nodes int
}

func (r *reader) errAt(p pos, format string, args ...any) {
	if len(*r.errs) >= maxErrors {
		return
	}
	*r.errs = append(*r.errs, &Error{File: r.file, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)})
}

func (r *reader) parse(data []byte) *node {
	if len(data) > MaxDocSize {
		r.errAt(pos{}, "the document is %d bytes; at most %d are read", len(data), MaxDocSize)
		return nil
	}
	data = []byte(strings.TrimPrefix(string(data), "\ufeff"))
	f, err := parseAST(data)
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			tk := ye.GetToken()
			r.errAt(pos{tk.Position.Line, tk.Position.Column}, "YAML: %s", ye.GetMessage())
		} else {
			r.errAt(pos{1, 1}, "YAML: %v", err)
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
		r.errAt(pos{1, 1}, "the document is empty; an AsyncAPI document starts with asyncapi: 3.0.0")
		return nil
	}
	if len(docs) > 1 {
		r.errAt(posOf(docs[1].Body), "a file holds one AsyncAPI document; this is a second (give each its own file)")
		return nil
	}
	return r.convert(docs[0].Body, 0)
}

// parseAST runs the YAML parser, turning a panic inside it into an error.
func parseAST(data []byte) (f *ast.File, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			f, err = nil, fmt.Errorf("the YAML parser could not read the document (%v)", rec)
		}
	}()
	return parser.ParseBytes(data, 0)
}

func posOf(n ast.Node) pos {
	if n == nil || n.GetToken() == nil {
		return pos{}
	}
	tk := n.GetToken()
	return pos{tk.Position.Line, tk.Position.Column}
}

func (r *reader) convert(n ast.Node, depth int) *node {
	r.nodes++
	p := posOf(n)
	if r.nodes > maxNodes {
		if r.nodes == maxNodes+1 {
			r.errAt(p, "the document has more than %d values; at most that many are read", maxNodes)
		}
		return nil
	}
	if depth > maxDepth {
		r.errAt(p, "values nested more than %d deep", maxDepth)
		return nil
	}
	switch x := n.(type) {
	case nil, *ast.NullNode, *ast.CommentNode, *ast.CommentGroupNode:
		return &node{kind: kNull, pos: p}
	case *ast.StringNode:
		return &node{kind: kScalar, pos: p, val: x.Value}
	case *ast.LiteralNode:
		s := ""
		if x.Value != nil {
			s = x.Value.Value
		}
		return &node{kind: kScalar, pos: p, val: s}
	case *ast.IntegerNode:
		var f float64
		switch v := x.Value.(type) {
		case int64:
			f = float64(v)
		case uint64:
			f = float64(v)
		}
		return &node{kind: kScalar, pos: p, val: f}
	case *ast.FloatNode:
		if math.IsInf(x.Value, 0) || math.IsNaN(x.Value) {
			r.errAt(p, "infinity and NaN are not JSON values")
			return nil
		}
		return &node{kind: kScalar, pos: p, val: x.Value}
	case *ast.InfinityNode, *ast.NanNode:
		r.errAt(p, "infinity and NaN are not JSON values")
		return nil
	case *ast.BoolNode:
		return &node{kind: kScalar, pos: p, val: x.Value}
	case *ast.TagNode:
		r.errAt(p, "YAML tags (%s) are not read; write the value plainly", x.Start.Value)
		return nil
	case *ast.AnchorNode, *ast.AliasNode, *ast.MergeKeyNode:
		r.errAt(p, "YAML anchors, aliases and merge keys are not read; share a value with $ref instead")
		return nil
	case *ast.MappingValueNode:
		return r.mapping(p, []*ast.MappingValueNode{x}, depth)
	case *ast.MappingNode:
		return r.mapping(p, x.Values, depth)
	case *ast.SequenceNode:
		out := &node{kind: kList, pos: p}
		for _, v := range x.Values {
			c := r.convert(v, depth+1)
			if c == nil {
				return nil
			}
			out.items = append(out.items, c)
		}
		return out
	}
	r.errAt(p, "a YAML %s is not read", n.Type())
	return nil
}

func (r *reader) mapping(p pos, values []*ast.MappingValueNode, depth int) *node {
	out := &node{kind: kMap, pos: p}
	if len(values) > 0 {
		out.pos = posOf(values[0].Key)
	}
	for _, mv := range values {
		if _, merge := mv.Key.(*ast.MergeKeyNode); merge {
			r.errAt(posOf(mv.Key), "YAML merge keys (<<) are not read; share a value with $ref instead")
			return nil
		}
		k := r.convert(mv.Key, depth+1)
		if k == nil {
			return nil
		}
		if k.kind != kScalar {
			r.errAt(k.pos, "a key must be plain text")
			return nil
		}
		key := k.str()
		if out.get(key) != nil {
			r.errAt(k.pos, "%s appears twice in this mapping", key)
			return nil
		}
		v := r.convert(mv.Value, depth+1)
		if v == nil {
			return nil
		}
		if v.pos.line == 0 {
			v.pos = k.pos
		}
		out.keys = append(out.keys, key)
		out.kpos = append(out.kpos, k.pos)
		out.vals = append(out.vals, v)
	}
	return out
}
