package bus

import (
	"fmt"
	"slices"
	"strings"
)

// SchemaChange is one difference between two versions of a schema, judged from the side
// of the consumers: Breaking means a consumer written for one version can be handed a
// message it does not expect.
type SchemaChange struct {
	Path     string `json:"path"` // JSON pointer of the property, "" for the root
	Kind     string `json:"kind"`
	Breaking bool   `json:"breaking"`
	Detail   string `json:"detail"`
}

func (c SchemaChange) String() string {
	verdict := "additive"
	if c.Breaking {
		verdict = "BREAKING"
	}
	return fmt.Sprintf("%s %s at %s: %s", verdict, c.Kind, pathOrRoot(c.Path), c.Detail)
}

func pathOrRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// Kinds of SchemaChange.
const (
	ChangeFieldAdded       = "field-added"
	ChangeFieldRemoved     = "field-removed"
	ChangeTypeChanged      = "type-changed"
	ChangeRequiredAdded    = "required-field-added"
	ChangeBecameRequired   = "became-required"
	ChangeBecameOptional   = "became-optional"
	ChangeEnumNarrowed     = "enum-narrowed"
	ChangeEnumWidened      = "enum-widened"
	ChangeClosedObjectGrew = "closed-object-grew"
	ChangeConstraint       = "constraint-changed"
)

// CompareSchemas lists the changes from old to next, recursing into properties and array
// items. The breaking ones are those the versioned-contract rules forbid: a removed field,
// a changed type, a new required field (old messages lack it), a field that became
// required or optional, a narrowed enum, a field added where the old schema closed the
// object, and a tightened limit. Adding an optional field is the additive change.
func CompareSchemas(old, next *Schema) []SchemaChange {
	var out []SchemaChange
	compareSchemas(old, next, "", &out)
	return out
}

func compareSchemas(old, next *Schema, path string, out *[]SchemaChange) {
	add := func(kind string, breaking bool, format string, args ...any) {
		*out = append(*out, SchemaChange{Path: path, Kind: kind, Breaking: breaking, Detail: fmt.Sprintf(format, args...)})
	}
	if !sameTypes(old.types, next.types) {
		add(ChangeTypeChanged, true, "type %s became %s", typeList(old.types), typeList(next.types))
		return // the rest compares unlike things
	}
	switch {
	case old.enum == nil && next.enum != nil:
		vals := make([]string, len(next.enum))
		for i, v := range next.enum {
			vals[i] = compactJSON(v)
		}
		add(ChangeEnumNarrowed, true, "now restricted to %s", strings.Join(vals, ", "))
	case old.enum != nil && next.enum == nil:
		add(ChangeEnumWidened, false, "no longer restricted to a list of values")
	case old.enum != nil:
		removed, added := enumDiff(old.enum, next.enum)
		if len(removed) > 0 {
			add(ChangeEnumNarrowed, true, "no longer allows %s", strings.Join(removed, ", "))
		}
		if len(added) > 0 {
			add(ChangeEnumWidened, false, "now also allows %s; consumers must tolerate values they do not know", strings.Join(added, ", "))
		}
	}
	tightened := func(what string, o, n *float64, lower bool) {
		switch {
		case n == nil:
		case o == nil:
			add(ChangeConstraint, true, "%s %v added", what, *n)
		case (lower && *n > *o) || (!lower && *n < *o):
			add(ChangeConstraint, true, "%s went from %v to %v", what, *o, *n)
		}
	}
	tightened("minimum", old.min, next.min, true)
	tightened("maximum", old.max, next.max, false)
	tightened("minLength", intPtrF(old.minLen), intPtrF(next.minLen), true)
	tightened("maxLength", intPtrF(old.maxLen), intPtrF(next.maxLen), false)
	if next.pattern != nil && (old.pattern == nil || old.pattern.String() != next.pattern.String()) {
		add(ChangeConstraint, true, "pattern is now %q", next.pattern.String())
	}

	names := make([]string, 0, len(old.properties)+len(next.properties))
	for n := range old.properties {
		names = append(names, n)
	}
	for n := range next.properties {
		if _, ok := old.properties[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		p := path + "/" + escapePointer(name)
		op, inOld := old.properties[name]
		np, inNew := next.properties[name]
		oldReq, newReq := slices.Contains(old.required, name), slices.Contains(next.required, name)
		rec := func(kind string, breaking bool, format string, args ...any) {
			*out = append(*out, SchemaChange{Path: p, Kind: kind, Breaking: breaking, Detail: fmt.Sprintf(format, args...)})
		}
		switch {
		case inOld && !inNew:
			rec(ChangeFieldRemoved, true, "field %q was removed; consumers that read it break (deprecate it instead)", name)
		case !inOld && inNew && newReq:
			rec(ChangeRequiredAdded, true, "new field %q is required; messages of the old version lack it (make it optional or give it a default)", name)
		case !inOld && inNew && old.addlFalse:
			rec(ChangeClosedObjectGrew, true, "field %q added where the old version allows no other fields", name)
		case !inOld && inNew:
			rec(ChangeFieldAdded, false, "optional field %q added", name)
		default:
			if !oldReq && newReq {
				rec(ChangeBecameRequired, true, "field %q became required; old messages may lack it", name)
			}
			if oldReq && !newReq {
				rec(ChangeBecameOptional, true, "field %q became optional; consumers that rely on it break", name)
			}
			compareSchemas(op, np, p, out)
		}
	}
	if old.items != nil && next.items != nil {
		compareSchemas(old.items, next.items, path+"/items", out)
	}
}

func intPtrF(p *int) *float64 {
	if p == nil {
		return nil
	}
	f := float64(*p)
	return &f
}

func sameTypes(a, b []string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func typeList(t []string) string {
	if len(t) == 0 {
		return "any"
	}
	return strings.Join(t, "|")
}

func enumDiff(old, next []any) (removed, added []string) {
	has := func(list []any, v any) bool {
		return slices.ContainsFunc(list, func(x any) bool { return jsonEqual(x, v) })
	}
	for _, v := range old {
		if !has(next, v) {
			removed = append(removed, compactJSON(v))
		}
	}
	for _, v := range next {
		if !has(old, v) {
			added = append(added, compactJSON(v))
		}
	}
	return removed, added
}
