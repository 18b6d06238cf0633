package asyncapi

import (
	"errors"
	"fmt"
	"mfelab/scenarios/internal/yamltree"
	"strconv"
	"strings"
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

// The kinds are yamltree's, in its order.
const (
	kNull   = kind(yamltree.Null)
	kScalar = kind(yamltree.Scalar)
	kMap    = kind(yamltree.Map)
	kList   = kind(yamltree.List)
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
	file string
	errs *Errors
}

func (r *reader) errAt(p pos, format string, args ...any) {
	if len(*r.errs) >= maxErrors {
		return
	}
	*r.errs = append(*r.errs, &Error{File: r.file, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)})
}

// readerWords fit the YAML reader's messages to AsyncAPI documents.
var readerWords = yamltree.Words{
	Noun:    "document",
	TooMany: "at most that many are read",
	NotRead: "not read",
	Instead: "share a value with $ref instead",
	Number:  "JSON values",
	Empty:   "the document is empty; an AsyncAPI document starts with asyncapi: 3.0.0",
	Second:  "a file holds one AsyncAPI document; this is a second (give each its own file)",
}

func (r *reader) parse(data []byte) *node {
	if len(data) > MaxDocSize {
		r.errAt(pos{}, "the document is %d bytes; at most %d are read", len(data), MaxDocSize)
		return nil
	}
	yr := yamltree.Reader{MaxNodes: maxNodes, MaxDepth: maxDepth, Words: readerWords,
		Errorf: func(at yamltree.Pos, format string, args ...any) { r.errAt(pos{at.Line, at.Col}, format, args...) }}
	return fromTree(yr.Parse(data))
}

// fromTree is the YAML reader's tree as the importer reads it.
func fromTree(t *yamltree.Node) *node {
	if t == nil {
		return nil
	}
	n := &node{kind: kind(t.Kind), pos: pos{t.Pos.Line, t.Pos.Col}, val: t.Val}
	for i, k := range t.Keys {
		n.keys = append(n.keys, k.Text)
		n.kpos = append(n.kpos, pos{k.Pos.Line, k.Pos.Col})
		n.vals = append(n.vals, fromTree(t.Vals[i]))
	}
	for _, it := range t.Items {
		n.items = append(n.items, fromTree(it))
	}
	return n
}
