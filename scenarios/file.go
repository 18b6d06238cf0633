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

type fileDoc struct {
	ID          string           `yaml:"id"`
	Title       string           `yaml:"title"`
	Watch       string           `yaml:"watch"`
	Horizon     string           `yaml:"horizon"`
	LastUntil   tmpl             `yaml:"last-until"`
	Knobs       []fileKnob       `yaml:"knobs"`
	Vars        *ynode           `yaml:"vars"`
	Limits      fileLimits       `yaml:"limits"`
	Apps        []fileApp        `yaml:"apps"`
	Breakers    []fileBreaker    `yaml:"breakers"`
	Reactions   []fileReaction   `yaml:"reactions"`
	Calls       []fileCall       `yaml:"calls"`
	Aggregators []fileAggregator `yaml:"aggregators"`
	Sagas       []fileSaga       `yaml:"sagas"`
	Timeline    []fileEntry      `yaml:"timeline"`
	Checks      []fileCheck      `yaml:"checks"`
}

type fileKnob struct {
	Pos     Pos
	Name    string   `yaml:"name"`
	Label   string   `yaml:"label"`
	Help    string   `yaml:"help"`
	Kind    string   `yaml:"kind"`
	Default string   `yaml:"default"`
	Choices []string `yaml:"choices"`
	Min     string   `yaml:"min"`
	Max     string   `yaml:"max"`
	Samples []string `yaml:"samples"`
}

type fileLimits struct {
	Pos        Pos
	PerRun     int `yaml:"publishes-per-run"`
	PerInstant int `yaml:"publishes-per-instant"`
}

type fileApp struct {
	Pos       Pos
	Name      string     `yaml:"name"`
	Title     string     `yaml:"title"`
	Role      string     `yaml:"role"`
	Publish   []string   `yaml:"publish"`
	Subscribe []string   `yaml:"subscribe"`
	Latency   tmpl       `yaml:"latency"`
	State     *ynode     `yaml:"state"`
	Faults    *fileFault `yaml:"faults"`
}

// fileFault sets an app's fault switches, at the start (under an app) or on the timeline.
type fileFault struct {
	Pos             Pos
	App             string `yaml:"app"`
	Down            tmpl   `yaml:"down"`
	FailNext        tmpl   `yaml:"fail-next"`
	Op              string `yaml:"op"`
	FailProbability tmpl   `yaml:"fail-probability"`
	Latency         tmpl   `yaml:"latency"`
}

type fileBreaker struct {
	Pos                 Pos
	Name                string `yaml:"name"`
	App                 string `yaml:"app"`
	ConsecutiveFailures tmpl   `yaml:"consecutive-failures"`
	FailureRate         tmpl   `yaml:"failure-rate"`
	MinimumVolume       tmpl   `yaml:"minimum-volume"`
	Window              tmpl   `yaml:"window"`
	OpenTimeout         tmpl   `yaml:"open-timeout"`
	HalfOpenMaxCalls    tmpl   `yaml:"half-open-max-calls"`
	SuccessThreshold    tmpl   `yaml:"success-threshold"`
}

type fileRetry struct {
	Pos         Pos
	MaxAttempts tmpl `yaml:"max-attempts"`
	Initial     tmpl `yaml:"initial"`
	Max         tmpl `yaml:"max"`
	Multiplier  tmpl `yaml:"multiplier"`
	Jitter      tmpl `yaml:"jitter"`
	Stream      int  `yaml:"stream"`
}

type fileDedup struct {
	Pos         Pos
	Window      tmpl         `yaml:"window"`
	OnDuplicate []fileAction `yaml:"on-duplicate"`
}

type fileFail struct {
	Pos       Pos
	When      tmpl `yaml:"when"`
	Message   tmpl `yaml:"message"`
	Code      tmpl `yaml:"code"`
	Permanent bool `yaml:"permanent"`
}

type fileReaction struct {
	Pos        Pos
	App        string       `yaml:"app"`
	On         string       `yaml:"on"`
	When       tmpl         `yaml:"when"`
	Op         string       `yaml:"op"`
	Faults     *bool        `yaml:"faults"`
	Retry      *fileRetry   `yaml:"retry"`
	Idempotent *fileDedup   `yaml:"idempotent"`
	Fail       []fileFail   `yaml:"fail"`
	Do         []fileAction `yaml:"do"`
	Delay      tmpl         `yaml:"delay"`
	Reply      *ynode       `yaml:"reply"`
}

type filePublish struct {
	Pos         Pos
	Topic       tmpl   `yaml:"topic"`
	Payload     *ynode `yaml:"payload"`
	Correlation tmpl   `yaml:"correlation"`
	Headers     *ynode `yaml:"headers"`
}

type fileSagaStart struct {
	Pos      Pos
	Name     string       `yaml:"name"`
	ID       tmpl         `yaml:"id"`
	Input    *ynode       `yaml:"input"`
	Announce *filePublish `yaml:"announce"`
}

