package contract

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"mfelab/bus"
)

// Change is one difference between two versions of a schema, judged from the side of the
// consumers: Breaking means a consumer written for one version can be handed a message it
// does not expect, or a producer of the old version can send one the new version rejects.
type Change struct {
	Path     string `json:"path"` // where in the message: JSON pointer of the property, "" for the root
	Kind     string `json:"kind"`
	Breaking bool   `json:"breaking"`
	Detail   string `json:"detail"`
}

func (c Change) String() string {
	verdict := "additive"
	if c.Breaking {
		verdict = "BREAKING"
	}
	p := c.Path
	if p == "" {
		p = "/"
	}
	return fmt.Sprintf("%s %s at %s: %s", verdict, c.Kind, p, c.Detail)
}

// Kinds of Change.
const (
	ChangeFieldAdded        = "field-added"
	ChangeFieldRemoved      = "field-removed"
	ChangeTypeChanged       = "type-changed"
	ChangeRequiredAdded     = "required-field-added"
	ChangeBecameRequired    = "became-required"
	ChangeBecameOptional    = "became-optional"
	ChangeEnumNarrowed      = "enum-narrowed"
	ChangeEnumWidened       = "enum-widened"
	ChangeClosedObjectGrew  = "closed-object-grew"
	ChangeConstraint        = "constraint-changed"
	ChangeConstraintLoosend = "constraint-loosened"
	ChangeDialect           = "dialect-changed"
	ChangeUnanalysed        = "keyword-changed"
)

// Compare lists the changes from old to next. It reads the two schema documents itself
// (no library classifies compatibility) and understands type, enum, const, properties,
// required, additionalProperties, items, the numeric, length and count limits, pattern,
// format, multipleOf and uniqueItems, and follows $ref into $defs (or definitions, an
// anchor, any pointer within the document), so moving a subschema under $defs is no change.
//
// Breaking: a removed field, a changed type, a new required field (old messages lack it),
// a field that became required or optional, a narrowed enum or const, a field added where
// the old schema closed the object, an object that became closed, a tightened or new
// limit, pattern, format, multipleOf or uniqueItems, a schema that became false, and a
// changed $schema draft. Additive: an optional field, a widened enum and a loosened limit
// (consumers must tolerate the new values).
//
// Conservatively breaking: any change at all to a keyword it does not analyse: allOf,
// anyOf, oneOf, not, if/then/else, patternProperties, propertyNames, dependentRequired,
// dependentSchemas, dependencies, contains, prefixItems, tuple items, additionalItems,
// unevaluatedProperties, unevaluatedItems, $dynamicRef and $recursiveRef, and a $ref that
// leaves the document. Such a keyword is compared by meaning-preserving form (references
// inlined, numbers normalised, annotations dropped), so only a real edit counts.
// Annotations (title, description, examples, default, deprecated, ...) never count.
func Compare(old, next *bus.Schema) []Change {
	o, errO := parseDoc(old.Source())
	n, errN := parseDoc(next.Source())
	if errO != nil || errN != nil {
		return []Change{{Kind: ChangeUnanalysed, Breaking: true, Detail: "the schemas could not be read for comparison"}}
	}
	c := &comparer{old: o, next: n}
	if o.draft != n.draft {
		c.add("", ChangeDialect, true, "$schema went from %s to %s; keywords may mean other things", o.draft, n.draft)
	}
	c.compare(o.root, n.root, "", 0)
	return c.out
}

type comparer struct {
	old, next *doc
	out       []Change
	stack     [][2]string // pairs of reference chains being compared, against cycles
}

func (c *comparer) add(path, kind string, breaking bool, format string, args ...any) {
	c.out = append(c.out, Change{Path: path, Kind: kind, Breaking: breaking, Detail: fmt.Sprintf(format, args...)})
}

// maxDepth bounds how deep two schemas are compared; deeper than any contract a person
// writes, and it stops a pair of documents built to recurse forever.
const maxDepth = 64

func (c *comparer) compare(oNode, nNode any, path string, depth int) {
	c.compareVia(oNode, nNode, path, depth, nil, nil)
}

func (c *comparer) compareVia(oNode, nNode any, path string, depth int, oVia, nVia []string) {
	if depth > maxDepth {
		c.add(path, ChangeUnanalysed, true, "nested too deep to compare; treated as breaking")
		return
	}
	before := len(oVia) + len(nVia)
	o, oVia, oTrue := c.old.effective(oNode, oVia)
	n, nVia, nTrue := c.next.effective(nNode, nVia)
	if len(oVia)+len(nVia) > before { // this node followed a reference
		key := [2]string{strings.Join(oVia, " "), strings.Join(nVia, " ")}
		if slices.Contains(c.stack, key) {
			return // the same pair is already being compared further up: a recursive schema
		}
		c.stack = append(c.stack, key)
		defer func() { c.stack = c.stack[:len(c.stack)-1] }()
	}
	switch {
	case !oTrue && !nTrue:
		return
	case !nTrue:
		c.add(path, ChangeConstraint, true, "no value is allowed any more (the schema became false)")
		return
	case !oTrue:
		c.add(path, ChangeConstraintLoosend, false, "values are allowed where none were (the schema was false); consumers must tolerate them")
		return
	}

	ot, nt := typeSet(o["type"]), typeSet(n["type"])
	if !slices.Equal(ot, nt) {
		c.add(path, ChangeTypeChanged, true, "type %s became %s", typeList(ot), typeList(nt))
		return // the rest compares unlike things
	}
	c.compareEnum(o, n, path)
	c.compareLimits(o, n, path)
	c.compareProperties(o, n, path, depth, oVia, nVia)
	c.compareItems(o, n, path, depth, oVia, nVia)
	c.compareUnanalysed(o, n, path)
}

