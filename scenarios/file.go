package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"mfelab/bus"
)

// The scenario file format (docs/scenario-format.md). Field names are the YAML keys.

// LoadFile reads and checks a scenario file. Every mistake is a *FileError with the
// file, line and column, all of them together in a FileErrors.
func LoadFile(path string) (*Scenario, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a scenario file", path)
	}
	if fi.Size() > MaxFileSize {
		return nil, FileErrors{{File: path, Msg: fmt.Sprintf("the file is %d bytes; a scenario file may have at most %d", fi.Size(), MaxFileSize)}}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// IsScenarioFile reports whether a scenario argument names a file rather than a
// built-in scenario: it ends in .yaml or .yml, or holds a path separator.
func IsScenarioFile(arg string) bool {
	ext := strings.ToLower(filepath.Ext(arg))
	return ext == ".yaml" || ext == ".yml" || strings.ContainsRune(arg, '/') || strings.ContainsRune(arg, filepath.Separator)
}

// Parse reads a scenario file's bytes; name is how errors refer to the file. It reads
// nothing else and runs nothing: the scenario it returns does its work when started.
func Parse(name string, data []byte) (*Scenario, error) {
	p := &fileParser{name: name}
	root := p.parseYAML(data)
	if root == nil {
		return nil, p.errs
	}
	var doc fileDoc
	p.decode(root, reflect.ValueOf(&doc).Elem(), "the scenario")
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	c := &compiler{p: p, doc: &doc, root: root}
	s := c.compile()
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return s, nil
}

// compiler checks a decoded file and builds its Scenario.
type compiler struct {
	p    *fileParser
	doc  *fileDoc
	root *ynode

	apps, breakers, calls, aggs, sagas map[string]bool
	choreos                            map[string]bool
	knobs                              map[string]bool
	vars                               []string
	varNodes                           []*ynode
}

func (c *compiler) errAt(pos Pos, format string, args ...any) { c.p.errAt(pos, format, args...) }

// keyPos is where a top-level key is, for errors about it as a whole.
func (c *compiler) keyPos(key string) Pos {
	for _, k := range c.root.keys {
		if k.text == key {
			return k.pos
		}
	}
	return c.root.pos
}

func (c *compiler) compile() *Scenario {
	d := c.doc
	if d.ID == "" {
		c.errAt(c.root.pos, "the scenario has no id; give it one, such as id: search-suggestions")
	} else if bus.ValidateTopic(d.ID) != nil || strings.Contains(d.ID, ".") {
		c.errAt(c.keyPos("id"), "id %q: use letters, digits, - and _ only", d.ID)
	} else {
		c.checkOwnID(d.ID)
	}
	if d.Title == "" {
		c.errAt(c.root.pos, "the scenario has no title")
	}
	horizon, err := time.ParseDuration(strings.TrimSpace(d.Horizon))
	switch {
	case d.Horizon == "":
		c.errAt(c.root.pos, "the scenario has no horizon; say how long a run lasts, such as horizon: 5s")
	case err != nil || horizon <= 0 || horizon > time.Hour:
		c.errAt(c.keyPos("horizon"), "horizon: want a duration from 1ms to 1h (such as 5s), got %q", d.Horizon)
	}
	knobs := c.compileKnobs()
	c.compileVars()
	c.compileApps()
	c.compileContracts()
	c.names()
	c.checkTmpl(d.LastUntil, rootsSetup)
	for _, b := range d.Breakers {
		for _, t := range []tmpl{b.ConsecutiveFailures, b.FailureRate, b.MinimumVolume, b.Window, b.OpenTimeout, b.HalfOpenMaxCalls, b.SuccessThreshold} {
			c.checkTmpl(t, rootsSetup)
		}
		c.needApp(b.Pos, b.App, "breaker "+b.Name)
	}
	if len(d.Reactions) > maxReactions {
		c.errAt(c.keyPos("reactions"), "%d reactions; at most %d are allowed", len(d.Reactions), maxReactions)
	}
	for _, rc := range d.Reactions {
		c.compileReaction(rc)
	}
	for _, cl := range d.Calls {
		c.needApp(cl.Pos, cl.App, "call "+cl.Name)
		c.needTopic(cl.Pos, cl.Method, "call "+cl.Name+": method")
		// a call's request may read the message or repetition that started it
		c.checkPayload(cl.Payload, rootsWith(rootsRun, "msg", "i"))
		c.checkTmpl(cl.Correlation, rootsWith(rootsRun, "msg", "i"))
		c.checkTmpl(cl.RPCTimeout, rootsSetup)
		c.checkTmpl(cl.Timeout, rootsSetup)
		c.checkRetry(cl.Retry)
		if cl.Breaker != "" && !c.breakers[cl.Breaker] {
			c.errAt(cl.Pos, "call %s: no breaker %q is declared under breakers:", cl.Name, cl.Breaker)
		}
		if fb := cl.Fallback; fb != nil {
			if fb.Last == (fb.Value != nil) {
				c.errAt(fb.Pos, "call %s: a fallback answers with last-result: true or with a value:, one of them", cl.Name)
			}
			c.checkPayload(fb.Value, rootsRun)
			c.checkTmpl(fb.None, rootsRun)
			c.checkActions(fb.Do, rootsWith(rootsRun, "error", "state", "app"))
		}
		c.checkActions(cl.OnOK, rootsWith(rootsRun, "result", "outcome", "state", "app"))
		c.checkActions(cl.OnFallback, rootsWith(rootsRun, "result", "outcome", "state", "app"))
		c.checkActions(cl.OnError, rootsWith(rootsRun, "error", "outcome", "state", "app"))
	}
	for _, a := range d.Aggregators {
		c.needApp(a.Pos, a.App, "aggregator "+a.Name)
		if len(a.Sources) == 0 {
			c.errAt(a.Pos, "aggregator %s: list the sources it asks", a.Name)
		}
		for _, s := range a.Sources {
			c.needTopic(a.Pos, "aggregate."+s+".request", "aggregator "+a.Name+": source")
		}
		c.checkTmpl(a.Timeout, rootsSetup)
		c.checkTmpl(a.Partial, rootsSetup)
		c.checkActions(a.OnResult, rootsWith(rootsRun, "gather", "state", "app"))
		c.checkActions(a.OnError, rootsWith(rootsRun, "error", "state", "app"))
	}
	for _, sg := range d.Sagas {
		c.needApp(sg.Pos, sg.App, "saga "+sg.Name)
		c.needTopic(sg.Pos, "saga."+sg.Name+".state", "saga name")
		c.checkTmpl(sg.RPCTimeout, rootsSetup)
		c.checkTmpl(sg.StepTimeout, rootsSetup)
		if len(sg.Steps) == 0 {
			c.errAt(sg.Pos, "saga %s has no steps", sg.Name)
		}
		seen := map[string]bool{}
		for _, st := range sg.Steps {
			if st.Name == "" || seen[st.Name] {
				c.errAt(st.Pos, "saga %s: each step needs a name of its own", sg.Name)
			}
			seen[st.Name] = true
			if (st.Call == "") == (st.Publish == nil) {
				c.errAt(st.Pos, "saga %s step %s: a step does call: a method or publish: a message, one of them", sg.Name, st.Name)
			}
			if st.Call != "" {
				c.needTopic(st.Pos, st.Call, "step "+st.Name+": call")
			}
			if st.Compensate != "" {
				c.needTopic(st.Pos, st.Compensate, "step "+st.Name+": compensate")
			}
			sagaRoots := rootsWith(rootsRun, "input", "saga", "state", "app")
			c.checkPayload(st.Payload, sagaRoots)
			c.checkPayload(st.CompensatePayload, sagaRoots)
			c.checkPublish(st.Publish, sagaRoots)
		}
		c.checkActions(sg.OnDone, rootsWith(rootsRun, "saga", "state", "app"))
	}
	c.compileChoreographies()
	if len(d.Timeline) > maxTimeline {
		c.errAt(c.keyPos("timeline"), "%d timeline entries; at most %d are allowed", len(d.Timeline), maxTimeline)
	}
	for _, e := range d.Timeline {
		setup := rootsWith(rootsSetup, "i")
		if e.At.set == e.Every.set && !e.At.set {
			c.errAt(e.Pos, "a timeline entry needs at: (once) or every: with count: (repeating)")
		}
		if e.Every.set != e.Count.set {
			c.errAt(e.Pos, "every: and count: go together")
		}
		for _, t := range []tmpl{e.At, e.Every, e.Count, e.Act, e.When} {
			c.checkTmpl(t, setup)
		}
		c.checkActions(e.Do, rootsWith(rootsRun, "i"))
	}
	if len(d.Checks) == 0 {
		c.errAt(c.root.pos, "the scenario declares no checks; say what should be true at the end under checks:")
	}
	if len(d.Checks) > maxChecks {
		c.errAt(c.keyPos("checks"), "%d checks; at most %d are allowed", len(d.Checks), maxChecks)
	}
	for _, ch := range d.Checks {
		if !ch.Name.set {
			c.errAt(ch.Pos, "a check needs a name: that says what should be true")
		}
		if ch.That.set == ch.Expect.set {
			c.errAt(ch.Pos, "a check has that: (a condition) or expect: with equals:, one of them")
		}
		if ch.Expect.set != ch.Equals.set {
			c.errAt(ch.Pos, "expect: and equals: go together")
		}
		c.checkTmpl(ch.Name, rootsSetup)
		c.checkTmpl(ch.When, rootsSetup)
		for _, t := range []tmpl{ch.That, ch.Expect, ch.Equals, ch.Detail} {
			c.checkTmpl(t, rootsRun)
		}
	}
	if d.Limits.PerRun < 0 || d.Limits.PerInstant < 0 {
		c.errAt(d.Limits.Pos, "limits are positive numbers")
	}
	if len(c.p.errs) > 0 {
		return nil
	}
	var specs []AppSpec
	for _, a := range d.Apps {
		specs = append(specs, AppSpec{Name: a.Name, Title: orDefault(a.Title, a.Name), Role: a.Role, Publish: a.Publish, Subscribe: a.Subscribe})
	}
	doc := c.doc
	vars, varNodes := c.vars, c.varNodes
	return &Scenario{ID: d.ID, Title: d.Title, Watch: strings.TrimSpace(d.Watch), Knobs: knobs, Horizon: horizon, Apps: specs,
		Source: c.p.name,
		Setup: func(r *Run) error {
			return startFile(r, doc, vars, varNodes)
		}}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (c *compiler) compileKnobs() []Knob {
	var out []Knob
	c.knobs = map[string]bool{}
	if len(c.doc.Knobs) > maxKnobs {
		c.errAt(c.keyPos("knobs"), "%d knobs; at most %d are allowed", len(c.doc.Knobs), maxKnobs)
		return nil
	}
	for _, fk := range c.doc.Knobs {
		k := Knob{Name: fk.Name, Label: orDefault(fk.Label, fk.Name), Help: fk.Help, Kind: KnobKind(fk.Kind), Default: fk.Default,
			Choices: fk.Choices, Min: fk.Min, Max: fk.Max, Samples: fk.Samples}
		switch {
		case fk.Name == "" || !isName(fk.Name):
			c.errAt(fk.Pos, "a knob needs a name of letters, digits, - and _ (got %q)", fk.Name)
			continue
		case c.knobs[fk.Name]:
			c.errAt(fk.Pos, "knob %s is declared twice", fk.Name)
			continue
		}
		c.knobs[fk.Name] = true
		switch k.Kind {
		case Choice:
			if len(k.Choices) == 0 {
				c.errAt(fk.Pos, "knob %s: a choice knob lists its choices", fk.Name)
				continue
			}
		case Bool, Int, Float, Duration:
		default:
			c.errAt(fk.Pos, "knob %s: kind %q; the kinds are duration, int, float, bool and choice", fk.Name, fk.Kind)
			continue
		}
		if fk.Default == "" {
			c.errAt(fk.Pos, "knob %s has no default", fk.Name)
			continue
		}
		if k.Kind == Int || k.Kind == Float || k.Kind == Duration {
			if _, _, err := knobBounds(k); err != nil {
				c.errAt(fk.Pos, "knob %s: %v", fk.Name, err)
				continue
			}
		}
		if _, err := k.Parse(k.Default); err != nil {
			c.errAt(fk.Pos, "knob %s: its default: %v", fk.Name, err)
			continue
		}
		for _, s := range k.Samples {
			if _, err := k.Parse(s); err != nil {
				c.errAt(fk.Pos, "knob %s: a sample: %v", fk.Name, err)
			}
		}
		out = append(out, k)
	}
	return out
}

// knobBounds checks a numeric knob's min and max parse.
func knobBounds(k Knob) (string, string, error) {
	var parse func(string) error
	switch k.Kind {
	case Int:
		parse = func(s string) error { _, err := parseInt(s); return err }
	case Float:
		parse = func(s string) error { _, err := parseFloat(s); return err }
	default:
		parse = func(s string) error { _, err := time.ParseDuration(s); return err }
	}
	for _, b := range []string{k.Min, k.Max} {
		if b != "" {
			if err := parse(b); err != nil {
				return "", "", fmt.Errorf("bound %q is not a %s value", b, k.Kind)
			}
		}
	}
	return k.Min, k.Max, nil
}

func isName(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := range len(s) {
		if !isIdentPart(s[i]) {
			return false
		}
	}
	return true
}

func (c *compiler) compileVars() {
	v := c.doc.Vars
	if v == nil {
		return
	}
	if v.kind != yMap {
		c.errAt(v.pos, "vars: want name: value lines, got %s", v.describe())
		return
	}
	if len(v.keys) > maxKnobs*4 {
		c.errAt(v.pos, "vars: %d; at most %d are allowed", len(v.keys), maxKnobs*4)
		return
	}
	for i, k := range v.keys {
		if !isName(k.text) || slices.Contains(c.vars, k.text) {
			c.errAt(k.pos, "var %q: a var needs a name of its own, of letters, digits, - and _", k.text)
			continue
		}
		c.checkPayload(v.vals[i], rootsSetup)
		c.vars = append(c.vars, k.text) // a var sees the vars before it
		c.varNodes = append(c.varNodes, v.vals[i])
	}
}

func (c *compiler) compileApps() {
	d := c.doc
	c.apps = map[string]bool{}
	if len(d.Apps) == 0 {
		c.errAt(c.root.pos, "the scenario declares no apps; list its microfrontends under apps:")
	}
	if len(d.Apps) > maxApps {
		c.errAt(c.keyPos("apps"), "%d apps; at most %d are allowed", len(d.Apps), maxApps)
		return
	}
	for _, a := range d.Apps {
		if !isName(a.Name) {
			c.errAt(a.Pos, "an app needs a name of letters, digits, - and _ (got %q)", a.Name)
			continue
		}
		if c.apps[a.Name] {
			c.errAt(a.Pos, "app %s is declared twice", a.Name)
		}
		c.apps[a.Name] = true
		for _, pat := range slices.Concat(a.Publish, a.Subscribe) {
			if err := bus.ValidatePattern(pat); err != nil {
				c.errAt(a.Pos, "app %s: ACL pattern %q: %v", a.Name, pat, err)
			}
		}
		c.checkTmpl(a.Latency, rootsSetup)
		if a.State != nil {
			if a.State.kind != yMap {
				c.errAt(a.State.pos, "app %s: state: want key: value lines, got %s", a.Name, a.State.describe())
			} else {
				c.checkPayload(a.State, rootsSetup)
			}
		}
		if a.Faults != nil {
			if a.Faults.App != "" {
				c.errAt(a.Faults.Pos, "app %s: faults under an app are that app's; leave out app:", a.Name)
			}
			c.checkFault(a.Faults, rootsSetup)
		}
	}
}

// names collects the names of the pattern blocks, so references can be checked.
func (c *compiler) names() {
	d := c.doc
	collect := func(kind string, key string, n int, name func(i int) (string, Pos)) map[string]bool {
		out := map[string]bool{}
		if n > maxBlocks {
			c.errAt(c.keyPos(key), "%d %s; at most %d are allowed", n, key, maxBlocks)
		}
		for i := range n {
			nm, pos := name(i)
			if !isName(nm) {
				c.errAt(pos, "a %s needs a name of letters, digits, - and _ (got %q)", kind, nm)
			} else if out[nm] {
				c.errAt(pos, "%s %s is declared twice", kind, nm)
			}
			out[nm] = true
		}
		return out
	}
	c.breakers = collect("breaker", "breakers", len(d.Breakers), func(i int) (string, Pos) { return d.Breakers[i].Name, d.Breakers[i].Pos })
	c.calls = collect("call", "calls", len(d.Calls), func(i int) (string, Pos) { return d.Calls[i].Name, d.Calls[i].Pos })
	c.aggs = collect("aggregator", "aggregators", len(d.Aggregators), func(i int) (string, Pos) { return d.Aggregators[i].Name, d.Aggregators[i].Pos })
	c.sagas = collect("saga", "sagas", len(d.Sagas), func(i int) (string, Pos) { return d.Sagas[i].Name, d.Sagas[i].Pos })
}

func (c *compiler) needApp(pos Pos, name, what string) {
	if name == "" {
		c.errAt(pos, "%s: say which app with app:", what)
		return
	}
	if !c.apps[name] {
		c.errAt(pos, "%s: no app %q is declared under apps:", what, name)
	}
}

func (c *compiler) needTopic(pos Pos, topic, what string) {
	if err := bus.ValidateTopic(topic); err != nil {
		c.errAt(pos, "%s %q: %v", what, topic, err)
	}
}

func (c *compiler) compileReaction(rc fileReaction) {
	what := "reaction on " + rc.On
	c.needApp(rc.Pos, rc.App, what)
	if rc.Reply != nil {
		c.needTopic(rc.Pos, rc.On, what+": a reply answers one method, so on:")
		if rc.Retry != nil || rc.Idempotent != nil {
			c.errAt(rc.Pos, "%s: a reply reaction answers each request once; retry: and idempotent: are for events", what)
		}
	} else {
		if err := bus.ValidatePattern(rc.On); err != nil {
			c.errAt(rc.Pos, "%s: on %q: %v", what, rc.On, err)
		}
		if rc.Delay.set {
			c.errAt(rc.Delay.pos, "%s: delay: goes with reply:", what)
		}
	}
	roots := rootsWith(rootsRun, "msg", "state", "app")
	c.checkTmpl(rc.When, roots)
	c.checkTmpl(rc.Delay, roots)
	c.checkRetry(rc.Retry)
	if rc.Idempotent != nil {
		c.checkTmpl(rc.Idempotent.Window, rootsSetup)
		c.checkActions(rc.Idempotent.OnDuplicate, roots)
	}
	for _, f := range rc.Fail {
		c.checkTmpl(f.When, roots)
		c.checkTmpl(f.Message, roots)
		c.checkTmpl(f.Code, roots)
		if !f.Message.set {
			c.errAt(f.Pos, "%s: a fail: says why with message:", what)
		}
	}
	roots = c.checkLet(rc, roots)
	c.checkActions(rc.Do, roots)
	c.checkPayload(rc.Reply, roots)
	if len(rc.Do) == 0 && rc.Reply == nil && len(rc.Fail) == 0 {
		c.errAt(rc.Pos, "%s does nothing; give it do:, reply: or fail:", what)
	}
}

// ---- which names an expression may read where ----

var (
	rootsSetup = rootSet{"knob": true, "var": true, "seed": true}
	rootsRun   = rootsWith(rootsSetup, "elapsed", "apps", "breakers", "records", "dead_letters", "stats", "clients", "aggregators", "sagas", "contracts")
)
