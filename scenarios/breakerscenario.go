package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"mfelab/bus"
	"mfelab/bus/async"
	"mfelab/bus/breaker"
	"mfelab/bus/resilience"
	"mfelab/bus/rpc"
)

// outage windows per failure pattern, as [from, to) offsets
var breakerPatterns = map[string][][2]time.Duration{
	"healthy":  nil,
	"outage":   {{time.Second, 3 * time.Second}},
	"flapping": {{time.Second, 1500 * time.Millisecond}, {2 * time.Second, 2500 * time.Millisecond}, {3 * time.Second, 3500 * time.Millisecond}},
}

var _ = register(&Scenario{
	ID:    "circuit-breaker",
	Title: "Circuit breaker with cached fallback",
	Watch: "Cart polls Inventory's stock every 200ms through a circuit breaker, with a timeout and a fallback to the " +
		"last stock it saw. When Inventory goes down the failures pile up until the breaker opens: from then on " +
		"Cart stops calling and answers from its cache. After the open timeout the breaker half-opens and lets one " +
		"trial call through; a success closes it again. Watch the tile: state light, counts, error rate, thresholds.",
	Knobs: []Knob{
		{Name: "pattern", Label: "Failure pattern", Kind: Choice, Default: "outage", Choices: []string{"healthy", "outage", "flapping"},
			Help: "outage: Inventory down from 1s to 3s; flapping: down for half of each second from 1s to 3.5s"},
		{Name: "threshold", Label: "Consecutive failures to open", Kind: Int, Default: "3", Min: "1", Max: "10", Samples: []string{"1", "6"}},
		{Name: "open-timeout", Label: "Open timeout", Kind: Duration, Default: "1s", Min: "100ms", Max: "10s", Samples: []string{"400ms", "2s"}},
	},
	Horizon: 6 * time.Second,
	Setup: func(r *Run) error {
		w := r.World
		if _, err := newShop(w); err != nil {
			return err
		}
		cart, inv, dash := w.App(Cart), w.App(Inventory), w.App(Dashboard)
		var transitions []string
		br, err := breaker.New(breaker.Config{Name: "inventory", Events: cart.Conn, ConsecutiveFailures: r.Knobs.Int("threshold"),
			OpenTimeout: r.Knobs.Duration("open-timeout"), HalfOpenMaxCalls: 1, SuccessThreshold: 1,
			OnStateChange: func(t breaker.Transition) { transitions = append(transitions, t.From.String()+">"+t.To.String()) }})
		if err != nil {
			return err
		}
		r.AddBreaker(br)
		if _, err := dash.Conn.Subscribe("breaker.+.state", func(_ context.Context, d bus.Delivery) error {
			var t breaker.Transition
			_ = json.Unmarshal(d.Payload, &t)
			dash.Set("breaker "+t.Name, t.To.String())
			return nil
		}); err != nil {
			return err
		}
		client := rpc.NewClient(cart.Conn, rpc.ClientOptions{})
		cached := json.RawMessage(nil)
		policy := resilience.Pipeline[json.RawMessage]{
			Scheduler: r.Bus,
			Fallback: func(_ context.Context, err error) (json.RawMessage, error) {
				cart.Add("answered from cache", 1)
				if cached == nil {
					return nil, fmt.Errorf("no cached stock yet: %w", err)
				}
				return cached, nil
			},
			Breaker: br,
			Timeout: 150 * time.Millisecond,
		}
		poll := policy.Wrap(func(ctx context.Context) *async.Future[json.RawMessage] {
			return client.Call(ctx, "inventory.stock", OrderRequest{})
		})
		// Poll for six seconds, or for as long as a breaker that opens at the end of the
		// last outage needs to wait out its open timeout and make its trial call.
		recovered := time.Duration(0)
		for _, win := range breakerPatterns[r.Knobs.Str("pattern")] {
			recovered = max(recovered, win[1])
		}
		const every = 200 * time.Millisecond
		polls := max(30, int((recovered+r.Knobs.Duration("open-timeout")+3*every)/every)+1)
		lastPoll := time.Duration(polls-1)*every + every/2
		r.LastUntil(lastPoll + every/2)
		for i := range polls {
			at := time.Duration(i) * every
			r.Bus.After(at, func() {
				fromCache := cart.Int("answered from cache")
				poll(context.Background()).Then(func(v json.RawMessage, err error) {
					switch {
					case err != nil:
						cart.Set("stock", "unknown: "+err.Error())
					case cart.Int("answered from cache") > fromCache:
						cart.Set("stock", "cached "+string(v))
					default:
						cart.Add("answered live", 1)
						cached = v
						cart.Set("stock", "live "+string(v))
					}
				})
			})
		}
		for _, win := range breakerPatterns[r.Knobs.Str("pattern")] {
			r.At(win[0], "Inventory goes down", func() { inv.Faults.SetDown(true) })
			r.At(win[1], "Inventory comes back", func() { inv.Faults.SetDown(false) })
		}
		r.At(lastPoll, "last poll", func() {})

		pattern := r.Knobs.Str("pattern")
		r.Expect("every poll is answered, live or from the cache", func() (bool, string) {
			got := cart.Int("answered live") + cart.Int("answered from cache")
			return expectEq(got, polls)
		})
		r.Expect("the breaker ends closed", func() (bool, string) { return expectEq(br.State(), breaker.Closed) })
		switch pattern {
		case "healthy":
			r.Expect("the breaker never opens", func() (bool, string) { return expectEq(strings.Join(transitions, " "), "") })
		case "outage":
			r.Expect("closed > open > half-open > closed", func() (bool, string) {
				got := strings.Join(transitions, " ")
				ok := strings.HasPrefix(got, "closed>open open>half-open") && strings.HasSuffix(got, "half-open>closed")
				return ok, got
			})
			if r.Knobs.Duration("open-timeout") >= every {
				r.Expect("calls are refused while open, so Inventory sees fewer requests than polls", func() (bool, string) {
					s := br.Snapshot()
					return s.Counts.Rejected > 0, fmt.Sprintf("%d refused, %d calls", s.Counts.Rejected, s.Counts.Calls)
				})
			} else {
				r.Expect("the open timeout is shorter than the 200ms between polls: every poll finds the breaker half-open and is let through as a trial", func() (bool, string) {
					s := br.Snapshot()
					return s.Counts.Rejected == 0, fmt.Sprintf("%d refused, %d calls", s.Counts.Rejected, s.Counts.Calls)
				})
			}
		case "flapping":
			r.Expect("the breaker reacts to the flapping", func() (bool, string) {
				// a short window only opens the breaker when it holds enough failures
				opened := strings.Contains(strings.Join(transitions, " "), "closed>open")
				wantOpen := r.Knobs.Int("threshold") <= 3
				return opened == wantOpen, fmt.Sprintf("transitions %v", transitions)
			})
		}
		return nil
	},
})