func (c *comparer) compareEnum(o, n map[string]any, path string) {
	ov, oHas := allowed(o)
	nv, nHas := allowed(n)
	switch {
	case !oHas && nHas:
		c.add(path, ChangeEnumNarrowed, true, "now restricted to %s", strings.Join(nv, ", "))
	case oHas && !nHas:
		c.add(path, ChangeEnumWidened, false, "no longer restricted to a list of values")
	case oHas:
		removed, added := setDiff(ov, nv)
		if len(removed) > 0 {
			c.add(path, ChangeEnumNarrowed, true, "no longer allows %s", strings.Join(removed, ", "))
		}
		if len(added) > 0 {
			c.add(path, ChangeEnumWidened, false, "now also allows %s; consumers must tolerate values they do not know", strings.Join(added, ", "))
		}
	}
}

// allowed is the list of values enum and const permit, in canonical JSON; both present
// means their intersection.
func allowed(m map[string]any) ([]string, bool) {
	var list []string
	enum, hasEnum := m["enum"].([]any)
	if hasEnum {
		for _, v := range enum {
			list = append(list, canonJSON(v))
		}
	}
	if cv, ok := m["const"]; ok {
		k := canonJSON(cv)
		if hasEnum && !slices.Contains(list, k) {
			return []string{}, true
		}
		return []string{k}, true
	}
	return list, hasEnum
}

func setDiff(old, next []string) (removed, added []string) {
	for _, v := range old {
		if !slices.Contains(next, v) {
			removed = append(removed, v)
		}
	}
	for _, v := range next {
		if !slices.Contains(old, v) {
			added = append(added, v)
		}
	}
	return removed, added
}

// limits are the keywords that bound a value; lower says whether a larger value tightens.
var limits = []struct {
	name  string
	lower bool
}{
	{"minimum", true}, {"exclusiveMinimum", true}, {"maximum", false}, {"exclusiveMaximum", false},
	{"minLength", true}, {"maxLength", false}, {"minItems", true}, {"maxItems", false},
	{"minProperties", true}, {"maxProperties", false}, {"minContains", true}, {"maxContains", false},
}

func (c *comparer) compareLimits(o, n map[string]any, path string) {
	for _, l := range limits {
		ov, oHas := o[l.name]
		nv, nHas := n[l.name]
		if !oHas && !nHas {
			continue
		}
		or, oNum := number(ov)
		nr, nNum := number(nv)
		if (oHas && !oNum) || (nHas && !nNum) { // draft-4 boolean exclusive limits and the like
			if canonJSON(ov) != canonJSON(nv) {
				c.add(path, ChangeUnanalysed, true, "%s changed from %s to %s; treated as breaking", l.name, canonJSON(ov), canonJSON(nv))
			}
			continue
		}
		switch {
		case !oHas:
			c.add(path, ChangeConstraint, true, "%s %s added", l.name, numText(nr))
		case !nHas:
			c.add(path, ChangeConstraintLoosend, false, "%s %s removed; consumers must tolerate values beyond it", l.name, numText(or))
		case or.Cmp(nr) == 0:
		case (or.Cmp(nr) < 0) == l.lower:
			c.add(path, ChangeConstraint, true, "%s went from %s to %s", l.name, numText(or), numText(nr))
		default:
			c.add(path, ChangeConstraintLoosend, false, "%s went from %s to %s; consumers must tolerate values beyond the old limit", l.name, numText(or), numText(nr))
		}
	}
	for _, k := range []string{"pattern", "format", "multipleOf"} {
		ov, oHas := o[k]
		nv, nHas := n[k]
		switch {
		case nHas && (!oHas || canonJSON(ov) != canonJSON(nv)):
			c.add(path, ChangeConstraint, true, "%s is now %s", k, canonJSON(nv))
		case oHas && !nHas:
			c.add(path, ChangeConstraintLoosend, false, "%s %s removed; consumers must tolerate values it rejected", k, canonJSON(ov))
		}
	}
	ou, _ := o["uniqueItems"].(bool)
	nu, _ := n["uniqueItems"].(bool)
	if nu && !ou {
		c.add(path, ChangeConstraint, true, "items must now be unique")
	} else if ou && !nu {
		c.add(path, ChangeConstraintLoosend, false, "items may now repeat; consumers must tolerate duplicates")
	}
}

