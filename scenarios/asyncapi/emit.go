package asyncapi

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// yamlWriter writes JSON values as block YAML. In a payload every text is a template
// (docs/scenario-format.md), so there ${ is written $${ to stay literal; schemas are
// taken as written and need no escaping.
type yamlWriter struct {
	b        *strings.Builder
	escaping bool
}

// plainText is text YAML reads back as the same text when written without quotes.
var plainText = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_./@+-]*( [A-Za-z0-9_./@+-]+)*$`)

// yamlWords are plain texts YAML (1.1 or 1.2) may read as something other than text.
var yamlWords = []string{"true", "false", "null", "yes", "no", "on", "off", "y", "n", "nan", "inf"}

func (w yamlWriter) text(s string) string {
	if w.escaping {
		s = strings.ReplaceAll(s, "${", "$${")
	}
	if plainText.MatchString(s) && !slices.Contains(yamlWords, strings.ToLower(s)) {
		return s
	}
	b, _ := json.Marshal(s) // a JSON string is a YAML double-quoted scalar
	return string(b)
}

// inline is v written on one line, when it is short enough to read there and holds no
// mapping inside a mapping or list (those read better as blocks).
func (w yamlWriter) inline(v any, room int) (string, bool) { return w.oneLine(v, room, true) }

func (w yamlWriter) oneLine(v any, room int, flat bool) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "null", true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case string:
		return w.text(x), true
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if m, isMap := e.(*omap); flat && isMap && len(m.keys) > 0 {
				return "", false
			}
			var ok bool
			if parts[i], ok = w.oneLine(e, room, flat); !ok {
				return "", false
			}
		}
		s := "[" + strings.Join(parts, ", ") + "]"
		return s, len(s) <= room
	case *omap:
		if len(x.keys) == 0 {
			return "{}", true
		}
		parts := make([]string, len(x.keys))
		for i, k := range x.keys {
			if m, isMap := x.vals[i].(*omap); flat && isMap && len(m.keys) > 0 {
				return "", false
			}
			s, ok := w.oneLine(x.vals[i], room, flat)
			if !ok {
				return "", false
			}
			parts[i] = w.text(k) + ": " + s
		}
		s := "{" + strings.Join(parts, ", ") + "}"
		return s, len(s) <= room
	}
	return "null", true
}

// mapping writes m's keys at indent; first, when given, replaces the first key's indent
// (for "- " of a list item).
func (w yamlWriter) mapping(m *omap, indent int, first string) {
	for i, k := range m.keys {
		prefix := strings.Repeat(" ", indent)
		if i == 0 && first != "" {
			prefix = first
		}
		key := w.text(k)
		w.b.WriteString(prefix + key + ":")
		w.value(m.vals[i], indent, len(prefix)+len(key)+2)
	}
}

// value writes v after a key at indent that took used columns.
func (w yamlWriter) value(v any, indent, used int) {
	if s, ok := w.inline(v, max(40, 96-used)); ok {
		w.b.WriteString(" " + s + "\n")
		return
	}
	w.b.WriteString("\n")
	w.block(v, indent+2)
}

func (w yamlWriter) block(v any, indent int) {
	switch x := v.(type) {
	case *omap:
		w.mapping(x, indent, "")
	case []any:
		pad := strings.Repeat(" ", indent)
		for _, e := range x {
			switch ev := e.(type) {
			case *omap:
				if len(ev.keys) > 0 {
					w.mapping(ev, indent+2, pad+"- ")
					continue
				}
			case []any:
				if s, ok := w.inline(ev, 96-indent); ok {
					w.b.WriteString(pad + "- " + s + "\n")
				} else {
					w.b.WriteString(pad + "-\n")
					w.block(ev, indent+2)
				}
				continue
			}
			s, _ := w.inline(e, 1<<20)
			w.b.WriteString(pad + "- " + s + "\n")
		}
	default:
		s, _ := w.inline(v, 1<<20)
		w.b.WriteString(strings.Repeat(" ", indent) + s + "\n")
	}
}

// flow is v on one line, as in a comment.
func (w yamlWriter) flow(v any) string {
	s, _ := w.oneLine(v, 1<<20, false)
	return s
}
