package scenarios

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"mfelab/bus"
	"mfelab/bus/breaker"
	"mfelab/bus/rpc"
	"mfelab/bus/saga"
)

// Default publish limits of a scenario file's run: a reaction loop that would never end
// stops at them and fails the run's built-in check.
const (
	DefaultPublishesPerRun     = 20_000
	DefaultPublishesPerInstant = 2_000
)

// maxActionsPerInstant bounds the actions a file runs at one instant of bus time (each:
// over long lists, nested).
const maxActionsPerInstant = 50_000

// fileRun is one run of a scenario file: what its Setup built, read by its actions and
// checks. It lives on the bus loop.
type fileRun struct {
	r    *Run
	doc  *fileDoc
	name string

	knobs, vars *object
	clients     map[string]*rpc.Client
	servers     map[string]*rpc.Server
	breakers    map[string]*breaker.Breaker
	transitions map[string][]any
	calls       map[string]*callBlock
	aggs        map[string]*aggBlock
	sagas       map[string]*saga.Orchestrator
	sagaDefs    map[string]*fileSaga
	choreos     map[string]*choreoBlock
	records     *object
	cache       map[*ynode]*template

	perRun, perInstant int
	instant            time.Time
	instantN           int
	actInstant         time.Time
	actN               int
	limitHit           string
	errs               []string
	contracts          *contractRun
}

// scope is where an action runs: its app, the delivery it reacts to and the names it
// may read besides the run's.
type scope struct {
	app  *App
	d    *bus.Delivery
	vals map[string]any
}

func (sc scope) with(name string, v any) scope {
	vals := maps.Clone(sc.vals)
	if vals == nil {
		vals = map[string]any{}
	}
	vals[name] = v
	sc.vals = vals
	return sc
}

// errRun is a mistake found while the file runs (an expression that cannot be
// evaluated); it fails the run's built-in check.
func (fr *fileRun) errRun(pos Pos, format string, args ...any) {
	if len(fr.errs) < 20 {
		fr.errs = append(fr.errs, fmt.Sprintf("%s:%d:%d: %s", fr.name, pos.Line, pos.Col, fmt.Sprintf(format, args...)))
	}
}

func startFile(r *Run, doc *fileDoc, varNames []string, varNodes []*ynode) error {
	fr := &fileRun{r: r, doc: doc, name: r.Scenario.Source, knobs: newObject(), vars: newObject(), clients: map[string]*rpc.Client{},
		servers: map[string]*rpc.Server{}, breakers: map[string]*breaker.Breaker{}, transitions: map[string][]any{},
		calls: map[string]*callBlock{}, aggs: map[string]*aggBlock{}, sagas: map[string]*saga.Orchestrator{},
		sagaDefs: map[string]*fileSaga{}, choreos: map[string]*choreoBlock{}, records: newObject(), cache: map[*ynode]*template{},
		perRun: DefaultPublishesPerRun, perInstant: DefaultPublishesPerInstant}
	if doc.Limits.PerRun > 0 {
		fr.perRun = doc.Limits.PerRun
	}
	if doc.Limits.PerInstant > 0 {
		fr.perInstant = doc.Limits.PerInstant
	}
	for _, k := range r.Scenario.Knobs {
		fr.knobs.set(k.Name, knobValue(k, r.Knobs[k.Name]))
	}
	setup := scope{}
	for i, name := range varNames {
		v, err := fr.value(varNodes[i], setup, true)
		if err != nil {
			return err
		}
		fr.vars.set(name, v)
	}
	if doc.LastUntil.set {
		d, err := fr.duration(doc.LastUntil, setup, true)
		if err != nil {
			return err
		}
		r.LastUntil(d)
	}
	steps := []func() error{fr.setupContracts, fr.setupApps, fr.setupBreakers, fr.setupChoreographies, fr.setupReactions, fr.setupAggregators, fr.setupSagas, fr.setupCalls,
		fr.setupTimeline, fr.setupChecks}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// knobValue is a knob's value as expressions see it: a number, a duration, a boolean or
// text.
func knobValue(k Knob, s string) any {
	switch k.Kind {
	case Int, Float:
		f, _ := strconv.ParseFloat(s, 64)
		return f
	case Duration:
		d, _ := time.ParseDuration(s)
		return d
	case Bool:
		return s == "true"
	}
	return s
}

// ---- evaluation ----

func (fr *fileRun) env(sc scope, setupOnly bool) *evalEnv {
	roots := map[string]func() (any, error){
		"knob": func() (any, error) { return fr.knobs, nil },
		"var":  func() (any, error) { return fr.vars, nil },
		"seed": func() (any, error) { return float64(fr.r.Seed), nil },
	}
	if !setupOnly {
		roots["elapsed"] = func() (any, error) { return fr.r.Bus.Elapsed(), nil }
		roots["apps"] = func() (any, error) {
			o := newObject()
			for _, a := range fr.r.World.Apps() {
				o.set(a.Name, appState(a))
			}
			return o, nil
		}
		roots["breakers"] = func() (any, error) { return fr.breakerView(), nil }
		roots["contracts"] = func() (any, error) { return fr.contractsView(), nil }
		roots["records"] = func() (any, error) { return fr.records, nil }
		roots["dead_letters"] = func() (any, error) {
			out := []any{}
			for _, e := range fr.r.DLQ.List() {
				o := newObject()
				o.set("topic", e.Topic)
				o.set("subscriber", e.Subscriber)
				o.set("reason", e.Reason)
				o.set("attempts", float64(e.Attempts))
				out = append(out, o)
			}
			return out, nil
		}
		roots["stats"] = func() (any, error) {
			st := fr.r.Bus.Stats()
			o := newObject()
			o.set("published", float64(fr.r.Published()))
			o.set("rejected", float64(st.Rejected))
			o.set("handler_failures", float64(st.HandlerFailures))
			o.set("dead_lettered", float64(st.DeadLettered))
			o.set("retried", float64(st.Retried))
			o.set("skipped", float64(st.Skipped))
			return o, nil
		}
		roots["clients"] = func() (any, error) {
			o := newObject()
			for _, name := range sortedKeys(fr.clients) {
				st := fr.clients[name].Stats()
				c := newObject()
				for _, kv := range []struct {
					k string
					v uint64
				}{{"calls", st.Calls}, {"ok", st.OK}, {"errors", st.Errors}, {"timeouts", st.Timeouts}, {"late", st.Late}} {
					c.set(kv.k, float64(kv.v))
				}
				c.set("in_flight", float64(st.InFlight))
				o.set(name, c)
			}
			return o, nil
		}
		roots["aggregators"] = func() (any, error) {
			o := newObject()
			for _, name := range sortedKeys(fr.aggs) {
				st := fr.aggs[name].g.Stats()
				c := newObject()
				c.set("late", float64(st.Late))
				c.set("calls", float64(st.Calls))
				o.set(name, c)
			}
			return o, nil
		}
		roots["sagas"] = func() (any, error) {
			o := newObject()
			for _, name := range sortedKeys(fr.sagas) {
				insts := newObject()
				for _, st := range fr.sagas[name].Instances() {
					insts.set(st.ID, toValue(st))
				}
				o.set(name, insts)
			}
			fr.choreographyValues(o)
			return o, nil
		}
		if sc.app != nil {
			a := sc.app
			roots["state"] = func() (any, error) { return appState(a), nil }
			roots["app"] = func() (any, error) { return a.Name, nil }
		}
	}
	for k, v := range sc.vals {
		roots[k] = func() (any, error) { return v, nil }
	}
	return &evalEnv{roots: roots}
}

// toValue turns a Go value into an expression value by way of JSON.
func toValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	out, err := fromJSON(b)
	if err != nil {
		return nil
	}
	return out
}

