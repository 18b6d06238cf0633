package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The schema document as Compare reads it: decoded once, its local references ($ref to
// $defs, definitions, anchors and JSON pointers) followed, and any subschema put in a
// canonical form in which equal meaning reads equal.

// doc is one schema document, decoded, with what is needed to follow its references.
type doc struct {
	root    any
	draft   string
	id      string         // the root's $id without fragment, to recognise absolute refs to itself
	anchors map[string]any // $anchor, $dynamicAnchor and draft-7 "#name" ids
	legacy  bool           // draft 7 or older: $ref replaces its siblings
}

const draft2020 = "https://json-schema.org/draft/2020-12/schema"

func parseDoc(src []byte) (*doc, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, err
	}
	d := &doc{root: root, draft: draft2020, anchors: map[string]any{}}
	if m, ok := root.(map[string]any); ok {
		if s, ok := m["$schema"].(string); ok {
			d.draft = strings.TrimSuffix(strings.Replace(s, "http://", "https://", 1), "#")
		}
		for _, k := range []string{"$id", "id"} {
			if s, ok := m[k].(string); ok {
				d.id, _, _ = strings.Cut(s, "#")
			}
		}
	}
	d.legacy = strings.Contains(d.draft, "/draft-0")
	d.collectAnchors(root)
	return d, nil
}

func (d *doc) collectAnchors(v any) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range []string{"$anchor", "$dynamicAnchor"} {
			if s, ok := x[k].(string); ok {
				d.anchors[s] = x
			}
		}
		for _, k := range []string{"$id", "id"} {
			if s, ok := x[k].(string); ok && strings.HasPrefix(s, "#") {
				d.anchors[s[1:]] = x
			}
		}
		for _, e := range x {
			d.collectAnchors(e)
		}
	case []any:
		for _, e := range x {
			d.collectAnchors(e)
		}
	}
}

