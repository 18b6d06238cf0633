package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"mfelab/bus/cqrs"
	"mfelab/bus/eventsource"
	"mfelab/bus/rpc"
)

// orderState is the order aggregate.
type orderState struct {
	Status string `json:"status"`
	Lines  []Line `json:"lines"`
	Paid   string `json:"paid,omitempty"`
}

func applyOrderEvent(o orderState, e eventsource.Event) (orderState, error) {
	switch e.Type {
	case "order.placed":
		o.Status = "placed"
	case "order.line-added":
		var l Line
		if err := e.Decode(&l); err != nil {
			return o, err
		}
		o.Lines = append(o.Lines, l)
	case "order.paid":
		var p struct{ Amount string }
		if err := e.Decode(&p); err != nil {
			return o, err
		}
		o.Status, o.Paid = "paid", p.Amount
	case "order.shipped":
		o.Status = "shipped"
	default:
		return o, fmt.Errorf("unknown event %q", e.Type)
	}
	return o, nil
}

// orderCommand is what Host sends; ExpectedVersion > 0 asks for optimistic concurrency.
type orderCommand struct {
	Order           string `json:"order"`
	SKU             string `json:"sku,omitempty"`
	Qty             int    `json:"qty,omitempty"`
	ExpectedVersion int    `json:"expectedVersion,omitempty"`
}

