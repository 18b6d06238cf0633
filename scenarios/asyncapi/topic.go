package asyncapi

import (
	"fmt"
	"strings"

	"mfelab/bus"
)

// kebab turns a name as teams write it (ItemAdded, item_added, "Item added",
// HTTPRequest) into lower-case words joined by -, the way the lab names things. Any
// character that cannot be in a topic segment separates words; dots are kept when keep
// says so.
func kebab(s string, keepDots bool) string {
	var b strings.Builder
	rs := []rune(s)
	sep := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") && !strings.HasSuffix(b.String(), ".") {
			b.WriteByte('-')
		}
	}
	for i, r := range rs {
		switch {
		case r >= 'A' && r <= 'Z':
			prevLower := i > 0 && (rs[i-1] >= 'a' && rs[i-1] <= 'z' || rs[i-1] >= '0' && rs[i-1] <= '9')
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			prevUpper := i > 0 && rs[i-1] >= 'A' && rs[i-1] <= 'Z'
			if prevLower || (prevUpper && nextLower) {
				sep()
			}
			b.WriteRune(r + ('a' - 'A'))
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '.' && keepDots:
			out := strings.TrimSuffix(b.String(), "-")
			if out != "" && !strings.HasSuffix(out, ".") {
				b.Reset()
				b.WriteString(out + ".")
			}
		default:
			sep()
		}
	}
	return strings.Trim(b.String(), "-.")
}

// appName is an app's name from its document's title: "Cart Service" is cart. A title
// that does not start with a letter gives "".
func appName(title string) string {
	n := kebab(title, false)
	for _, suffix := range []string{"-service", "-api", "-app"} {
		if t, ok := strings.CutSuffix(n, suffix); ok && t != "" {
			n = t
			break
		}
	}
	if n == "" || n[0] < 'a' || n[0] > 'z' {
		return ""
	}
	return n
}

// topicMapping is how one channel address became bus topics.
type topicMapping struct {
	address string
	pattern string // parameters as +: what apps may publish and subscribe
	example string // parameters as example values: what the examples publish
	notes   []string
}

// mapAddress turns an AsyncAPI address (cart/{cartId}/items, cart.item.added,
// /orders/{id}) into a bus topic pattern and an example topic. / and . both separate
// segments; a segment holding a {parameter} becomes + in the pattern and the parameter's
// example (its default, first example or first enum value, else its name) in the
// example; any other character a topic cannot hold becomes -.
func mapAddress(addr string, params map[string]*node) (topicMapping, error) {
	m := topicMapping{address: addr}
	segs := strings.FieldsFunc(addr, func(r rune) bool { return r == '/' || r == '.' })
	if len(segs) == 0 {
		return m, fmt.Errorf("address %q has no segment a topic could be made of", addr)
	}
	var pat, ex []string
	for _, s := range segs {
		if strings.Contains(s, "{") {
			pat = append(pat, "+")
			e := segment(substitute(s, params))
			ex = append(ex, e)
			if s[0] != '{' || s[len(s)-1] != '}' || strings.Count(s, "{") > 1 {
				m.notes = append(m.notes, fmt.Sprintf("%s is one segment with its parameters: + where it is matched", s))
			}
			continue
		}
		t := segment(s)
		if t != s {
			m.notes = append(m.notes, fmt.Sprintf("%s became %s: a topic segment holds letters, digits, _ and - only", s, t))
		}
		pat, ex = append(pat, t), append(ex, t)
	}
	m.pattern, m.example = strings.Join(pat, "."), strings.Join(ex, ".")
	if err := bus.ValidatePattern(m.pattern); err != nil {
		return m, fmt.Errorf("address %q maps to %q, which is not a topic: %v", addr, m.pattern, err)
	}
	if err := bus.ValidateTopic(m.example); err != nil {
		return m, fmt.Errorf("address %q maps to %q, which is not a topic: %v", addr, m.example, err)
	}
	return m, nil
}

// substitute writes each {name} of a segment as the parameter's example, in one pass
// from left to right, so an example that itself holds braces is taken as text.
func substitute(s string, params map[string]*node) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		name := s[i+1 : i+j]
		b.WriteString(s[:i])
		b.WriteString(paramExample(name, params[name]))
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

// segment keeps what a topic segment may hold and turns anything else into -.
func segment(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '-'
		}
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

// paramExample is the value a parameter takes in the examples.
func paramExample(name string, p *node) string {
	if p != nil {
		if d := p.get("default"); d != nil && d.str() != "" {
			return d.str()
		}
		for _, key := range []string{"examples", "enum"} {
			if l := p.get(key); l != nil && l.kind == kList && len(l.items) > 0 && l.items[0].str() != "" {
				return l.items[0].str()
			}
		}
	}
	return name
}