func (c *comparer) compareProperties(o, n map[string]any, path string, depth int, oVia, nVia []string) {
	oProps, _ := o["properties"].(map[string]any)
	nProps, _ := n["properties"].(map[string]any)
	oReq, nReq := names(o["required"]), names(n["required"])
	all := make([]string, 0, len(oProps)+len(nProps))
	for _, set := range []map[string]any{oProps, nProps} {
		for k := range set {
			all = append(all, k)
		}
	}
	all = append(append(all, oReq...), nReq...)
	slices.Sort(all)
	all = slices.Compact(all)

	oAddl, oHasAddl := o["additionalProperties"]
	nAddl, nHasAddl := n["additionalProperties"]
	oClosed, nClosed := oAddl == false, nAddl == false
	for _, name := range all {
		p := path + "/" + escapePointer(name)
		op, inOld := oProps[name]
		np, inNew := nProps[name]
		wasReq, isReq := slices.Contains(oReq, name), slices.Contains(nReq, name)
		inOld, inNew = inOld || wasReq, inNew || isReq
		switch {
		case inOld && !inNew:
			c.add(p, ChangeFieldRemoved, true, "field %q was removed; consumers that read it break (deprecate it instead)", name)
		case !inOld && inNew && isReq:
			c.add(p, ChangeRequiredAdded, true, "new field %q is required; messages of the old version lack it (make it optional or give it a default)", name)
		case !inOld && inNew && oClosed:
			c.add(p, ChangeClosedObjectGrew, true, "field %q added where the old version allows no other fields", name)
		case !inOld && inNew:
			c.add(p, ChangeFieldAdded, false, "optional field %q added", name)
			if oHasAddl {
				// old messages may carry the field already, checked by additionalProperties
				c.compareVia(oAddl, np, p, depth+1, oVia, nVia)
			}
		default:
			if !wasReq && isReq {
				c.add(p, ChangeBecameRequired, true, "field %q became required; old messages may lack it", name)
			}
			if wasReq && !isReq {
				c.add(p, ChangeBecameOptional, true, "field %q became optional; consumers that rely on it break", name)
			}
			c.compareVia(orTrue(op), orTrue(np), p, depth+1, oVia, nVia)
		}
	}
	switch {
	case nClosed && !oClosed:
		c.add(path, ChangeConstraint, true, "no longer allows fields it does not list")
	case oClosed && !nClosed:
		c.add(path, ChangeConstraintLoosend, false, "now allows fields it does not list; consumers must ignore them")
	case !oClosed && !nClosed && (oHasAddl || nHasAddl):
		c.compareVia(orTrue(oAddl), orTrue(nAddl), path+"/additionalProperties", depth+1, oVia, nVia)
	}
}

func (c *comparer) compareItems(o, n map[string]any, path string, depth int, oVia, nVia []string) {
	oi, oHas := o["items"]
	ni, nHas := n["items"]
	if !oHas && !nHas {
		return
	}
	_, oTuple := oi.([]any)
	_, nTuple := ni.([]any)
	if oTuple || nTuple { // draft 2019 and older tuples: compared as written
		if canonJSON(c.old.canon(oi, nil)) != canonJSON(c.next.canon(ni, nil)) {
			c.add(path+"/items", ChangeUnanalysed, true, "tuple items changed; this comparison does not analyse tuples, so any change counts as breaking")
		}
		return
	}
	c.compareVia(orTrue(oi), orTrue(ni), path+"/items", depth+1, oVia, nVia)
}

func (c *comparer) compareUnanalysed(o, n map[string]any, path string) {
	var kws []string
	for k := range unanalysed {
		kws = append(kws, k)
	}
	_, oRef := o["$ref"]
	_, nRef := n["$ref"]
	if oRef || nRef { // a reference that could not be folded in
		kws = append(kws, "$ref")
	}
	slices.Sort(kws)
	for _, k := range kws {
		ov, oHas := o[k]
		nv, nHas := n[k]
		if !oHas && !nHas {
			continue
		}
		if canonJSON(c.old.canon(ov, nil)) == canonJSON(c.next.canon(nv, nil)) && oHas == nHas {
			continue
		}
		c.add(path, ChangeUnanalysed, true, "%s changed; this comparison does not analyse %s, so any change to it counts as breaking", k, k)
	}
}

func number(v any) (*big.Rat, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, false
	}
	return new(big.Rat).SetString(n.String())
}

func numText(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func typeSet(v any) []string {
	var out []string
	switch t := v.(type) {
	case string:
		out = []string{t}
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func typeList(t []string) string {
	if len(t) == 0 {
		return "any"
	}
	return strings.Join(t, "|")
}

func names(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func orTrue(v any) any {
	if v == nil {
		return true
	}
	return v
}
