package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"mfelab/bus"
	"mfelab/bus/aggregate"
	"mfelab/bus/async"
	"mfelab/bus/breaker"
	"mfelab/bus/dedup"
	"mfelab/bus/resilience"
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
	records     *object
	cache       map[*ynode]*template

	perRun, perInstant int
	instant            time.Time
	instantN           int
	actInstant         time.Time
	actN               int
	limitHit           string
	errs               []string
}

type callBlock struct {
	def    *fileCall
	app    *App
	client *rpc.Client
	br     *breaker.Breaker
	retry  *resilience.RetryPolicy
	rpcTO  time.Duration
	to     time.Duration
	last   json.RawMessage
}

type aggBlock struct {
	def     *fileAggregator
	g       *aggregate.Gatherer
	timeout time.Duration
	partial bool
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
		sagaDefs: map[string]*fileSaga{}, records: newObject(), cache: map[*ynode]*template{},
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
	steps := []func() error{fr.setupApps, fr.setupBreakers, fr.setupReactions, fr.setupAggregators, fr.setupSagas, fr.setupCalls,
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
		a.Faults.FailNext(f.Op, int(n))
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

func (fr *fileRun) setupBreakers() error {
	for _, fb := range fr.doc.Breakers {
		num := func(t tmpl) (int, error) {
			if !t.set {
				return 0, nil
			}
			f, err := fr.number(t, scope{}, true)
			return int(f), err
		}
		dur := func(t tmpl) (time.Duration, error) {
			if !t.set {
				return 0, nil
			}
			return fr.duration(t, scope{}, true)
		}
		var errs []error
		cf, err := num(fb.ConsecutiveFailures)
		errs = append(errs, err)
		mv, err := num(fb.MinimumVolume)
		errs = append(errs, err)
		hm, err := num(fb.HalfOpenMaxCalls)
		errs = append(errs, err)
		stt, err := num(fb.SuccessThreshold)
		errs = append(errs, err)
		win, err := dur(fb.Window)
		errs = append(errs, err)
		ot, err := dur(fb.OpenTimeout)
		errs = append(errs, err)
		var rate float64
		if fb.FailureRate.set {
			rate, err = fr.number(fb.FailureRate, scope{}, true)
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		name := fb.Name
		br, err := breaker.New(breaker.Config{Name: name, Events: fr.r.World.App(fb.App).Conn, ConsecutiveFailures: cf, FailureRate: rate,
			MinimumVolume: mv, Window: win, OpenTimeout: ot, HalfOpenMaxCalls: hm, SuccessThreshold: stt,
			OnStateChange: func(t breaker.Transition) {
				fr.transitions[name] = append(fr.transitions[name], t.From.String()+">"+t.To.String())
			}})
		if err != nil {
			return &FileError{File: fr.name, Line: fb.Pos.Line, Col: fb.Pos.Col, Msg: err.Error()}
		}
		fr.breakers[name] = br
		fr.r.AddBreaker(br)
	}
	return nil
}

func (fr *fileRun) retryPolicy(fr2 *fileRetry) (*resilience.RetryPolicy, error) {
	if fr2 == nil {
		return nil, nil
	}
	p := &resilience.RetryPolicy{Rand: fr.r.Bus.Rand(uint64(fr2.Stream))}
	sc := scope{}
	if fr2.MaxAttempts.set {
		n, err := fr.number(fr2.MaxAttempts, sc, true)
		if err != nil {
			return nil, err
		}
		p.MaxAttempts = int(n)
	}
	for _, d := range []struct {
		t   tmpl
		dst *time.Duration
	}{{fr2.Initial, &p.Initial}, {fr2.Max, &p.Max}} {
		if d.t.set {
			v, err := fr.duration(d.t, sc, true)
			if err != nil {
				return nil, err
			}
			*d.dst = v
		}
	}
	for _, f := range []struct {
		t   tmpl
		dst *float64
	}{{fr2.Multiplier, &p.Multiplier}, {fr2.Jitter, &p.Jitter}} {
		if f.t.set {
			v, err := fr.number(f.t, sc, true)
			if err != nil {
				return nil, err
			}
			*f.dst = v
		}
	}
	return p, nil
}

func (fr *fileRun) server(a *App) *rpc.Server {
	if s := fr.servers[a.Name]; s != nil {
		return s
	}
	s := rpc.NewServer(a.Conn)
	fr.servers[a.Name] = s
	return s
}

func (fr *fileRun) client(a *App) *rpc.Client {
	if c := fr.clients[a.Name]; c != nil {
		return c
	}
	c := rpc.NewClient(a.Conn, rpc.ClientOptions{})
	fr.clients[a.Name] = c
	return c
}

func msgValue(d bus.Delivery) *object {
	o := newObject()
	o.set("topic", d.Topic)
	o.set("source", d.Meta.Source)
	o.set("correlation", d.Correlation())
	o.set("id", d.ID.String())
	o.set("seq", float64(d.Seq))
	o.set("attempt", float64(d.Attempt))
	h := newObject()
	for _, k := range sortedKeys(d.Meta.Headers) {
		h.set(k, d.Meta.Headers[k])
	}
	o.set("headers", h)
	p, err := fromJSON(d.Payload)
	if err != nil {
		p = string(d.Payload)
	}
	o.set("payload", p)
	return o
}

func (fr *fileRun) setupReactions() error {
	for i := range fr.doc.Reactions {
		rc := &fr.doc.Reactions[i]
		a := fr.r.World.App(rc.App)
		op := orDefault(rc.Op, rc.On)
		checkFaults := rc.Faults == nil || *rc.Faults
		// gate runs what every reaction does first: the condition, the fault switches and
		// the declared failures. It returns whether to go on, or the failure.
		gate := func(sc scope) (bool, error) {
			if rc.When.set {
				v, err := fr.eval(rc.When, sc, false)
				if err != nil {
					fr.errRun(rc.When.pos, "%v", err)
					return false, nil
				}
				if !truthy(v) {
					return false, nil
				}
			}
			if checkFaults {
				if err := a.Faults.Check(op); err != nil {
					a.Note("failed " + op)
					return false, err
				}
			}
			for _, f := range rc.Fail {
				if f.When.set {
					v, err := fr.eval(f.When, sc, false)
					if err != nil {
						fr.errRun(f.When.pos, "%v", err)
						continue
					}
					if !truthy(v) {
						continue
					}
				}
				msg, err := fr.text(f.Message, sc, false)
				if err != nil {
					fr.errRun(f.Message.pos, "%v", err)
				}
				var out error = errors.New(msg)
				if f.Code.set {
					code, _ := fr.text(f.Code, sc, false)
					out = rpc.NewError(code, "%s", msg)
				}
				if f.Permanent {
					out = resilience.Permanent(out)
				}
				return false, out
			}
			return true, nil
		}
		if rc.Reply != nil {
			err := fr.server(a).HandleAsync(rc.On, func(_ context.Context, req rpc.Request, reply rpc.Reply) {
				d := req.Delivery
				sc := scope{app: a, d: &d, vals: map[string]any{"msg": msgValue(d)}}
				ok, ferr := gate(sc)
				if ferr != nil {
					reply(nil, ferr)
					return
				}
				if !ok {
					return
				}
				answer := func() {
					fr.do(sc, rc.Do)
					if !fr.mayPublish(rc.Pos, "the reply to "+rc.On) {
						return
					}
					p, err := fr.payload(rc.Reply, sc)
					if err != nil {
						fr.errRun(rc.Reply.pos, "%v", err)
						reply(nil, err)
						return
					}
					reply(p, nil)
				}
				if rc.Delay.set {
					delay, err := fr.duration(rc.Delay, sc, false)
					if err != nil {
						fr.errRun(rc.Delay.pos, "%v", err)
					}
					if delay > 0 {
						fr.r.Bus.After(delay, answer)
						return
					}
				}
				answer()
			})
			if err != nil {
				return &FileError{File: fr.name, Line: rc.Pos.Line, Col: rc.Pos.Col, Msg: err.Error()}
			}
			continue
		}
		var mws []bus.Middleware
		if rc.Idempotent != nil {
			window := time.Duration(0)
			if rc.Idempotent.Window.set {
				w, err := fr.duration(rc.Idempotent.Window, scope{}, true)
				if err != nil {
					return err
				}
				window = w
			}
			onDup := rc.Idempotent.OnDuplicate
			filter := dedup.New(fr.r.Bus, dedup.Options{Window: window, OnDuplicate: func(d bus.Delivery) {
				fr.do(scope{app: a, d: &d, vals: map[string]any{"msg": msgValue(d)}}, onDup)
			}})
			mws = append(mws, filter.Middleware())
		}
		if rc.Retry != nil {
			p, err := fr.retryPolicy(rc.Retry)
			if err != nil {
				return err
			}
			mws = append(mws, resilience.RetryMiddleware(*p))
		}
		var opts []bus.SubOption
		if len(mws) > 0 {
			opts = append(opts, bus.WithMiddleware(mws...))
		}
		_, err := a.Conn.Subscribe(rc.On, func(_ context.Context, d bus.Delivery) error {
			sc := scope{app: a, d: &d, vals: map[string]any{"msg": msgValue(d)}}
			ok, ferr := gate(sc)
			if ferr != nil {
				return ferr
			}
			if ok {
				fr.do(sc, rc.Do)
			}
			return nil
		}, opts...)
		if err != nil {
			return &FileError{File: fr.name, Line: rc.Pos.Line, Col: rc.Pos.Col, Msg: err.Error()}
		}
	}
	return nil
}

func (fr *fileRun) setupAggregators() error {
	for i := range fr.doc.Aggregators {
		fa := &fr.doc.Aggregators[i]
		ab := &aggBlock{def: fa, g: aggregate.NewGatherer(fr.r.World.App(fa.App).Conn)}
		if fa.Timeout.set {
			d, err := fr.duration(fa.Timeout, scope{}, true)
			if err != nil {
				return err
			}
			ab.timeout = d
		}
		if fa.Partial.set {
			v, err := fr.eval(fa.Partial, scope{}, true)
			if err != nil {
				return err
			}
			ab.partial = truthy(v)
		}
		fr.aggs[fa.Name] = ab
	}
	return nil
}

func (fr *fileRun) setupSagas() error {
	for i := range fr.doc.Sagas {
		fs := &fr.doc.Sagas[i]
		a := fr.r.World.App(fs.App)
		var rpcTO, stepTO time.Duration
		if fs.RPCTimeout.set {
			d, err := fr.duration(fs.RPCTimeout, scope{}, true)
			if err != nil {
				return err
			}
			rpcTO = d
		}
		if fs.StepTimeout.set {
			d, err := fr.duration(fs.StepTimeout, scope{}, true)
			if err != nil {
				return err
			}
			stepTO = d
		}
		client := fr.client(a)
		stepScope := func(x *saga.Exec) scope {
			var raw json.RawMessage
			_ = x.Input(&raw)
			in, _ := fromJSON(raw)
			st := newObject()
			st.set("id", x.ID())
			return scope{app: a, vals: map[string]any{"input": in, "saga": st}}
		}
		call := func(method string, payload *ynode, pos Pos) func(context.Context, *saga.Exec) *async.Future[any] {
			return func(ctx context.Context, x *saga.Exec) *async.Future[any] {
				var body json.RawMessage
				if payload == nil {
					_ = x.Input(&body)
				} else {
					p, err := fr.payload(payload, stepScope(x))
					if err != nil {
						fr.errRun(pos, "%v", err)
						return async.Failed[any](err)
					}
					body = p
				}
				if !fr.mayPublish(pos, "the call to "+method) {
					return async.Failed[any](errors.New("publish limit reached"))
				}
				opts := []rpc.CallOption{rpc.CausedBy(x.Cause())}
				if rpcTO > 0 {
					opts = append(opts, rpc.Timeout(rpcTO))
				}
				if step := x.Undoing(); step != "" {
					opts = append(opts, rpc.Header(saga.HeaderCompensates, step))
				}
				return async.Map(client.Call(ctx, method, body, opts...), func(v json.RawMessage) (any, error) { return v, nil })
			}
		}
		def := saga.Definition{Name: fs.Name, StepTimeout: stepTO}
		for j := range fs.Steps {
			st := &fs.Steps[j]
			step := saga.Step{Name: st.Name}
			if st.Call != "" {
				step.Action = call(st.Call, st.Payload, st.Pos)
			} else {
				pub := st.Publish
				step.Action = func(_ context.Context, x *saga.Exec) *async.Future[any] {
					sc := stepScope(x)
					topic, err := fr.text(pub.Topic, sc, false)
					if err != nil {
						fr.errRun(pub.Topic.pos, "%v", err)
						return async.Failed[any](err)
					}
					p, err := fr.payload(pub.Payload, sc)
					if err != nil {
						fr.errRun(pub.Pos, "%v", err)
						return async.Failed[any](err)
					}
					if !fr.mayPublish(pub.Pos, "publish "+topic) {
						return async.Failed[any](errors.New("publish limit reached"))
					}
					_, err = a.Conn.Send(bus.Msg{Topic: topic, Payload: p, CausationID: x.Cause().ID, CorrelationID: x.ID()})
					return async.Settled[any](nil, err)
				}
			}
			if st.Compensate != "" {
				step.Compensate = call(st.Compensate, st.CompensatePayload, st.Pos)
			}
			def.Steps = append(def.Steps, step)
		}
		o, err := saga.New(a.Conn, def, saga.Options{})
		if err != nil {
			return &FileError{File: fr.name, Line: fs.Pos.Line, Col: fs.Pos.Col, Msg: err.Error()}
		}
		fr.sagas[fs.Name] = o
		fr.sagaDefs[fs.Name] = fs
		fr.r.AddSagas(func() []SagaView { return orchestratedViews(o) })
	}
	return nil
}

func (fr *fileRun) setupCalls() error {
	for i := range fr.doc.Calls {
		fc := &fr.doc.Calls[i]
		app := fr.r.World.App(fc.App)
		cb := &callBlock{def: fc, app: app, client: fr.client(app), br: fr.breakers[fc.Breaker]}
		var err error
		if cb.retry, err = fr.retryPolicy(fc.Retry); err != nil {
			return err
		}
		if fc.RPCTimeout.set {
			if cb.rpcTO, err = fr.duration(fc.RPCTimeout, scope{}, true); err != nil {
				return err
			}
		}
		if fc.Timeout.set {
			if cb.to, err = fr.duration(fc.Timeout, scope{}, true); err != nil {
				return err
			}
		}
		fr.calls[fc.Name] = cb
	}
	return nil
}

func (fr *fileRun) setupTimeline() error {
	total := 0
	for i := range fr.doc.Timeline {
		e := &fr.doc.Timeline[i]
		sc := scope{}
		at := time.Duration(0)
		if e.At.set {
			d, err := fr.duration(e.At, sc, true)
			if err != nil {
				return err
			}
			at = d
		}
		n, every := 1, time.Duration(0)
		if e.Every.set {
			d, err := fr.duration(e.Every, sc, true)
			if err != nil {
				return err
			}
			c, err := fr.number(e.Count, sc, true)
			if err != nil {
				return err
			}
			if d <= 0 || c < 0 || c > maxRepeat {
				return &FileError{File: fr.name, Line: e.Pos.Line, Col: e.Pos.Col,
					Msg: fmt.Sprintf("every %v, count %s: want a positive interval and a count from 0 to %d", d, formatNumber(c), maxRepeat)}
			}
			n, every = int(c), d
		}
		if total += n; total > maxRepeat {
			return &FileError{File: fr.name, Line: e.Pos.Line, Col: e.Pos.Col,
				Msg: fmt.Sprintf("the timeline fires more than %d times in all", maxRepeat)}
		}
		for k := range n {
			isc := sc.with("i", float64(k))
			if e.When.set {
				v, err := fr.eval(e.When, isc, true)
				if err != nil {
					return err
				}
				if !truthy(v) {
					continue
				}
			}
			t := at + time.Duration(k)*every
			if t < 0 {
				return &FileError{File: fr.name, Line: e.Pos.Line, Col: e.Pos.Col, Msg: fmt.Sprintf("at %v is before the start", t)}
			}
			do := e.Do
			fire := func() { fr.do(isc, do) }
			if e.Act.set {
				name, err := fr.text(e.Act, isc, true)
				if err != nil {
					return err
				}
				fr.r.At(t, name, fire)
			} else {
				fr.r.Bus.After(t, fire)
			}
		}
	}
	return nil
}

func (fr *fileRun) setupChecks() error {
	for i := range fr.doc.Checks {
		ch := &fr.doc.Checks[i]
		if ch.When.set {
			v, err := fr.eval(ch.When, scope{}, true)
			if err != nil {
				return err
			}
			if !truthy(v) {
				continue
			}
		}
		name, err := fr.text(ch.Name, scope{}, true)
		if err != nil {
			return err
		}
		fr.r.Expect(name, func() (bool, string) { return fr.check(ch) })
	}
	fr.r.Expect("the file runs within its publish limits and every expression evaluates", func() (bool, string) {
		if fr.limitHit != "" {
			return false, fr.limitHit
		}
		if len(fr.errs) > 0 {
			return false, strings.Join(fr.errs, "; ")
		}
		return true, fmt.Sprintf("%d published", fr.r.Published())
	})
	return nil
}

func (fr *fileRun) check(ch *fileCheck) (bool, string) {
	sc := scope{}
	if ch.That.set {
		v, err := fr.eval(ch.That, sc, false)
		if err != nil {
			return false, err.Error()
		}
		detail := ""
		if ch.Detail.set {
			if detail, err = fr.text(ch.Detail, sc, false); err != nil {
				detail = err.Error()
			}
		}
		return truthy(v), detail
	}
	got, err := fr.eval(ch.Expect, sc, false)
	if err != nil {
		return false, err.Error()
	}
	want, err := fr.eval(ch.Equals, sc, false)
	if err != nil {
		return false, err.Error()
	}
	g, _ := render(got)
	w, _ := render(want)
	if ch.Detail.set {
		d, err := fr.text(ch.Detail, sc, false)
		if err != nil {
			d = err.Error()
		}
		return equal(got, want), d
	}
	if equal(got, want) {
		return true, g
	}
	return false, fmt.Sprintf("got %s, want %s", g, w)
}

// ---- actions ----

// do runs actions in order. A mistake in one is recorded and the rest still run.
func (fr *fileRun) do(sc scope, acts []fileAction) {
	for i := range acts {
		if err := fr.act(sc, &acts[i]); err != nil {
			fr.errRun(acts[i].Pos, "%v", err)
		}
	}
}

func (fr *fileRun) act(sc scope, a *fileAction) error {
	if now := fr.r.Bus.Now(); !now.Equal(fr.actInstant) {
		fr.actInstant, fr.actN = now, 0
	}
	if fr.actN++; fr.actN > maxActionsPerInstant {
		if fr.limitHit == "" {
			fr.limitHit = fmt.Sprintf("%s:%d:%d: more than %d actions at +%v; a loop of each: or after:?", fr.name, a.Pos.Line, a.Pos.Col,
				maxActionsPerInstant, fr.r.Bus.Elapsed())
		}
		return nil
	}
	if a.When.set {
		v, err := fr.eval(a.When, sc, false)
		if err != nil {
			return err
		}
		if !truthy(v) {
			return nil
		}
	}
	app := sc.app
	if a.App != "" {
		app = fr.r.World.App(a.App)
	}
	switch {
	case a.Set != nil, a.Add != nil, a.Record != nil:
		m := a.Set
		if m == nil {
			m = a.Add
		}
		if m == nil {
			m = a.Record
		}
		for i, k := range m.keys {
			kv, err := fr.value(k, sc, false)
			if err != nil {
				return err
			}
			key, _ := render(kv)
			v, err := fr.value(m.vals[i], sc, false)
			if err != nil {
				return err
			}
			switch {
			case a.Set != nil:
				s, err := render(v)
				if err != nil {
					return err
				}
				app.Set(key, s)
			case a.Add != nil:
				f, err := toNumber(v)
				if err != nil {
					return err
				}
				app.Add(key, int(f))
			default:
				old, _ := fr.records.get(key)
				l, _ := old.([]any)
				if len(l) >= maxListElements {
					return fmt.Errorf("record %s holds %d values already", key, len(l))
				}
				fr.records.set(key, append(l, v))
			}
		}
	case a.Note.set:
		s, err := fr.text(a.Note, sc, false)
		if err != nil {
			return err
		}
		app.Note(s)
	case a.Publish != nil:
		_, err := fr.publish(app, sc, a.Publish)
		return err
	case a.Call != "":
		return fr.startCall(fr.calls[a.Call], sc, a.Pos)
	case a.Gather != "":
		return fr.startGather(fr.aggs[a.Gather], sc, a.Pos)
	case a.Saga != nil:
		return fr.startSaga(a.Saga, sc)
	case a.Fault != nil:
		return fr.applyFault(fr.r.World.App(a.Fault.App), a.Fault, sc, false)
	case a.Each.set:
		v, err := fr.eval(a.Each, sc, false)
		if err != nil {
			return err
		}
		var items []any
		switch x := v.(type) {
		case []any:
			items = x
		case *object:
			for _, k := range x.keys {
				items = append(items, k)
			}
		case nil:
		default:
			return fmt.Errorf("each: want a list, got %s", typeName(v))
		}
		as := orDefault(a.As, "item")
		for _, it := range items {
			fr.do(sc.with(as, it), a.Do)
		}
	case a.After.set:
		d, err := fr.duration(a.After, sc, false)
		if err != nil {
			return err
		}
		do := a.Do
		fr.r.Bus.After(d, func() { fr.do(sc, do) })
	case a.Retry:
		if !fr.mayPublish(a.Pos, "retry-dead-letters") {
			return nil
		}
		return fr.r.DLQ.RetryAll()
	case a.Force != nil:
		br := fr.breakers[a.Force.Name]
		switch a.Force.State {
		case "open":
			br.ForceOpen()
		case "closed":
			br.ForceClosed()
		default:
			br.Release()
		}
	}
	return nil
}

// publish sends a message as app; in a reaction by the reacting app it is caused by the
// delivery.
func (fr *fileRun) publish(app *App, sc scope, p *filePublish) (*bus.Envelope, error) {
	topic, err := fr.text(p.Topic, sc, false)
	if err != nil {
		return nil, err
	}
	body, err := fr.payload(p.Payload, sc)
	if err != nil {
		return nil, err
	}
	m := bus.Msg{Topic: topic, Payload: body}
	if p.Correlation.set {
		if m.CorrelationID, err = fr.text(p.Correlation, sc, false); err != nil {
			return nil, err
		}
	}
	if p.Headers != nil {
		hv, err := fr.value(p.Headers, sc, false)
		if err != nil {
			return nil, err
		}
		if o, ok := hv.(*object); ok {
			m.Headers = map[string]string{}
			for _, k := range o.keys {
				m.Headers[k], _ = render(o.vals[k])
			}
		}
	}
	if !fr.mayPublish(p.Pos, "publish "+topic) {
		return nil, nil
	}
	if sc.d != nil && sc.app == app {
		env, err := sc.d.Send(m)
		return env, ignoreRefused(err)
	}
	env, err := app.Conn.Send(m)
	return env, ignoreRefused(err)
}

// ignoreRefused drops the errors the bus shows itself (an ACL or topic refusal is a
// rejected trace event), so they do not count twice.
func ignoreRefused(err error) error {
	var acl *bus.ACLError
	if errors.As(err, &acl) {
		return nil
	}
	return err
}

func (fr *fileRun) startCall(cb *callBlock, sc scope, pos Pos) error {
	fc := cb.def
	body, err := fr.payload(fc.Payload, sc)
	if err != nil {
		return err
	}
	if fc.Payload == nil {
		body = nil
	}
	var opts []rpc.CallOption
	if sc.d != nil {
		opts = append(opts, rpc.CausedBy(sc.d.Envelope))
	}
	if fc.Correlation.set {
		corr, err := fr.text(fc.Correlation, sc, false)
		if err != nil {
			return err
		}
		opts = append(opts, rpc.Correlation(corr))
	}
	if cb.rpcTO > 0 {
		opts = append(opts, rpc.Timeout(cb.rpcTO))
	}
	var params any
	if body != nil {
		params = body
	}
	op := func(ctx context.Context) *async.Future[json.RawMessage] {
		if !fr.mayPublish(pos, "the call to "+fc.Method) {
			return async.Failed[json.RawMessage](errors.New("publish limit reached"))
		}
		return cb.client.Call(ctx, fc.Method, params, opts...)
	}
	sc = fr.ownScope(sc, cb.app)
	usedFallback := false
	pl := resilience.Pipeline[json.RawMessage]{Scheduler: fr.r.Bus, Retry: cb.retry, Timeout: cb.to}
	if cb.br != nil {
		pl.Breaker = cb.br
	}
	if fb := fc.Fallback; fb != nil {
		pl.Fallback = func(_ context.Context, cause error) (json.RawMessage, error) {
			usedFallback = true
			fr.do(sc.with("error", cause.Error()), fb.Do)
			if fb.Last {
				if cb.last == nil {
					none := "no earlier result to fall back on"
					if fb.None.set {
						if s, err := fr.text(fb.None, sc, false); err == nil {
							none = s
						}
					}
					return nil, fmt.Errorf("%s: %w", none, cause)
				}
				return cb.last, nil
			}
			return fr.payload(fb.Value, sc.with("error", cause.Error()))
		}
	}
	pl.Wrap(op)(context.Background()).Then(func(v json.RawMessage, err error) {
		switch {
		case err != nil:
			fr.do(sc.with("error", err.Error()).with("outcome", outcomeOf(err)), fc.OnError)
		case usedFallback:
			res, _ := fromJSON(v)
			fr.do(sc.with("result", res).with("outcome", "fallback"), fc.OnFallback)
		default:
			cb.last = v
			res, _ := fromJSON(v)
			fr.do(sc.with("result", res).with("outcome", "ok"), fc.OnOK)
		}
	})
	return nil
}

// ownScope is the scope in which the outcome of a pattern block's work runs: the block's
// app, and the delivery only when that app is the one reacting to it.
func (fr *fileRun) ownScope(sc scope, app *App) scope {
	if sc.app != app {
		sc.d = nil
	}
	sc.app = app
	return sc
}

// outcomeOf names how a call failed: timeout, open (the breaker refused), the error code
// a handler chose, or error.
func outcomeOf(err error) string {
	var re *rpc.Error
	switch {
	case errors.Is(err, rpc.ErrTimeout), errors.Is(err, resilience.ErrTimeout):
		return "timeout"
	case errors.Is(err, breaker.ErrOpen):
		return "open"
	case errors.As(err, &re):
		return re.Code
	}
	return "error"
}

func (fr *fileRun) startGather(ab *aggBlock, sc scope, pos Pos) error {
	fa := ab.def
	if !fr.mayPublish(pos, "gather "+fa.Name) {
		return nil
	}
	q := aggregate.Query{Sources: slices.Clone(fa.Sources), Timeout: ab.timeout, Partial: ab.partial}
	if sc.d != nil {
		q.CausedBy = sc.d.Envelope
	}
	sc = fr.ownScope(sc, fr.r.World.App(fa.App))
	ab.g.Gather(context.Background(), q).Then(func(res aggregate.Result, err error) {
		if err != nil {
			fr.do(sc.with("error", err.Error()), fa.OnError)
			return
		}
		g := newObject()
		srcs := make([]any, len(fa.Sources))
		for i, s := range fa.Sources {
			srcs[i] = s
		}
		g.set("sources", srcs)
		vals := newObject()
		for _, s := range fa.Sources {
			if raw, ok := res.Values[s]; ok {
				v, _ := fromJSON(raw)
				vals.set(s, v)
			}
		}
		g.set("values", vals)
		timedOut := []any{}
		for _, s := range res.TimedOut {
			timedOut = append(timedOut, s)
		}
		g.set("timed_out", timedOut)
		failed := newObject()
		missing := slices.Clone(timedOut)
		for _, s := range sortedKeys(res.Failed) {
			failed.set(s, res.Failed[s])
			missing = append(missing, s)
		}
		g.set("failed", failed)
		g.set("missing", missing)
		g.set("took", res.Took)
		g.set("complete", res.Complete())
		fr.do(sc.with("gather", g), fa.OnResult)
	})
	return nil
}

func (fr *fileRun) startSaga(s *fileSagaStart, sc scope) error {
	o := fr.sagas[s.Name]
	fs := fr.sagaDefs[s.Name]
	app := fr.r.World.App(fs.App)
	id, err := fr.text(s.ID, sc, false)
	if err != nil {
		return err
	}
	input, err := fr.payload(s.Input, sc)
	if err != nil {
		return err
	}
	var cause *bus.Envelope
	if s.Announce != nil {
		ann := *s.Announce
		if ann.Payload == nil {
			ann.Payload = s.Input
		}
		if cause, err = fr.publish(app, sc, &ann); err != nil {
			return err
		}
	}
	o.Start(context.Background(), id, input, cause).Then(func(st saga.State, err error) {
		v := toValue(st)
		if err != nil {
			v = nil
		}
		fr.do(scope{app: app, vals: map[string]any{"saga": v}}, fs.OnDone)
	})
	return nil
}
