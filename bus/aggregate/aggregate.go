// Package aggregate is scatter-gather on the bus: ask several sources at once, collect
// their answers until all have come or the timeout passes, and hand back one result.
//
// Each source answers requests on "aggregate.<source>.request" (Respond registers one) and
// the gatherer hears the answers on "aggregate.<source>.response"; underneath it is RPC
// (package rpc), so answers are paired with requests by causation and a late answer is
// counted and dropped.
//
// In strict mode a gather fails with *IncompleteError naming every source that timed out
// or failed. In partial mode it succeeds with what arrived and lists the missing sources
// in Result.TimedOut and Result.Failed. A Transform, if given, turns the collected values
// into the final value.
//
// Gather keeps its bookkeeping on the loop: call it from a handler, a timer or Bus.Post.
package aggregate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"mfelab/bus"
	"mfelab/bus/async"
	"mfelab/bus/rpc"
)

// RequestTopic is where source answers requests.
func RequestTopic(source string) string { return "aggregate." + source + ".request" }

// ResponseTopic is where the answers of source arrive.
func ResponseTopic(source string) string { return "aggregate." + source + ".response" }

// ErrIncomplete is what a strict gather's error is, for errors.Is.
var ErrIncomplete = errors.New("aggregate incomplete")

// IncompleteError names the sources a strict gather did not hear from.
type IncompleteError struct {
	TimedOut []string
	Failed   map[string]string // source -> error
}

func (e *IncompleteError) Error() string {
	var parts []string
	if len(e.TimedOut) > 0 {
		parts = append(parts, "timed out: "+strings.Join(e.TimedOut, ", "))
	}
	for _, s := range slices.Sorted(maps.Keys(e.Failed)) {
		parts = append(parts, fmt.Sprintf("%s failed: %s", s, e.Failed[s]))
	}
	return "aggregate incomplete: " + strings.Join(parts, "; ")
}

func (e *IncompleteError) Unwrap() error { return ErrIncomplete }

// Query is one gather.
type Query struct {
	Sources []string
	// Params is sent to every source.
	Params any
	// Timeout bounds the whole gather (default 5s).
	Timeout time.Duration
	// Partial returns what arrived instead of failing.
	Partial bool
	// Transform, if set, computes Result.Value from the collected values.
	Transform func(values map[string]json.RawMessage) (any, error)
	// CausedBy puts the requests in a causal chain.
	CausedBy *bus.Envelope
}

// Result is a finished gather.
type Result struct {
	Values   map[string]json.RawMessage
	TimedOut []string          // in Query.Sources order
	Failed   map[string]string // source -> error
	Value    any               // Transform's result
	Took     time.Duration
}

// Complete reports whether every source answered.
func (r Result) Complete() bool { return len(r.TimedOut) == 0 && len(r.Failed) == 0 }

// Gatherer asks sources as one app.
type Gatherer struct {
	b      *bus.Bus
	client *rpc.Client
}

// NewGatherer makes a gatherer publishing as app. The app's ACL must allow publishing to
// aggregate.*.request and subscribing to aggregate.*.response.
func NewGatherer(app *bus.App) *Gatherer {
	return &Gatherer{b: app.Bus(), client: rpc.NewClient(app, rpc.ClientOptions{
		ReplyTo: func(method string) string {
			return strings.TrimSuffix(method, ".request") + ".response"
		},
	})}
}

// Stats exposes the underlying client's counters (late answers among them).
func (g *Gatherer) Stats() rpc.Stats { return g.client.Stats() }

// Gather asks every source and settles once all have answered or the timeout passes.
func (g *Gatherer) Gather(ctx context.Context, q Query) *async.Future[Result] {
	if len(q.Sources) == 0 {
		return async.Failed[Result](errors.New("aggregate: no sources"))
	}
	if q.Timeout <= 0 {
		q.Timeout = 5 * time.Second
	}
	out, settle := async.New[Result]()
	start := g.b.Now()
	res := Result{Values: map[string]json.RawMessage{}, Failed: map[string]string{}}
	pending := len(q.Sources)
	finished := false
	finish := func() {
		if finished {
			return
		}
		finished = true
		for _, s := range q.Sources {
			if _, ok := res.Values[s]; !ok {
				if _, failed := res.Failed[s]; !failed {
					res.TimedOut = append(res.TimedOut, s)
				}
			}
		}
		res.Took = g.b.Now().Sub(start)
		if !res.Complete() && !q.Partial {
			settle(Result{}, &IncompleteError{TimedOut: res.TimedOut, Failed: res.Failed})
			return
		}
		if q.Transform != nil {
			v, err := q.Transform(res.Values)
			if err != nil {
				settle(Result{}, fmt.Errorf("aggregate: transform: %w", err))
				return
			}
			res.Value = v
		}
		settle(res, nil)
	}
	timer := g.b.After(q.Timeout, finish)
	opts := []rpc.CallOption{rpc.Timeout(q.Timeout)}
	if q.CausedBy != nil {
		opts = append(opts, rpc.CausedBy(q.CausedBy))
	}
	for _, src := range q.Sources {
		g.client.Call(ctx, RequestTopic(src), q.Params, opts...).Then(func(v json.RawMessage, err error) {
			if finished {
				return
			}
			if err != nil {
				if errors.Is(err, rpc.ErrTimeout) {
					return // finish lists it
				}
				res.Failed[src] = err.Error()
			} else {
				res.Values[src] = v
			}
			if pending--; pending == 0 {
				timer.Stop()
				finish()
			}
		})
	}
	return out
}

// Respond makes app answer gathers as source with fn.
func Respond(app *bus.App, source string, fn func(ctx context.Context, req rpc.Request) (any, error)) (*rpc.Server, error) {
	s := rpc.NewServer(app)
	if err := s.Handle(RequestTopic(source), fn); err != nil {
		return nil, err
	}
	return s, nil
}

// RespondAsync is Respond for a source that answers later (after simulated work).
func RespondAsync(app *bus.App, source string, fn func(ctx context.Context, req rpc.Request, reply rpc.Reply)) (*rpc.Server, error) {
	s := rpc.NewServer(app)
	if err := s.HandleAsync(RequestTopic(source), fn); err != nil {
		return nil, err
	}
	return s, nil
}