type fileAction struct {
	Pos     Pos
	When    tmpl           `yaml:"when"`
	App     string         `yaml:"app"`
	Set     *ynode         `yaml:"set"`
	Add     *ynode         `yaml:"add"`
	Note    tmpl           `yaml:"note"`
	Record  *ynode         `yaml:"record"`
	Publish *filePublish   `yaml:"publish"`
	Call    string         `yaml:"call"`
	Gather  string         `yaml:"gather"`
	Saga    *fileSagaStart `yaml:"saga"`
	Fault   *fileFault     `yaml:"fault"`
	After   tmpl           `yaml:"after"`
	Each    tmpl           `yaml:"each"`
	As      string         `yaml:"as"`
	Do      []fileAction   `yaml:"do"`
	Retry   bool           `yaml:"retry-dead-letters"`
	Force   *fileForce     `yaml:"breaker"`
}

type fileForce struct {
	Pos   Pos
	Name  string `yaml:"name"`
	State string `yaml:"state"` // open | closed | released
}

type fileFallback struct {
	Pos   Pos
	Last  bool         `yaml:"last-result"`
	Value *ynode       `yaml:"value"`
	None  tmpl         `yaml:"none"`
	Do    []fileAction `yaml:"do"`
}

type fileCall struct {
	Pos         Pos
	Name        string        `yaml:"name"`
	App         string        `yaml:"app"`
	Method      string        `yaml:"method"`
	Payload     *ynode        `yaml:"payload"`
	Correlation tmpl          `yaml:"correlation"`
	RPCTimeout  tmpl          `yaml:"rpc-timeout"`
	Timeout     tmpl          `yaml:"timeout"`
	Breaker     string        `yaml:"breaker"`
	Retry       *fileRetry    `yaml:"retry"`
	Fallback    *fileFallback `yaml:"fallback"`
	OnOK        []fileAction  `yaml:"on-ok"`
	OnFallback  []fileAction  `yaml:"on-fallback"`
	OnError     []fileAction  `yaml:"on-error"`
}

type fileAggregator struct {
	Pos      Pos
	Name     string       `yaml:"name"`
	App      string       `yaml:"app"`
	Sources  []string     `yaml:"sources"`
	Timeout  tmpl         `yaml:"timeout"`
	Partial  tmpl         `yaml:"partial"`
	OnResult []fileAction `yaml:"on-result"`
	OnError  []fileAction `yaml:"on-error"`
}

type fileSagaStep struct {
	Pos               Pos
	Name              string       `yaml:"name"`
	Call              string       `yaml:"call"`
	Payload           *ynode       `yaml:"payload"`
	Publish           *filePublish `yaml:"publish"`
	Compensate        string       `yaml:"compensate"`
	CompensatePayload *ynode       `yaml:"compensate-payload"`
}

type fileSaga struct {
	Pos         Pos
	Name        string         `yaml:"name"`
	App         string         `yaml:"app"`
	RPCTimeout  tmpl           `yaml:"rpc-timeout"`
	StepTimeout tmpl           `yaml:"step-timeout"`
	Steps       []fileSagaStep `yaml:"steps"`
	OnDone      []fileAction   `yaml:"on-done"`
}

type fileEntry struct {
	Pos   Pos
	At    tmpl         `yaml:"at"`
	Every tmpl         `yaml:"every"`
	Count tmpl         `yaml:"count"`
	Act   tmpl         `yaml:"act"`
	When  tmpl         `yaml:"when"`
	Do    []fileAction `yaml:"do"`
}

type fileCheck struct {
	Pos    Pos
	Name   tmpl `yaml:"name"`
	When   tmpl `yaml:"when"`
	That   tmpl `yaml:"that"`
	Expect tmpl `yaml:"expect"`
	Equals tmpl `yaml:"equals"`
	Detail tmpl `yaml:"detail"`
}

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
	c.checkActions(rc.Do, roots)
	c.checkPayload(rc.Reply, roots)
	if len(rc.Do) == 0 && rc.Reply == nil && len(rc.Fail) == 0 {
		c.errAt(rc.Pos, "%s does nothing; give it do:, reply: or fail:", what)
	}
}

func (c *compiler) checkRetry(r *fileRetry) {
	if r == nil {
		return
	}
	for _, t := range []tmpl{r.MaxAttempts, r.Initial, r.Max, r.Multiplier, r.Jitter} {
		c.checkTmpl(t, rootsSetup)
	}
}

func (c *compiler) checkFault(f *fileFault, roots rootSet) {
	for _, t := range []tmpl{f.Down, f.FailNext, f.FailProbability, f.Latency} {
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
	for _, on := range []bool{a.Set != nil, a.Add != nil, a.Note.set, a.Record != nil, a.Publish != nil, a.Call != "", a.Gather != "",
		a.Saga != nil, a.Fault != nil, a.Each.set, a.After.set, a.Retry, a.Force != nil} {
		if on {
			verbs++
		}
	}
	if verbs != 1 {
		c.errAt(a.Pos, "an action does one thing: set, add, note, record, publish, call, gather, saga, fault, each, after, retry-dead-letters or breaker (it has %d)", verbs)
		return
	}
	c.checkTmpl(a.When, roots)
	if a.App != "" && !c.apps[a.App] {
		c.errAt(a.Pos, "no app %q is declared under apps:", a.App)
	}
	if a.App == "" && (a.Set != nil || a.Add != nil || a.Note.set || a.Publish != nil) && !roots["state"] {
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

// ---- which names an expression may read where ----

type rootSet map[string]bool

var (
	rootsSetup = rootSet{"knob": true, "var": true, "seed": true}
	rootsRun   = rootsWith(rootsSetup, "elapsed", "apps", "breakers", "records", "dead_letters", "stats", "clients", "aggregators", "sagas")
)

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
