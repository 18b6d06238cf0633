package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"mfelab/bus"
	"mfelab/bus/aggregate"
	"mfelab/bus/async"
	"mfelab/bus/breaker"
	"mfelab/bus/resilience"
	"mfelab/bus/rpc"
	"mfelab/bus/saga"
	"time"
)

// How a scenario file's pattern blocks (breakers, calls, aggregators, sagas) are set up
// on the existing pattern packages.
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
					sv, err := fr.schemaVersion(topic, pub.Contract)
					if err != nil {
						fr.errRun(pub.Pos, "%v", err)
						return async.Failed[any](err)
					}
					_, err = a.Conn.Send(bus.Msg{Topic: topic, Payload: p, SchemaVersion: sv, CausationID: x.Cause().ID, CorrelationID: x.ID()})
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
