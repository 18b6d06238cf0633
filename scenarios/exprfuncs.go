package scenarios

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The pure functions of the template language (see expr.go), by name.
type function struct {
	min, max int // max -1: any number
	doc      string
	fn       func(args []any) (any, error)
}

func (f function) arity() string {
	switch {
	case f.max < 0:
		return fmt.Sprintf("at least %d arguments", f.min)
	case f.min == f.max:
		return fmt.Sprintf("%d arguments", f.min)
	}
	return fmt.Sprintf("%d to %d arguments", f.min, f.max)
}

// funcs are the pure functions of the template language, documented in
// docs/scenario-format.md.
var funcs map[string]function

func init() {
	funcs = map[string]function{
		"if": {3, 3, "if(cond, a, b)", nil}, // evaluated lazily in callExpr.eval
		"default": {2, 2, "default(x, y): x unless it is null or empty text", func(a []any) (any, error) {
			if a[0] == nil || a[0] == "" {
				return a[1], nil
			}
			return a[0], nil
		}},
		"len": {1, 1, "len(text|list|object)", func(a []any) (any, error) {
			switch x := a[0].(type) {
			case string:
				return float64(utf8.RuneCountInString(x)), nil
			case []any:
				return float64(len(x)), nil
			case *object:
				return float64(len(x.keys)), nil
			case nil:
				return 0.0, nil
			}
			return nil, fmt.Errorf("len of %s", typeName(a[0]))
		}},
		"min": {1, -1, "min(a, b, ...)", func(a []any) (any, error) { return extreme(a, -1) }},
		"max": {1, -1, "max(a, b, ...)", func(a []any) (any, error) { return extreme(a, 1) }},
		"int": {1, 1, "int(x): the whole number toward zero", func(a []any) (any, error) {
			f, err := toNumber(a[0])
			return math.Trunc(f), err
		}},
		"number": {1, 1, "number(x)", func(a []any) (any, error) { return toNumber(a[0]) }},
		"text":   {1, 1, "text(x): x rendered as text", func(a []any) (any, error) { return render(a[0]) }},
		"duration": {1, 1, `duration("250ms")`, func(a []any) (any, error) {
			switch x := a[0].(type) {
			case time.Duration:
				return x, nil
			case string:
				d, err := time.ParseDuration(strings.TrimSpace(x))
				if err != nil {
					return nil, fmt.Errorf("%q is not a duration", truncate(x, 40))
				}
				return d, nil
			}
			return nil, fmt.Errorf("duration of %s", typeName(a[0]))
		}},
		"seconds": {1, 1, "seconds(d): a duration in seconds", func(a []any) (any, error) {
			d, ok := a[0].(time.Duration)
			if !ok {
				return nil, fmt.Errorf("seconds of %s", typeName(a[0]))
			}
			return d.Seconds(), nil
		}},
		"upper": {1, 1, "upper(s)", strFn(strings.ToUpper)},
		"lower": {1, 1, "lower(s)", strFn(strings.ToLower)},
		"trim":  {1, 1, "trim(s)", strFn(strings.TrimSpace)},
		"concat": {0, -1, "concat(a, b, ...): texts joined, or lists joined", func(a []any) (any, error) {
			if len(a) > 0 {
				if _, ok := a[0].([]any); ok {
					var out []any
					for _, x := range a {
						l, ok := x.([]any)
						if !ok && x != nil {
							return nil, fmt.Errorf("concat of a list and %s", typeName(x))
						}
						out = append(out, l...)
					}
					return capList(out)
				}
			}
			var sb strings.Builder
			for _, x := range a {
				if err := appendRendered(&sb, x); err != nil {
					return nil, err
				}
			}
			return sb.String(), nil
		}},
		"join": {2, 2, "join(list, sep)", func(a []any) (any, error) {
			l, err := asList(a[0])
			if err != nil {
				return nil, err
			}
			sep, err := render(a[1])
			if err != nil {
				return nil, err
			}
			parts := make([]string, len(l))
			size := 0
			for i, x := range l {
				if parts[i], err = render(x); err != nil {
					return nil, err
				}
				size += len(parts[i]) + len(sep)
				if size > maxValueSize {
					return nil, fmt.Errorf("the text grows past %d bytes", maxValueSize)
				}
			}
			return strings.Join(parts, sep), nil
		}},
		"split": {2, 2, "split(s, sep)", func(a []any) (any, error) {
			s, _ := render(a[0])
			sep, _ := render(a[1])
			if s == "" {
				return []any{}, nil
			}
			parts := strings.SplitN(s, sep, maxListElements)
			out := make([]any, len(parts))
			for i, p := range parts {
				out[i] = p
			}
			return out, nil
		}},
		"contains": {2, 2, "contains(text|list, x)", func(a []any) (any, error) {
			if l, ok := a[0].([]any); ok {
				return slices.ContainsFunc(l, func(e any) bool { return equal(e, a[1]) }), nil
			}
			s, _ := render(a[0])
			sub, _ := render(a[1])
			return strings.Contains(s, sub), nil
		}},
		"substr": {2, 3, "substr(s, start[, end]): the characters from start up to end", func(a []any) (any, error) {
			r := []rune(must(render(a[0])))
			lo, err := toNumber(a[1])
			if err != nil {
				return nil, err
			}
			hi := float64(len(r))
			if len(a) == 3 {
				if hi, err = toNumber(a[2]); err != nil {
					return nil, err
				}
			}
			i, j := int(max(0, min(lo, float64(len(r))))), int(max(0, min(hi, float64(len(r)))))
			if j < i {
				j = i
			}
			return string(r[i:j]), nil
		}},
		"has_prefix": {2, 2, "has_prefix(s, prefix)", func(a []any) (any, error) {
			s, _ := render(a[0])
			p, _ := render(a[1])
			return strings.HasPrefix(s, p), nil
		}},
		"has_suffix": {2, 2, "has_suffix(s, suffix)", func(a []any) (any, error) {
			s, _ := render(a[0])
			p, _ := render(a[1])
			return strings.HasSuffix(s, p), nil
		}},
		"replace": {3, 3, "replace(s, old, new)", func(a []any) (any, error) {
			s, _ := render(a[0])
			o, _ := render(a[1])
			n, _ := render(a[2])
			if o == "" {
				return s, nil
			}
			if c := strings.Count(s, o); len(s)+c*(len(n)-len(o)) > maxValueSize {
				return nil, fmt.Errorf("the text grows past %d bytes", maxValueSize)
			}
			return strings.ReplaceAll(s, o, n), nil
		}},
		"repeat": {2, 2, "repeat(s, n)", func(a []any) (any, error) {
			s, _ := render(a[0])
			n, err := toNumber(a[1])
			if err != nil {
				return nil, err
			}
			if n < 0 || float64(len(s))*n > maxValueSize {
				return nil, fmt.Errorf("repeat: the text would be longer than %d bytes", maxValueSize)
			}
			return strings.Repeat(s, int(n)), nil
		}},
		"keys": {1, 1, "keys(object): its keys, in order", func(a []any) (any, error) {
			o, ok := a[0].(*object)
			if !ok {
				if a[0] == nil {
					return []any{}, nil
				}
				return nil, fmt.Errorf("keys of %s", typeName(a[0]))
			}
			out := make([]any, len(o.keys))
			for i, k := range o.keys {
				out[i] = k
			}
			return out, nil
		}},
		"sort": {1, 1, "sort(list)", func(a []any) (any, error) {
			l, err := asList(a[0])
			if err != nil {
				return nil, err
			}
			out := slices.Clone(l)
			slices.SortStableFunc(out, func(x, y any) int { c, _ := compare(x, y); return c })
			return out, nil
		}},
		"json": {1, 1, "json(x): x as JSON text", func(a []any) (any, error) {
			b, err := json.Marshal(jsonable(a[0]))
			if err != nil {
				return nil, err
			}
			if len(b) > maxValueSize {
				return nil, fmt.Errorf("the JSON is longer than %d bytes", maxValueSize)
			}
			return string(b), nil
		}},
		"money": {1, 1, "money(x): a number with two decimals, 89.7 -> \"89.70\"", func(a []any) (any, error) {
			f, err := toNumber(a[0])
			if err != nil {
				return nil, err
			}
			return strconv.FormatFloat(f, 'f', 2, 64), nil
		}},
	}
}