func appState(a *App) *object {
	o := newObject()
	for _, f := range a.Snapshot().Fields {
		o.set(f.Key, f.Value)
	}
	return o
}

func (fr *fileRun) breakerView() *object {
	o := newObject()
	for _, name := range sortedKeys(fr.breakers) {
		s := fr.breakers[name].Snapshot()
		b := newObject()
		b.set("state", s.State.String())
		b.set("transitions", slices.Clone(fr.transitions[name]))
		for _, kv := range []struct {
			k string
			v uint64
		}{{"calls", s.Counts.Calls}, {"successes", s.Counts.Successes}, {"failures", s.Counts.Failures},
			{"rejected", s.Counts.Rejected}, {"stale", s.Counts.Stale}} {
			b.set(kv.k, float64(kv.v))
		}
		o.set(name, b)
	}
	return o
}

// eval evaluates a template. An error names the place in the file.
func (fr *fileRun) eval(t tmpl, sc scope, setupOnly bool) (any, error) {
	v, err := t.t.eval(fr.env(sc, setupOnly))
	if err != nil {
		return nil, &FileError{File: fr.name, Line: t.pos.Line, Col: t.pos.Col, Msg: err.Error()}
	}
	return v, nil
}

func (fr *fileRun) duration(t tmpl, sc scope, setupOnly bool) (time.Duration, error) {
	v, err := fr.eval(t, sc, setupOnly)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case time.Duration:
		return x, nil
	case string:
		if d, err := time.ParseDuration(strings.TrimSpace(x)); err == nil {
			return d, nil
		}
	case float64:
		if x == 0 {
			return 0, nil
		}
	}
	return 0, &FileError{File: fr.name, Line: t.pos.Line, Col: t.pos.Col, Msg: fmt.Sprintf("want a duration (such as 250ms), got %s", typeName(v))}
}

func (fr *fileRun) number(t tmpl, sc scope, setupOnly bool) (float64, error) {
	v, err := fr.eval(t, sc, setupOnly)
	if err != nil {
		return 0, err
	}
	f, err := toNumber(v)
	if err != nil {
		return 0, &FileError{File: fr.name, Line: t.pos.Line, Col: t.pos.Col, Msg: err.Error()}
	}
	return f, nil
}

