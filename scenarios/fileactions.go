package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mfelab/bus"
	"mfelab/bus/aggregate"
	"mfelab/bus/async"
	"mfelab/bus/breaker"
	"mfelab/bus/resilience"
	"mfelab/bus/rpc"
	"mfelab/bus/saga"
	"slices"
)

// What a scenario file's actions do when a reaction or the timeline runs them.
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
	case len(a.Unset) > 0:
		for _, k := range a.Unset {
			key, err := fr.text(k, sc, false)
			if err != nil {
				return err
			}
			app.Delete(key)
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
	if m.SchemaVersion, err = fr.schemaVersion(topic, p.Contract); err != nil {
		return nil, err
	}
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

// ignoreRefused drops the errors the bus shows itself (an ACL refusal or a payload that
// breaks its contract is a rejected trace event), so they do not count twice.
func ignoreRefused(err error) error {
	var acl *bus.ACLError
	if errors.As(err, &acl) || errors.Is(err, bus.ErrContract) {
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
