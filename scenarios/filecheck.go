package scenarios

import (
	"slices"
	"strings"
)

// The checks a scenario file's actions, publishes and templates get while it is
// compiled, so a misspelled name is reported where it is written.
func (c *compiler) checkRetry(r *fileRetry) {
	if r == nil {
		return
	}
	for _, t := range []tmpl{r.MaxAttempts, r.Initial, r.Max, r.Multiplier, r.Jitter} {
		c.checkTmpl(t, rootsSetup)
	}
}

func (c *compiler) checkFault(f *fileFault, roots rootSet) {
	for _, t := range []tmpl{f.Down, f.FailNext, f.Op, f.FailProbability, f.Latency} {
		c.checkTmpl(t, roots)
	}
	if !f.Down.set && !f.FailNext.set && !f.FailProbability.set && !f.Latency.set {
		c.errAt(f.Pos, "a fault sets down:, fail-next:, fail-probability: or latency:")
	}
}

func (c *compiler) checkPublish(p *filePublish, roots rootSet) {
	if p == nil {
		return
	}
	if !p.Topic.set {
		c.errAt(p.Pos, "publish: needs a topic:")
	} else if s, ok := p.Topic.t.literal(); ok {
		c.needTopic(p.Topic.pos, s, "publish: topic")
	}
	c.checkTmpl(p.Topic, roots)
	c.checkPayload(p.Payload, roots)
	c.checkTmpl(p.Correlation, roots)
	c.checkPayload(p.Headers, roots)
	c.checkPublishContract(p)
}

func (c *compiler) checkActions(as []fileAction, roots rootSet) {
	for _, a := range as {
		c.checkAction(a, roots, 0)
	}
}

func (c *compiler) checkAction(a fileAction, roots rootSet, depth int) {
	if depth > 8 {
		c.errAt(a.Pos, "each: nested more than 8 deep")
		return
	}
	verbs := 0
	for _, on := range []bool{a.Set != nil, len(a.Unset) > 0, a.Add != nil, a.Note.set, a.Record != nil, a.Publish != nil, a.Call != "", a.Gather != "",
		a.Saga != nil, a.Fault != nil, a.Each.set, a.After.set, a.Retry, a.Force != nil} {
		if on {
			verbs++
		}
	}
	if verbs != 1 {
		c.errAt(a.Pos, "an action does one thing: set, unset, add, note, record, publish, call, gather, saga, fault, each, after, retry-dead-letters or breaker (it has %d)", verbs)
		return
	}
	c.checkTmpl(a.When, roots)
	if a.App != "" && !c.apps[a.App] {
		c.errAt(a.Pos, "no app %q is declared under apps:", a.App)
	}
	if a.App == "" && (a.Set != nil || len(a.Unset) > 0 || a.Add != nil || a.Note.set || a.Publish != nil) && !roots["state"] {
		c.errAt(a.Pos, "say which app's with app: (only a reaction has an app of its own)")
	}
	for _, m := range []*ynode{a.Set, a.Add, a.Record} {
		if m != nil && m.kind != yMap {
			c.errAt(m.pos, "want key: value lines, got %s", m.describe())
		} else if m != nil {
			for _, k := range m.keys {
				c.checkPayload(k, roots)
			}
			c.checkPayload(m, roots)
		}
	}
	for _, k := range a.Unset {
		c.checkTmpl(k, roots)
	}
	c.checkTmpl(a.Note, roots)
	c.checkPublish(a.Publish, roots)
	if a.Call != "" && !c.calls[a.Call] {
		c.errAt(a.Pos, "no call %q is declared under calls:", a.Call)
	}
	if a.Gather != "" && !c.aggs[a.Gather] {
		c.errAt(a.Pos, "no aggregator %q is declared under aggregators:", a.Gather)
	}
	if s := a.Saga; s != nil {
		if !c.sagas[s.Name] {
			c.errAt(s.Pos, "no saga %q is declared under sagas:", s.Name)
		}
		if !s.ID.set {
			c.errAt(s.Pos, "saga %s: an instance needs an id:", s.Name)
		}
		c.checkTmpl(s.ID, roots)
		c.checkPayload(s.Input, roots)
		c.checkPublish(s.Announce, roots)
	}
	if f := a.Fault; f != nil {
		c.needApp(f.Pos, f.App, "fault")
		c.checkFault(f, roots)
	}
	if fo := a.Force; fo != nil {
		if !c.breakers[fo.Name] {
			c.errAt(fo.Pos, "no breaker %q is declared under breakers:", fo.Name)
		}
		if !slices.Contains([]string{"open", "closed", "released"}, fo.State) {
			c.errAt(fo.Pos, "breaker %s: state: open, closed or released, got %q", fo.Name, fo.State)
		}
	}
	if a.Each.set {
		as := orDefault(a.As, "item")
		if !isName(as) {
			c.errAt(a.Pos, "as: %q is not a name", a.As)
		}
		c.checkTmpl(a.Each, roots)
		inner := rootsWith(roots, as)
		for _, x := range a.Do {
			c.checkAction(x, inner, depth+1)
		}
	} else if a.After.set {
		c.checkTmpl(a.After, roots)
		for _, x := range a.Do {
			c.checkAction(x, roots, depth+1)
		}
	} else if len(a.Do) > 0 {
		c.errAt(a.Pos, "do: under an action goes with each: or after:")
	}
}

