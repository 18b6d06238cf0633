package scenarios

import (
	"context"
	"errors"
	"mfelab/bus"
	"mfelab/bus/dedup"
	"mfelab/bus/resilience"
	"mfelab/bus/rpc"
	"time"
)

// How a scenario file's reactions subscribe, and what a handler does with a message.
func msgValue(d bus.Delivery) *object {
	o := newObject()
	o.set("topic", d.Topic)
	o.set("source", d.Meta.Source)
	o.set("correlation", d.Correlation())
	o.set("id", d.ID.String())
	o.set("seq", float64(d.Seq))
	o.set("attempt", float64(d.Attempt))
	o.set("contract", d.SchemaVersion)
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

// refuse is the failure, if any, of an app about to do op: its fault switches (when
// checkFaults), then the first of fails whose when holds.
func (fr *fileRun) refuse(a *App, op string, checkFaults bool, fails []fileFail, sc scope) error {
	if checkFaults {
		if err := a.Faults.Check(op); err != nil {
			a.Note("failed " + op)
			return err
		}
	}
	for _, f := range fails {
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
		return out
	}
	return nil
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
			if err := fr.refuse(a, op, checkFaults, rc.Fail, sc); err != nil {
				return false, err
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
				sc = fr.withLet(rc, sc)
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
				fr.do(fr.withLet(rc, sc), rc.Do)
			}
			return nil
		}, opts...)
		if err != nil {
			return &FileError{File: fr.name, Line: rc.Pos.Line, Col: rc.Pos.Col, Msg: err.Error()}
		}
	}
	return nil
}