var _ = register(&Scenario{
	ID:    "event-sourcing-cqrs",
	Title: "Event sourcing and CQRS",
	Watch: "Host sends commands; Cart, owner of the order aggregate, checks each against the order's history and " +
		"appends events; the Dashboard's read model follows the event stream a little behind (watch its lag) and " +
		"answers queries. A command that breaks a rule comes back to Host as a validation error; one based on a " +
		"stale version loses to the newer write. Scrub the history: the order's state at any past version or time " +
		"is rebuilt from its events, starting from the nearest snapshot. Mid-run the read model is rebuilt from zero.",
	Knobs: []Knob{
		{Name: "snapshot-every", Label: "Snapshot every N events", Kind: Int, Default: "3", Min: "0", Max: "10", Samples: []string{"0", "1"}},
		{Name: "view-latency", Label: "Read model latency", Kind: Duration, Default: "100ms", Min: "0s", Max: "2s", Samples: []string{"0s", "600ms"}},
		{Name: "rebuild", Label: "Rebuild the read model mid-run", Kind: Bool, Default: "true"},
	},
	Horizon: 4 * time.Second,
	Setup: func(r *Run) error {
		w := r.World
		host, cart, dash := w.App(Host), w.App(Cart), w.App(Dashboard)
		dash.Faults.SetLatency(r.Knobs.Duration("view-latency"))
		store := eventsource.NewStore(r.Bus, eventsource.Options{Publish: cart.Conn})
		repo, err := eventsource.NewRepository(store, eventsource.RepositoryOptions[orderState]{
			Initial: func() orderState { return orderState{} }, Apply: applyOrderEvent, SnapshotEvery: r.Knobs.Int("snapshot-every")})
		if err != nil {
			return err
		}
		cmds, queries := cqrs.NewCommands(), cqrs.NewQueries()
		decode := func(raw json.RawMessage) (orderCommand, error) {
			var c orderCommand
			if err := json.Unmarshal(raw, &c); err != nil || c.Order == "" {
				return c, cqrs.Invalid("want {\"order\": id, ...}")
			}
			return c, nil
		}
		// each command: a rule check on the current state, then the events
		handle := func(name string, decide func(orderState, orderCommand) ([]eventsource.New, error)) error {
			return cmds.Handle(cart.Conn, name, func(raw json.RawMessage) error { _, err := decode(raw); return err },
				func(_ context.Context, req rpc.Request) (any, error) {
					c, _ := decode(req.Params())
					stream := "order-" + c.Order
					evs, err := repo.Execute(stream, func(o orderState, v int) ([]eventsource.New, error) {
						if c.ExpectedVersion > 0 && c.ExpectedVersion != v {
							return nil, &eventsource.ConcurrencyError{Stream: stream, Expected: c.ExpectedVersion, Actual: v}
						}
						return decide(o, c)
					})
					if err != nil {
						var ve *cqrs.ValidationError
						if errors.As(err, &ve) {
							return nil, rpc.NewError("validation", "%s", strings.Join(ve.Problems, "; "))
						}
						return nil, rpc.NewError("conflict", "%v", err)
					}
					st, v, _ := repo.Load(stream)
					cart.Set(stream, fmt.Sprintf("%s, %d lines (v%d)", st.Status, len(st.Lines), v))
					return map[string]int{"version": evs[len(evs)-1].Version}, nil
				})
		}
		errs := []error{
			handle("order.place", func(o orderState, c orderCommand) ([]eventsource.New, error) {
				if o.Status != "" {
					return nil, cqrs.Invalid("order " + c.Order + " already exists")
				}
				return []eventsource.New{{Type: "order.placed", Data: c}}, nil
			}),
			handle("order.add-line", func(o orderState, c orderCommand) ([]eventsource.New, error) {
				if o.Status != "placed" {
					return nil, cqrs.Invalid("lines can only be added to a placed order, this one is " + orNone(o.Status))
				}
				return []eventsource.New{{Type: "order.line-added", Data: Line{SKU: c.SKU, Qty: c.Qty}}}, nil
			}),
			handle("order.pay", func(o orderState, c orderCommand) ([]eventsource.New, error) {
				if o.Status != "placed" || len(o.Lines) == 0 {
					return nil, cqrs.Invalid("only a placed order with lines can be paid")
				}
				cents, err := total(o.Lines)
				if err != nil {
					return nil, cqrs.Invalid(err.Error())
				}
				return []eventsource.New{{Type: "order.paid", Data: map[string]string{"amount": money(cents)}}}, nil
			}),
			handle("order.ship", func(o orderState, c orderCommand) ([]eventsource.New, error) {
				if o.Status != "paid" {
					return nil, cqrs.Invalid("only a paid order can ship")
				}
				return []eventsource.New{{Type: "order.shipped", Data: c}}, nil
			}),
		}
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		type summary map[string]string
		proj, err := cqrs.Project(dash.Conn, store, cqrs.ProjectionOptions[summary]{Name: "orders-by-status",
			Initial: func() summary { return summary{} },
			Apply: func(s summary, e eventsource.Event) (summary, error) {
				switch e.Type {
				case "order.placed", "order.paid", "order.shipped":
					s[e.Stream] = strings.TrimPrefix(e.Type, "order.")
				}
				dash.Set("view "+e.Stream, s[e.Stream])
				return s, nil
			}})
		if err != nil {
			return err
		}
		maxLag := uint64(0)
		r.watchHandlers(func() {
			if l := proj.Lag(); l.Events > maxLag {
				maxLag = l.Events
			}
			dash.Set("view lag", fmt.Sprintf("%d events", proj.Lag().Events))
		})
		if err := queries.Handle(dash.Conn, "orders.summary", nil, func(context.Context, rpc.Request) (any, error) {
			out := map[string]string{}
			proj.Read(func(s summary) {
				for k, v := range s {
					out[k] = v
				}
			})
			return out, nil
		}); err != nil {
			return err
		}

		outcomes := map[string]string{}
		send := func(key, name string, c orderCommand) {
			cmds.Send(context.Background(), host.Conn, name, c, rpc.Correlation("order-"+c.Order)).Then(func(v json.RawMessage, err error) {
				var re *rpc.Error
				var ve *cqrs.ValidationError
				switch {
				case errors.As(err, &ve):
					outcomes[key] = "validation"
					host.Set(key, err.Error())
				case errors.As(err, &re):
					outcomes[key] = re.Code
					host.Set(key, re.Code+": "+re.Message)
				case err != nil:
					outcomes[key] = "error"
					host.Set(key, err.Error())
				default:
					outcomes[key] = "ok"
					host.Set(key, "ok "+string(v))
				}
			})
		}
		step := 250 * time.Millisecond
		script := []struct {
			key, name string
			cmd       orderCommand
		}{
			{"place", "order.place", orderCommand{Order: "7"}},
			{"add keyboard", "order.add-line", orderCommand{Order: "7", SKU: "keyboard", Qty: 1}},
			{"add mice", "order.add-line", orderCommand{Order: "7", SKU: "mouse", Qty: 2}},
			{"stale add", "order.add-line", orderCommand{Order: "7", SKU: "monitor", Qty: 1, ExpectedVersion: 2}},
			{"pay", "order.pay", orderCommand{Order: "7"}},
			{"add after paying", "order.add-line", orderCommand{Order: "7", SKU: "monitor", Qty: 1}},
			{"ship", "order.ship", orderCommand{Order: "7"}},
		}
		for i, s := range script {
			r.At(time.Duration(i)*step, "Host sends "+s.name+" ("+s.key+")", func() { send(s.key, s.name, s.cmd) })
		}
		if r.Knobs.Bool("rebuild") {
			r.At(2*time.Second, "the read model is rebuilt from zero", func() { _ = proj.Rebuild() })
		}
		// The query comes once the read model has caught up with a rebuild at 2s, however
		// slow the view, and the run lasts until its answer is back.
		latency := r.Knobs.Duration("view-latency")
		queryAt := max(3*time.Second, 2500*time.Millisecond+2*latency)
		r.LastUntil(queryAt + 2*latency + time.Second)
		var answer string
		r.At(queryAt, "Host queries the read model", func() {
			queries.Ask(context.Background(), host.Conn, "orders.summary", nil).Then(func(v json.RawMessage, err error) {
				answer = string(v)
				if err != nil {
					answer = err.Error()
				}
				host.Set("summary", answer)
			})
		})

		want := map[string]string{"place": "ok", "add keyboard": "ok", "add mice": "ok", "stale add": "conflict",
			"pay": "ok", "add after paying": "validation", "ship": "ok"}
		for _, s := range script {
			r.Expect(fmt.Sprintf("%s: %s", s.key, want[s.key]), func() (bool, string) { return expectEq(outcomes[s.key], want[s.key]) })
		}
		r.Expect("the order is shipped with two lines, paid 89.70", func() (bool, string) {
			o, v, err := repo.Load("order-7")
			return expectEq(fmt.Sprintf("%s %d %s v%d %v", o.Status, len(o.Lines), o.Paid, v, err), "shipped 2 89.70 v5 <nil>")
		})
		r.Expect("time travel: at version 2 the order was placed with one line", func() (bool, string) {
			o, _, err := repo.StateAtVersion("order-7", 2)
			return expectEq(fmt.Sprintf("%s %d %v", o.Status, len(o.Lines), err), "placed 1 <nil>")
		})
		r.Expect("time travel: at +0.9s the order had both lines and was not paid", func() (bool, string) {
			o, _, err := repo.StateAt("order-7", r.Bus.Epoch().Add(900*time.Millisecond))
			return expectEq(fmt.Sprintf("%s %d %v", o.Status, len(o.Lines), err), "placed 2 <nil>")
		})
		r.Expect("the read model answers the query: shipped", func() (bool, string) { return expectEq(answer, `{"order-7":"shipped"}`) })
		r.Expect("the read model has caught up", func() (bool, string) { return expectEq(proj.Lag().Events, 0) })
		if r.Knobs.Duration("view-latency") > 0 {
			r.Expect("the read model lagged behind the writes", func() (bool, string) { return maxLag > 0, fmt.Sprintf("max lag %d events", maxLag) })
		}
		// the order's stream ends at version 5: a snapshot every N events is taken only if
		// N is no more than that
		const finalVersion = 5
		switch n := r.Knobs.Int("snapshot-every"); {
		case n > 0 && n <= finalVersion:
			r.Expect("snapshots were taken", func() (bool, string) {
				st := repo.Stats()
				return st.Snapshots > 0, fmt.Sprintf("%d snapshots, %d loads from a snapshot", st.Snapshots, st.FromSnapshot)
			})
		case n > finalVersion:
			r.Expect(fmt.Sprintf("no snapshot: the stream ends at version %d, before the first at %d", finalVersion, n), func() (bool, string) {
				st := repo.Stats()
				return st.Snapshots == 0, fmt.Sprintf("%d snapshots", st.Snapshots)
			})
		}
		return nil
	},
})
