// Package yamltree reads one YAML document into a plain tree of values, each with its
// line and column, for readers of files from outside (scenario files, AsyncAPI
// documents) that report every mistake at its place.
//
// It reads data, not programs: tags, anchors, aliases, merge keys, infinity and NaN are
// refused, as are keys that are not plain text or appear twice, and a document holds at
// most MaxNodes values nested at most MaxDepth deep, so reading any input stays cheap. A
// panic inside the YAML parser becomes an error.
package yamltree

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

// Kind is what a node holds.
type Kind uint8

const (
	Null Kind = iota
	Scalar
	Map
	List
)

// Pos is a place in a document, from 1; zero when not known.
type Pos struct{ Line, Col int }

// Node is a YAML value with its place. A mapping keeps its keys in the document's order.
type Node struct {
	Kind  Kind
	Pos   Pos
	Text  string // a scalar as written (unquoted)
	Val   any    // a scalar's value: string, float64 or bool
	Keys  []*Node
	Vals  []*Node
	Items []*Node
}

// Get finds a key of a mapping; nil when n is not a mapping or has no such key.
func (n *Node) Get(key string) *Node {
	if n == nil {
		return nil
	}
	for i, k := range n.Keys {
		if k.Text == key {
			return n.Vals[i]
		}
	}
	return nil
}

// Words fit the reader's messages to what it reads.
type Words struct {
	Noun    string // what is read: "file", "document"
	TooMany string // said after "the file has more than N values; "
	NotRead string // what becomes of what is refused: "not used in scenario files"
	Instead string // what to do instead of anchors, aliases and merge keys
	Number  string // what infinity and NaN are not: "values a scenario can use"
	Empty   string // said of a document with nothing in it
	Second  string // said of a second document in one input
}

// Reader reads one document with its limits and words, and hands each mistake to Errorf.
type Reader struct {
	MaxNodes, MaxDepth int
	Words              Words
	Errorf             func(at Pos, format string, args ...any)
	nodes              int
}

// Parse reads data (one YAML document, a byte-order mark allowed) into a tree; nil when
// it reports a mistake.
func (r *Reader) Parse(data []byte) *Node {
	data = []byte(strings.TrimPrefix(string(data), "\ufeff"))
	f, err := r.parseAST(data)
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			tk := ye.GetToken()
			r.Errorf(Pos{tk.Position.Line, tk.Position.Column}, "YAML: %s", ye.GetMessage())
		} else {
			r.Errorf(Pos{1, 1}, "YAML: %v", err)
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
		r.Errorf(Pos{1, 1}, "%s", r.Words.Empty)
		return nil
	}
	if len(docs) > 1 {
		r.Errorf(PosOf(docs[1].Body), "%s", r.Words.Second)
		return nil
	}
	return r.convert(docs[0].Body, 0)
}

// parseAST runs the YAML parser, turning a panic inside it into an error.
func (r *Reader) parseAST(data []byte) (f *ast.File, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			f, err = nil, fmt.Errorf("the YAML parser could not read the %s (%v)", r.Words.Noun, rec)
		}
	}()
	return parser.ParseBytes(data, 0)
}

// PosOf is where the YAML parser found n.
func PosOf(n ast.Node) Pos {
	if n == nil || n.GetToken() == nil {
		return Pos{}
	}
	tk := n.GetToken()
	return Pos{tk.Position.Line, tk.Position.Column}
}

func (r *Reader) convert(n ast.Node, depth int) *Node {
	r.nodes++
	at := PosOf(n)
	if r.nodes > r.MaxNodes {
		if r.nodes == r.MaxNodes+1 {
			r.Errorf(at, "the %s has more than %d values; %s", r.Words.Noun, r.MaxNodes, r.Words.TooMany)
		}
		return nil
	}
	if depth > r.MaxDepth {
		r.Errorf(at, "values nested more than %d deep", r.MaxDepth)
		return nil
	}
	switch x := n.(type) {
	case nil, *ast.NullNode, *ast.CommentNode, *ast.CommentGroupNode:
		return &Node{Kind: Null, Pos: at}
	case *ast.StringNode:
		return &Node{Kind: Scalar, Pos: at, Text: x.Value, Val: x.Value}
	case *ast.LiteralNode:
		s := ""
		if x.Value != nil {
			s = x.Value.Value
		}
		return &Node{Kind: Scalar, Pos: at, Text: s, Val: s}
	case *ast.IntegerNode:
		var f float64
		switch v := x.Value.(type) {
		case int64:
			f = float64(v)
		case uint64:
			f = float64(v)
		}
		return &Node{Kind: Scalar, Pos: at, Text: x.GetToken().Value, Val: f}
	case *ast.FloatNode:
		if math.IsInf(x.Value, 0) || math.IsNaN(x.Value) {
			r.Errorf(at, "infinity and NaN are not %s", r.Words.Number)
			return nil
		}
		return &Node{Kind: Scalar, Pos: at, Text: x.GetToken().Value, Val: x.Value}
	case *ast.InfinityNode, *ast.NanNode:
		r.Errorf(at, "infinity and NaN are not %s", r.Words.Number)
		return nil
	case *ast.BoolNode:
		return &Node{Kind: Scalar, Pos: at, Text: strconv.FormatBool(x.Value), Val: x.Value}
	case *ast.TagNode:
		r.Errorf(at, "YAML tags (%s) are %s; write the value plainly", x.Start.Value, r.Words.NotRead)
		return nil
	case *ast.AnchorNode, *ast.AliasNode, *ast.MergeKeyNode:
		r.Errorf(at, "YAML anchors, aliases and merge keys are %s; %s", r.Words.NotRead, r.Words.Instead)
		return nil
	case *ast.MappingValueNode:
		return r.mapping(at, []*ast.MappingValueNode{x}, depth)
	case *ast.MappingNode:
		return r.mapping(at, x.Values, depth)
	case *ast.SequenceNode:
		out := &Node{Kind: List, Pos: at}
		for _, v := range x.Values {
			c := r.convert(v, depth+1)
			if c == nil {
				return nil
			}
			out.Items = append(out.Items, c)
		}
		return out
	}
	r.Errorf(at, "a YAML %s is %s", n.Type(), r.Words.NotRead)
	return nil
}

func (r *Reader) mapping(at Pos, values []*ast.MappingValueNode, depth int) *Node {
	out := &Node{Kind: Map, Pos: at}
	if len(values) > 0 {
		out.Pos = PosOf(values[0].Key)
	}
	for _, mv := range values {
		if _, merge := mv.Key.(*ast.MergeKeyNode); merge {
			r.Errorf(PosOf(mv.Key), "YAML merge keys (<<) are %s; %s", r.Words.NotRead, r.Words.Instead)
			return nil
		}
		k := r.convert(mv.Key, depth+1)
		if k == nil {
			return nil
		}
		if k.Kind != Scalar {
			r.Errorf(k.Pos, "a key must be plain text")
			return nil
		}
		if out.Get(k.Text) != nil {
			r.Errorf(k.Pos, "%s appears twice in this mapping", k.Text)
			return nil
		}
		v := r.convert(mv.Value, depth+1)
		if v == nil {
			return nil
		}
		if v.Pos.Line == 0 {
			v.Pos = k.Pos
		}
		out.Keys = append(out.Keys, k)
		out.Vals = append(out.Vals, v)
	}
	return out
}
