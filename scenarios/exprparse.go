package scenarios

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The parser of the template language's expressions (see expr.go): precedence climbing
// over binaryLevels, with a depth limit.
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

func isIdentPart(c byte) bool { return isIdentStart(c) || c == '-' || (c >= '0' && c <= '9') }

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