type rootSet map[string]bool

func rootsWith(base rootSet, more ...string) rootSet {
	out := rootSet{}
	for k := range base {
		out[k] = true
	}
	for _, m := range more {
		out[m] = true
	}
	return out
}

// checkTmpl checks that a template reads only names known where it runs, and knobs and
// vars that exist.
func (c *compiler) checkTmpl(t tmpl, roots rootSet) {
	if !t.set {
		return
	}
	for _, p := range t.t.parts {
		if p.expr != nil {
			c.walk(t, p.expr, roots)
		}
	}
}

func (c *compiler) walk(t tmpl, e expr, roots rootSet) {
	switch x := e.(type) {
	case *rootExpr:
		if !roots[x.name] {
			c.errAt(t.pos, "%s is not known here; what is: %s", x.name, strings.Join(sortedKeys(roots), ", "))
		}
	case *fieldExpr:
		if r, ok := x.x.(*rootExpr); ok {
			switch {
			case r.name == "knob" && roots["knob"] && !c.knobs[x.name]:
				c.errAt(t.pos, "no knob %q; the knobs are: %s", x.name, orDefault(strings.Join(sortedKeys(c.knobs), ", "), "(none)"))
				return
			case r.name == "var" && roots["var"] && !slices.Contains(c.vars, x.name):
				c.errAt(t.pos, "no var %q (a var can read only the vars above it); the vars are: %s", x.name, orDefault(strings.Join(c.vars, ", "), "(none)"))
				return
			}
		}
		c.walk(t, x.x, roots)
	case *indexExpr:
		c.walk(t, x.x, roots)
		c.walk(t, x.i, roots)
	case *unaryExpr:
		c.walk(t, x.x, roots)
	case *binaryExpr:
		c.walk(t, x.l, roots)
		c.walk(t, x.r, roots)
	case *callExpr:
		for _, a := range x.args {
			c.walk(t, a, roots)
		}
	case *listExpr:
		for _, a := range x.elems {
			c.walk(t, a, roots)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// checkPayload parses every text of a value tree as a template and checks its names.
func (c *compiler) checkPayload(n *ynode, roots rootSet) {
	if n == nil {
		return
	}
	switch n.kind {
	case yScalar:
		if s, ok := n.val.(string); ok {
			tp, err := parseTemplate(s)
			if err != nil {
				c.p.exprErr(n, "value", err)
				return
			}
			c.checkTmpl(tmpl{src: s, pos: n.pos, t: tp, set: true}, roots)
		}
	case yMap:
		for i := range n.keys {
			c.checkPayload(n.keys[i], roots)
			c.checkPayload(n.vals[i], roots)
		}
	case yList:
		for _, it := range n.items {
			c.checkPayload(it, roots)
		}
	}
}