func (fr *fileRun) text(t tmpl, sc scope, setupOnly bool) (string, error) {
	v, err := fr.eval(t, sc, setupOnly)
	if err != nil {
		return "", err
	}
	s, err := render(v)
	if err != nil {
		return "", &FileError{File: fr.name, Line: t.pos.Line, Col: t.pos.Col, Msg: err.Error()}
	}
	return s, nil
}

// value evaluates a value tree from the file: every text in it is a template.
func (fr *fileRun) value(n *ynode, sc scope, setupOnly bool) (any, error) {
	if n == nil {
		return nil, nil
	}
	switch n.kind {
	case yNull:
		return nil, nil
	case yScalar:
		s, ok := n.val.(string)
		if !ok {
			return n.val, nil
		}
		t := fr.cache[n]
		if t == nil {
			var err error
			if t, err = parseTemplate(s); err != nil {
				return nil, &FileError{File: fr.name, Line: n.pos.Line, Col: n.pos.Col, Msg: err.Error()}
			}
			fr.cache[n] = t
		}
		return fr.eval(tmpl{src: s, pos: n.pos, t: t, set: true}, sc, setupOnly)
	case yList:
		out := make([]any, 0, len(n.items))
		for _, it := range n.items {
			v, err := fr.value(it, sc, setupOnly)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	o := newObject()
	for i, k := range n.keys {
		kv, err := fr.value(k, sc, setupOnly)
		if err != nil {
			return nil, err
		}
		ks, err := render(kv)
		if err != nil {
			return nil, err
		}
		v, err := fr.value(n.vals[i], sc, setupOnly)
		if err != nil {
			return nil, err
		}
		o.set(ks, v)
	}
	return o, nil
}

// payload evaluates a value tree to JSON.
func (fr *fileRun) payload(n *ynode, sc scope) (json.RawMessage, error) {
	v, err := fr.value(n, sc, false)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return nil, err
	}
	if len(b) > maxValueSize {
		return nil, fmt.Errorf("a payload of %d bytes; at most %d are allowed", len(b), maxValueSize)
	}
	return b, nil
}

// mayPublish counts one publish the file asks for and says whether it is within the
// limits; the first one past them is reported.
func (fr *fileRun) mayPublish(pos Pos, what string) bool {
	if fr.limitHit != "" {
		return false
	}
	now := fr.r.Bus.Now()
	if !now.Equal(fr.instant) {
		fr.instant, fr.instantN = now, 0
	}
	fr.instantN++
	switch {
	case fr.r.Published() >= fr.perRun:
		fr.limitHit = fmt.Sprintf("%s:%d:%d: %s would be publish number %d of the run; the limit is %d per run (limits: publishes-per-run); a reaction loop?",
			fr.name, pos.Line, pos.Col, what, fr.r.Published()+1, fr.perRun)
	case fr.instantN > fr.perInstant:
		fr.limitHit = fmt.Sprintf("%s:%d:%d: %s would be publish number %d at +%v; the limit is %d at one instant (limits: publishes-per-instant); a reaction loop?",
			fr.name, pos.Line, pos.Col, what, fr.instantN, fr.r.Bus.Elapsed(), fr.perInstant)
	default:
		return true
	}
	return false
}

// ---- setup ----

func (fr *fileRun) setupApps() error {
	for _, fa := range fr.doc.Apps {
		a := fr.r.World.App(fa.Name)
		if fa.State != nil {
			for i, k := range fa.State.keys {
				v, err := fr.value(fa.State.vals[i], scope{}, true)
				if err != nil {
					return err
				}
				s, err := render(v)
				if err != nil {
					return err
				}
				a.Set(k.text, s)
			}
		}
		if fa.Latency.set {
			d, err := fr.duration(fa.Latency, scope{}, true)
			if err != nil {
				return err
			}
			a.Faults.SetLatency(d)
		}
		if fa.Faults != nil {
			if err := fr.applyFault(a, fa.Faults, scope{}, true); err != nil {
				return err
			}
		}
	}
	return nil
}

func (fr *fileRun) applyFault(a *App, f *fileFault, sc scope, setupOnly bool) error {
	if f.Down.set {
		v, err := fr.eval(f.Down, sc, setupOnly)
		if err != nil {
			return err
		}
		a.Faults.SetDown(truthy(v))
	}
	if f.FailNext.set {
		n, err := fr.number(f.FailNext, sc, setupOnly)
		if err != nil {
			return err
		}
		op := ""
		if f.Op.set {
			if op, err = fr.text(f.Op, sc, setupOnly); err != nil {
				return err
			}
		}
		a.Faults.FailNext(op, int(n))
	}
	if f.FailProbability.set {
		p, err := fr.number(f.FailProbability, sc, setupOnly)
		if err != nil {
			return err
		}
		a.Faults.SetFailProb(p)
	}
	if f.Latency.set {
		d, err := fr.duration(f.Latency, sc, setupOnly)
		if err != nil {
			return err
		}
		a.Faults.SetLatency(d)
	}
	return nil
}

// ---- actions ----