// must drops the error of a render of a value that cannot fail to render.
func must(s string, _ error) string { return s }

func funcNames() string {
	names := make([]string, 0, len(funcs))
	for k := range funcs {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func strFn(f func(string) string) func([]any) (any, error) {
	return func(a []any) (any, error) {
		s, err := render(a[0])
		if err != nil {
			return nil, err
		}
		return f(s), nil
	}
}

func asList(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("want a list, got %s", typeName(v))
}

func capList(l []any) (any, error) {
	if len(l) > maxListElements {
		return nil, fmt.Errorf("a list of more than %d elements", maxListElements)
	}
	if l == nil {
		l = []any{}
	}
	return l, nil
}

func extreme(a []any, sign int) (any, error) {
	if len(a) == 1 {
		if l, ok := a[0].([]any); ok {
			if len(l) == 0 {
				return nil, nil
			}
			a = l
		}
	}
	best := a[0]
	for _, x := range a[1:] {
		c, err := compare(x, best)
		if err != nil {
			return nil, err
		}
		if c*sign > 0 {
			best = x
		}
	}
	if s, ok := best.(string); ok {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, nil
		}
	}
	return best, nil
}

func (e *callExpr) eval(env *evalEnv) (any, error) {
	if err := env.step(); err != nil {
		return nil, err
	}
	if e.fn == "if" {
		c, err := e.args[0].eval(env)
		if err != nil {
			return nil, err
		}
		if truthy(c) {
			return e.args[1].eval(env)
		}
		return e.args[2].eval(env)
	}
	args := make([]any, len(e.args))
	for i, x := range e.args {
		v, err := x.eval(env)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	v, err := funcs[e.fn].fn(args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.fn, err)
	}
	if s, ok := v.(string); ok && len(s) > maxValueSize {
		return nil, fmt.Errorf("%s: the text grows past %d bytes", e.fn, maxValueSize)
	}
	return v, nil
}
