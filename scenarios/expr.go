package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
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

// object is a JSON object that keeps its keys in the order they were written.
type object struct {
	keys []string
	vals map[string]any
}

func newObject() *object { return &object{vals: map[string]any{}} }

func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// MarshalJSON writes the keys in their order.
func (o *object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		vb, err := json.Marshal(jsonable(o.vals[k]))
		if err != nil {
			return nil, err
		}
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// jsonable turns a value into what encoding/json writes as the file means it: a
// duration as its text.
func jsonable(v any) any {
	switch x := v.(type) {
	case time.Duration:
		return x.String()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	}
	return v
}

// fromJSON decodes JSON into values, objects keeping their key order.
func fromJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeJSONValue(dec, 0)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func decodeJSONValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxExprDepth {
		return nil, errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := newObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeJSONValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				o.set(k, v)
			}
			_, err := dec.Token()
			return o, err
		case '[':
			var l []any
			for dec.More() {
				v, err := decodeJSONValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := dec.Token()
			if l == nil {
				l = []any{}
			}
			return l, err
		}
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	return tok, nil
}

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
		s, err := render(v)
		if err != nil {
			return nil, err
		}
		sb.WriteString(s)
		if sb.Len() > maxValueSize {
			return nil, fmt.Errorf("the text grows past %d bytes", maxValueSize)
		}
	}
	return sb.String(), nil
}

// render writes a value into text: strings as they are, numbers as JSON writes them,
// durations as Go writes them ("1.5s"), null as nothing, lists and objects as JSON.
func render(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return formatNumber(x), nil
	case time.Duration:
		return x.String(), nil
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return "", err
	}
	if len(b) > maxValueSize {
		return "", fmt.Errorf("a value renders to %d bytes; at most %d are allowed", len(b), maxValueSize)
	}
	return string(b), nil
}

func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	b, _ := json.Marshal(f)
	return string(b)
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

type exprParser struct {
	src   string
	pos   int
	depth int
}

func (p *exprParser) errf(format string, args ...any) error {
	return &ExprError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *exprParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
}

func (p *exprParser) peek(s string) bool {
	p.skipSpace()
	return strings.HasPrefix(p.src[p.pos:], s)
}

func (p *exprParser) accept(s string) bool {
	if p.peek(s) {
		p.pos += len(s)
		return true
	}
	return false
}

var binaryLevels = [][]string{
	{"||"},
	{"&&"},
	{"==", "!=", "<=", ">=", "<", ">"},
	{"+", "-"},
	{"*", "/", "%"},
}

func (p *exprParser) parseExpr(level int) (expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxExprDepth*4 {
		return nil, p.errf("expression nested more than %d deep", maxExprDepth)
	}
	if level == len(binaryLevels) {
		return p.parseUnary()
	}
	l, err := p.parseExpr(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		op := ""
		for _, o := range binaryLevels[level] {
			if p.peek(o) {
				op = o
				break
			}
		}
		if op == "" {
			return l, nil
		}
		p.pos += len(op)
		r, err := p.parseExpr(level + 1)
		if err != nil {
			return nil, err
		}
		l = &binaryExpr{op: op, l: l, r: r}
		if level == 2 { // comparisons do not chain
			return l, nil
		}
	}
}

func (p *exprParser) parseUnary() (expr, error) {
	if p.depth > maxExprDepth*4 {
		return nil, p.errf("expression nested more than %d deep", maxExprDepth)
	}
	for _, op := range []string{"!", "-"} {
		if p.peek(op) && !p.peek("!=") {
			p.pos++
			p.depth++
			x, err := p.parseUnary()
			p.depth--
			if err != nil {
				return nil, err
			}
			return &unaryExpr{op: op, x: x}, nil
		}
	}
	x, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.accept("."):
			name := p.ident()
			if name == "" {
				return nil, p.errf("want a name after .")
			}
			x = &fieldExpr{x: x, name: name}
		case p.accept("["):
			i, err := p.parseExpr(0)
			if err != nil {
				return nil, err
			}
			if !p.accept("]") {
				return nil, p.errf("want ]")
			}
			x = &indexExpr{x: x, i: i}
		default:
			return x, nil
		}
	}
}

func isIdentStart(c byte) bool { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isIdentPart(c byte) bool  { return isIdentStart(c) || c == '-' || (c >= '0' && c <= '9') }

// ident reads a name: a letter or _, then letters, digits, _ and -. A name with - in it
// (a knob such as open-timeout) is one name, so subtraction needs spaces: a - b.
func (p *exprParser) ident() string {
	p.skipSpace()
	start := p.pos
	if p.pos < len(p.src) && isIdentStart(p.src[p.pos]) {
		p.pos++
		for p.pos < len(p.src) && isIdentPart(p.src[p.pos]) {
			p.pos++
		}
	}
	return p.src[start:p.pos]
}

func (p *exprParser) parsePrimary() (expr, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return nil, p.errf("the expression ends too soon")
	}
	c := p.src[p.pos]
	switch {
	case c == '(':
		p.pos++
		x, err := p.parseExpr(0)
		if err != nil {
			return nil, err
		}
		if !p.accept(")") {
			return nil, p.errf("want )")
		}
		return x, nil
	case c == '[':
		p.pos++
		l := &listExpr{}
		for !p.accept("]") {
			if len(l.elems) > 0 && !p.accept(",") {
				return nil, p.errf("want , or ] in a list")
			}
			x, err := p.parseExpr(0)
			if err != nil {
				return nil, err
			}
			l.elems = append(l.elems, x)
		}
		return l, nil
	case c == '"' || c == '\'':
		return p.parseString(c)
	case c >= '0' && c <= '9':
		return p.parseNumber()
	case isIdentStart(c):
		name := p.ident()
		switch name {
		case "true":
			return &litExpr{true}, nil
		case "false":
			return &litExpr{false}, nil
		case "null":
			return &litExpr{nil}, nil
		}
		if p.accept("(") {
			fn, ok := funcs[name]
			if !ok {
				return nil, p.errf("no function %s; the functions are: %s", name, funcNames())
			}
			call := &callExpr{fn: name}
			for !p.accept(")") {
				if len(call.args) > 0 && !p.accept(",") {
					return nil, p.errf("want , or ) after an argument of %s", name)
				}
				x, err := p.parseExpr(0)
				if err != nil {
					return nil, err
				}
				call.args = append(call.args, x)
			}
			if len(call.args) < fn.min || (fn.max >= 0 && len(call.args) > fn.max) {
				return nil, p.errf("%s takes %s, got %d", name, fn.arity(), len(call.args))
			}
			return call, nil
		}
		return &rootExpr{name: name}, nil
	}
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return nil, p.errf("unexpected %q", r)
}

