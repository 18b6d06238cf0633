package scenarios

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The template language of scenario files. A text is literal except for ${expression};
// "$${" writes a literal "${". A text that is exactly one ${expression} keeps the
// expression's type (a number stays a number in a payload); otherwise every value is
// rendered into the text. Expressions are pure: they read the message, the knobs, the
// variables and the apps' state, and change nothing.

// Limits that keep a hostile file from exhausting memory or time.
const (
	maxTemplateLen  = 4096    // characters of one template's source
	maxExprDepth    = 64      // nesting of parentheses, brackets and calls
	maxValueSize    = 1 << 16 // bytes of one string or rendered value
	maxEvalSteps    = 100_000 // operations in one evaluation
	maxListElements = 10_000  // elements of one list or object made by an expression
)

// An expression yields nil, bool, float64, string, time.Duration, []any or *object.

// ---- templates ----

// template is a parsed text with ${expression} parts.
type template struct {
	src   string
	parts []tmplPart
}

type tmplPart struct {
	lit  string
	expr expr // nil for a literal part
}

// ExprError is a mistake in a template or expression, at a byte offset of its source.
type ExprError struct {
	Offset int
	Msg    string
}

func (e *ExprError) Error() string { return e.Msg }

// parseTemplate parses a text with ${...} parts.
func parseTemplate(src string) (*template, error) {
	if len(src) > maxTemplateLen {
		return nil, &ExprError{Msg: fmt.Sprintf("text is %d characters long; at most %d are allowed", len(src), maxTemplateLen)}
	}
	if !utf8.ValidString(src) {
		return nil, &ExprError{Msg: "text is not valid UTF-8"}
	}
	t := &template{src: src}
	var lit strings.Builder
	i := 0
	for i < len(src) {
		if strings.HasPrefix(src[i:], "$${") {
			lit.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(src[i:], "${") {
			lit.WriteByte(src[i])
			i++
			continue
		}
		if lit.Len() > 0 {
			t.parts = append(t.parts, tmplPart{lit: lit.String()})
			lit.Reset()
		}
		p := &exprParser{src: src, pos: i + 2}
		e, err := p.parseExpr(0)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(src) || src[p.pos] != '}' {
			return nil, p.errf("want } to close the ${ at offset %d", i)
		}
		t.parts = append(t.parts, tmplPart{expr: e})
		i = p.pos + 1
	}
	if lit.Len() > 0 || len(t.parts) == 0 {
		t.parts = append(t.parts, tmplPart{lit: lit.String()})
	}
	return t, nil
}

// single reports whether the template is one expression and nothing else.
func (t *template) single() bool { return len(t.parts) == 1 && t.parts[0].expr != nil }

// literal reports whether the template has no expression, and its text.
func (t *template) literal() (string, bool) {
	if len(t.parts) == 1 && t.parts[0].expr == nil {
		return t.parts[0].lit, true
	}
	return "", false
}

// eval evaluates the template: the expression's value when it is a single one, else the
// rendered text.
func (t *template) eval(env *evalEnv) (any, error) {
	if t.single() {
		return t.parts[0].expr.eval(env)
	}
	var sb strings.Builder
	for _, p := range t.parts {
		if p.expr == nil {
			sb.WriteString(p.lit)
			continue
		}
		v, err := p.expr.eval(env)
		if err != nil {
			return nil, err
		}
		if err := appendRendered(&sb, v); err != nil {
			return nil, err
		}
	}
	return sb.String(), nil
}

// ---- evaluation environment ----

// evalEnv is what an expression can read. Roots are looked up by name.
type evalEnv struct {
	roots map[string]func() (any, error)
	steps int
}

func (env *evalEnv) step() error {
	env.steps++
	if env.steps > maxEvalSteps {
		return fmt.Errorf("the expression takes more than %d steps", maxEvalSteps)
	}
	return nil
}

// ---- expressions ----

type expr interface {
	eval(env *evalEnv) (any, error)
}

type (
	litExpr  struct{ v any }
	rootExpr struct {
		name string
	}
	fieldExpr struct {
		x    expr
		name string
	}
	indexExpr struct{ x, i expr }
	unaryExpr struct {
		op string
		x  expr
	}
	binaryExpr struct {
		op   string
		l, r expr
	}
	callExpr struct {
		fn   string
		args []expr
	}
	listExpr struct{ elems []expr }
)

// ---- evaluation ----

func (e *litExpr) eval(*evalEnv) (any, error) { return e.v, nil }

func (e *rootExpr) eval(env *evalEnv) (any, error) {
	if err := env.step(); err != nil {
		return nil, err
	}
	fn, ok := env.roots[e.name]
	if !ok {
		names := make([]string, 0, len(env.roots))
		for k := range env.roots {
			names = append(names, k)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("%s is not known here; what is: %s", e.name, strings.Join(names, ", "))
	}
	return fn()
}

func (e *fieldExpr) eval(env *evalEnv) (any, error) {
	x, err := e.x.eval(env)
	if err != nil {
		return nil, err
	}
	return member(x, e.name)
}

func (e *indexExpr) eval(env *evalEnv) (any, error) {
	x, err := e.x.eval(env)
	if err != nil {
		return nil, err
	}
	i, err := e.i.eval(env)
	if err != nil {
		return nil, err
	}
	switch k := i.(type) {
	case string:
		return member(x, k)
	case float64:
		l, ok := x.([]any)
		if !ok {
			return nil, fmt.Errorf("[%s] indexes a list, not %s", formatNumber(k), typeName(x))
		}
		n := int(k)
		if n < 0 {
			n += len(l)
		}
		if n < 0 || n >= len(l) || float64(int(k)) != k {
			return nil, nil
		}
		return l[n], nil
	}
	return nil, fmt.Errorf("an index is a name or a number, not %s", typeName(i))
}

// member reads key of an object; a missing key, or any key of null, is null, so a file can
// test for what is not there.
func member(x any, key string) (any, error) {
	switch o := x.(type) {
	case *object:
		v, _ := o.get(key)
		return v, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf(".%s reads an object, not %s", key, typeName(x))
}

func (e *listExpr) eval(env *evalEnv) (any, error) {
	out := make([]any, 0, len(e.elems))
	for _, x := range e.elems {
		v, err := x.eval(env)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (e *unaryExpr) eval(env *evalEnv) (any, error) {
	if err := env.step(); err != nil {
		return nil, err
	}
	x, err := e.x.eval(env)
	if err != nil {
		return nil, err
	}
	if e.op == "!" {
		return !truthy(x), nil
	}
	switch v := x.(type) {
	case time.Duration:
		return -v, nil
	}
	f, err := toNumber(x)
	if err != nil {
		return nil, err
	}
	return -f, nil
}

func (e *binaryExpr) eval(env *evalEnv) (any, error) {
	if err := env.step(); err != nil {
		return nil, err
	}
	l, err := e.l.eval(env)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "&&":
		if !truthy(l) {
			return false, nil
		}
		r, err := e.r.eval(env)
		return truthy(r), err
	case "||":
		if truthy(l) {
			return true, nil
		}
		r, err := e.r.eval(env)
		return truthy(r), err
	}
	r, err := e.r.eval(env)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "==":
		return equal(l, r), nil
	case "!=":
		return !equal(l, r), nil
	case "<", "<=", ">", ">=":
		c, err := compare(l, r)
		if err != nil {
			return nil, err
		}
		return map[string]bool{"<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[e.op], nil
	}
	return arith(e.op, l, r)
}

// durationText reads text such as "250ms" as a duration, for an operation whose other
// side is a duration (a value written plainly in a file is text).
func durationText(v, other any) any {
	if _, ok := other.(time.Duration); !ok {
		return v
	}
	if s, ok := v.(string); ok {
		if d, err := time.ParseDuration(strings.TrimSpace(s)); err == nil {
			return d
		}
	}
	return v
}

func arith(op string, l, r any) (any, error) {
	l, r = durationText(l, r), durationText(r, l)
	ld, lIsD := l.(time.Duration)
	rd, rIsD := r.(time.Duration)
	switch {
	case lIsD && rIsD:
		switch op {
		case "+":
			return ld + rd, nil
		case "-":
			return ld - rd, nil
		case "/":
			if rd == 0 {
				return nil, errors.New("division by a zero duration")
			}
			return float64(ld) / float64(rd), nil
		case "%":
			if rd == 0 {
				return nil, errors.New("remainder of a zero duration")
			}
			return ld % rd, nil
		}
		return nil, fmt.Errorf("cannot %s two durations", opVerb(op))
	case lIsD || rIsD:
		d, other := ld, r
		if rIsD {
			d, other = rd, l
		}
		f, err := toNumber(other)
		if err != nil {
			return nil, err
		}
		switch {
		case op == "*":
			return scaleDuration(d, f)
		case op == "/" && lIsD:
			if f == 0 {
				return nil, errors.New("division by zero")
			}
			return scaleDuration(d, 1/f)
		}
		return nil, fmt.Errorf("cannot %s a duration and a number; write 2 * 100ms, 1s / 4 or 1s + 250ms", opVerb(op))
	}
	a, errA := toNumber(l)
	b, errB := toNumber(r)
	if op == "+" && (errA != nil || errB != nil) && (isText(l) || isText(r)) {
		// + with text that is not a number joins the two as text
		ls, err := render(l)
		if err != nil {
			return nil, err
		}
		rs, err := render(r)
		if err != nil {
			return nil, err
		}
		if len(ls)+len(rs) > maxValueSize {
			return nil, fmt.Errorf("the text grows past %d bytes", maxValueSize)
		}
		return ls + rs, nil
	}
	if errA != nil {
		return nil, errA
	}
	if errB != nil {
		return nil, errB
	}
	var v float64
	switch op {
	case "+":
		v = a + b
	case "-":
		v = a - b
	case "*":
		v = a * b
	case "/":
		if b == 0 {
			return nil, errors.New("division by zero")
		}
		v = a / b
	case "%":
		if b == 0 {
			return nil, errors.New("remainder of division by zero")
		}
		v = math.Mod(a, b)
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil, errors.New("the number is out of range")
	}
	return v, nil
}

func scaleDuration(d time.Duration, f float64) (any, error) {
	v := float64(d) * f
	if math.IsNaN(v) || v > math.MaxInt64 || v < math.MinInt64 {
		return nil, errors.New("the duration is out of range")
	}
	return time.Duration(v), nil
}

func opVerb(op string) string {
	return map[string]string{"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "%": "take the remainder of"}[op]
}