// resolve finds the target of a $ref within the document; ok is false for a reference that
// leaves it.
func (d *doc) resolve(ref string) (any, bool) {
	base, frag, _ := strings.Cut(ref, "#")
	if base != "" && base != d.id {
		return nil, false
	}
	if frag == "" {
		return d.root, true
	}
	if !strings.HasPrefix(frag, "/") {
		t, ok := d.anchors[frag]
		return t, ok
	}
	if f, err := url.PathUnescape(frag); err == nil {
		frag = f
	}
	v := d.root
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// effective is a schema node with its local $ref folded in: the target alone in drafts
// where $ref replaces its siblings, otherwise the target's keywords merged with the
// siblings' when they do not collide (properties and required merge by name). A node whose
// reference cannot be folded keeps its $ref, which is then compared as written. via names
// the references followed, to stop at cycles.
func (d *doc) effective(node any, via []string) (map[string]any, []string, bool) {
	for range 32 { // a chain of refs longer than this is treated as unresolvable
		if b, ok := node.(bool); ok {
			if b {
				return map[string]any{}, via, true
			}
			return nil, via, false
		}
		m, ok := node.(map[string]any)
		if !ok {
			return map[string]any{}, via, true
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, via, true
		}
		target, ok := d.resolve(ref)
		if !ok || slices.Contains(via, ref) {
			return m, via, true
		}
		via = append(slices.Clone(via), ref)
		if d.legacy || onlyAnnotations(m, "$ref") {
			node = target
			continue
		}
		tm, tok := target.(map[string]any)
		if !tok {
			return m, via[:len(via)-1], true
		}
		if _, ok := tm["$ref"]; ok {
			// fold the inner reference first, so the merge sees plain keywords
			inner, v2, t := d.effective(tm, via)
			if !t {
				return m, via[:len(via)-1], true
			}
			tm, via = inner, v2
		}
		merged, ok := mergeSchemas(tm, m)
		if !ok {
			return m, via[:len(via)-1], true
		}
		return merged, via, true
	}
	m, _ := node.(map[string]any)
	return m, via, true
}

// mergeSchemas folds a $ref's target into the node holding it, when the result means the
// same as both applied together.
func mergeSchemas(target, node map[string]any) (map[string]any, bool) {
	out := make(map[string]any, len(target)+len(node))
	for k, v := range target {
		if !annotation[k] {
			out[k] = v
		}
	}
	for k, v := range node {
		if k == "$ref" || annotation[k] {
			continue
		}
		prev, clash := out[k]
		switch {
		case !clash:
			out[k] = v
		case k == "properties":
			pa, ok1 := prev.(map[string]any)
			pb, ok2 := v.(map[string]any)
			if !ok1 || !ok2 {
				return nil, false
			}
			props := make(map[string]any, len(pa)+len(pb))
			for n, s := range pa {
				props[n] = s
			}
			for n, s := range pb {
				if _, dup := props[n]; dup {
					return nil, false
				}
				props[n] = s
			}
			out[k] = props
		case k == "required":
			ra, ok1 := prev.([]any)
			rb, ok2 := v.([]any)
			if !ok1 || !ok2 {
				return nil, false
			}
			out[k] = append(slices.Clone(ra), rb...)
		case canonJSON(prev) == canonJSON(v):
		default:
			return nil, false
		}
	}
	return out, true
}

var annotation = map[string]bool{
	"$schema": true, "$id": true, "id": true, "$anchor": true, "$dynamicAnchor": true, "$recursiveAnchor": true,
	"$defs": true, "definitions": true, "$vocabulary": true, "$comment": true,
	"title": true, "description": true, "default": true, "examples": true, "deprecated": true,
	"readOnly": true, "writeOnly": true, "contentEncoding": true, "contentMediaType": true, "contentSchema": true,
}

// onlyAnnotations says whether m asserts nothing besides the keyword except: unknown
// keywords assert nothing either.
func onlyAnnotations(m map[string]any, except string) bool {
	for k := range m {
		if k != except && (analysed[k] || unanalysed[k]) {
			return false
		}
	}
	return true
}

// analysed are the keywords compare reasons about; unanalysed are the assertions it only
// compares as written.
var analysed = map[string]bool{
	"type": true, "enum": true, "const": true, "properties": true, "required": true, "additionalProperties": true,
	"items": true, "minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true,
	"minLength": true, "maxLength": true, "minItems": true, "maxItems": true, "minProperties": true,
	"maxProperties": true, "minContains": true, "maxContains": true, "pattern": true, "format": true,
	"multipleOf": true, "uniqueItems": true, "$ref": true,
}

var unanalysed = map[string]bool{
	"allOf": true, "anyOf": true, "oneOf": true, "not": true, "if": true, "then": true, "else": true,
	"patternProperties": true, "propertyNames": true, "dependentRequired": true, "dependentSchemas": true,
	"dependencies": true, "contains": true, "prefixItems": true, "additionalItems": true,
	"unevaluatedProperties": true, "unevaluatedItems": true, "$dynamicRef": true, "$recursiveRef": true,
}

// canon is a subschema (or list or map of them) in a form where equal meaning reads
// equal: local references inlined (a cycle becomes a marker), annotations dropped,
// numbers normalised.
func (d *doc) canon(v any, via []string) any {
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok && (d.legacy || onlyAnnotations(x, "$ref")) {
			// a reference alone reads as what it refers to
			if target, ok := d.resolve(ref); ok && !slices.Contains(via, ref) && len(via) <= 32 {
				return d.canon(target, append(slices.Clone(via), ref))
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			switch {
			case annotation[k]:
			case k == "$ref":
				ref, _ := e.(string)
				target, ok := d.resolve(ref)
				if !ok || slices.Contains(via, ref) || len(via) > 32 {
					out[k] = ref
					continue
				}
				out["$ref"] = d.canon(target, append(slices.Clone(via), ref))
			case k == "enum" || k == "const" || k == "default" || k == "required":
				out[k] = e
			case k == "properties" || k == "patternProperties" || k == "dependentSchemas" || k == "dependencies":
				if m, ok := e.(map[string]any); ok {
					sub := make(map[string]any, len(m))
					for name, s := range m {
						sub[name] = d.canon(s, via)
					}
					out[k] = sub
				} else {
					out[k] = e
				}
			default:
				out[k] = d.canon(e, via)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = d.canon(e, via)
		}
		return out
	}
	return v
}

// canonJSON is a value as JSON with object keys sorted and every number written the same
// way whatever its spelling (1, 1.0 and 1e0 are one number).
func canonJSON(v any) string {
	b, err := json.Marshal(normalizeNumbers(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if r, ok := new(big.Rat).SetString(x.String()); ok {
			return json.Number(numText(r))
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeNumbers(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeNumbers(e)
		}
		return out
	}
	return v
}

func escapePointer(k string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}