func (p *exprParser) parseString(q byte) (expr, error) {
	start := p.pos
	p.pos++
	var sb strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == q:
			p.pos++
			return &litExpr{sb.String()}, nil
		case c == '\\' && p.pos+1 < len(p.src):
			p.pos++
			switch e := p.src[p.pos]; e {
			case 'n':
				sb.WriteByte('\n')
			case 't':
				sb.WriteByte('\t')
			default:
				sb.WriteByte(e)
			}
		default:
			sb.WriteByte(c)
		}
		p.pos++
	}
	p.pos = start
	return nil, p.errf("the string is not closed")
}

func (p *exprParser) parseNumber() (expr, error) {
	start := p.pos
	for p.pos < len(p.src) && (p.src[p.pos] >= '0' && p.src[p.pos] <= '9' || p.src[p.pos] == '.') {
		p.pos++
	}
	// a unit makes it a duration: 200ms, 1.5s, 1h30m
	if p.pos < len(p.src) && (isIdentStart(p.src[p.pos]) || strings.HasPrefix(p.src[p.pos:], "µ")) {
		for p.pos < len(p.src) {
			c := p.src[p.pos]
			if (c >= '0' && c <= '9') || c == '.' || (c >= 'a' && c <= 'z') {
				p.pos++
				continue
			}
			if strings.HasPrefix(p.src[p.pos:], "µ") {
				p.pos += len("µ")
				continue
			}
			break
		}
		d, err := time.ParseDuration(p.src[start:p.pos])
		if err != nil {
			p.pos = start
			return nil, p.errf("%q is neither a number nor a duration (such as 250ms or 2s)", p.src[start:p.pos])
		}
		return &litExpr{d}, nil
	}
	f, err := strconv.ParseFloat(p.src[start:p.pos], 64)
	if err != nil {
		p.pos = start
		return nil, p.errf("bad number")
	}
	return &litExpr{f}, nil
}

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

func isText(v any) bool { _, ok := v.(string); return ok }

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

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "text"
	case time.Duration:
		return "a duration"
	case []any:
		return "a list"
	case *object:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// toNumber reads a number; text that is a number counts (an app's state is text), and
// null and empty text are 0, as a state line not set yet.
func toNumber(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case nil:
		return 0, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, fmt.Errorf("%q is not a number", truncate(x, 40))
		}
		return f, nil
	}
	return 0, fmt.Errorf("want a number, got %s", typeName(v))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// truthy: false, null, 0, empty text, "false" and empty lists are false.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != "" && x != "false" && x != "0"
	case time.Duration:
		return x != 0
	case []any:
		return len(x) > 0
	case *object:
		return len(x.keys) > 0
	}
	return true
}

// equal compares values; a number and text that reads as that number are equal (state is
// text), and so are a duration and its text.
func equal(a, b any) bool {
	switch x := a.(type) {
	case float64:
		if f, err := toNumber(b); err == nil && b != nil {
			return f == x
		}
	case time.Duration:
		if s, ok := b.(string); ok {
			d, err := time.ParseDuration(s)
			return err == nil && d == x
		}
	case string:
		switch b.(type) {
		case float64, time.Duration:
			return equal(b, a)
		}
	}
	ra, err1 := render(a)
	rb, err2 := render(b)
	return err1 == nil && err2 == nil && typeName(a) == typeName(b) && ra == rb
}

func compare(a, b any) (int, error) {
	a, b = durationText(a, b), durationText(b, a)
	if da, ok := a.(time.Duration); ok {
		if db, ok := b.(time.Duration); ok {
			return cmpOrdered(da, db), nil
		}
	}
	sa, aStr := a.(string)
	sb, bStr := b.(string)
	if aStr && bStr {
		if fa, err := strconv.ParseFloat(sa, 64); err == nil {
			if fb, err := strconv.ParseFloat(sb, 64); err == nil {
				return cmpOrdered(fa, fb), nil
			}
		}
		return strings.Compare(sa, sb), nil
	}
	fa, err := toNumber(a)
	if err != nil {
		return 0, fmt.Errorf("cannot compare %s with %s", typeName(a), typeName(b))
	}
	fb, err := toNumber(b)
	if err != nil {
		return 0, fmt.Errorf("cannot compare %s with %s", typeName(a), typeName(b))
	}
	return cmpOrdered(fa, fb), nil
}

func cmpOrdered[T int64 | float64 | time.Duration](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ---- functions ----

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
				s, err := render(x)
				if err != nil {
					return nil, err
				}
				sb.WriteString(s)
				if sb.Len() > maxValueSize {
					return nil, fmt.Errorf("the text grows past %d bytes", maxValueSize)
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
