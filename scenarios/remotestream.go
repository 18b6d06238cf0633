package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"mfelab/bus"
	"mfelab/bus/async"
	"mfelab/bus/breaker"
	"mfelab/bus/resilience"
	"mfelab/bus/rpc"
	"mfelab/bus/saga"
)

// A stream keeps a scenario's story going for a while instead of telling it once, so that
// a joined run shows what a live system does when an app in another process goes away
// and comes back: one checkout places one order, which cannot open a breaker, let alone
// close it again. Only a run that asks for it (Options.Stream) streams: a run of the
// scenario on its own, and its log, stay exactly as they are.
var streams = map[string]string{
	"checkout-orchestrated": "an order every second, its charge through a breaker around Payment",
}

// StreamText says what a stream of s does, or "" when s cannot stream.
func (s *Scenario) StreamText() string {
	if s.Source != "" {
		return "" // a scenario file tells its story once
	}
	return streams[s.ID]
}

// Streams reports whether the run keeps its story going (Options.Stream).
func (r *Run) Streams() bool { return r.stream > 0 }

// observers are the observe funcs of a run made with opts: the stream is set before the
// scenario sets up, since Setup reads it.
func (opts Options) observers() []func(*Run) {
	if opts.Stream <= 0 {
		return opts.Observe
	}
	set := func(r *Run) {
		if r.Scenario.StreamText() != "" {
			r.stream = opts.Stream
		}
	}
	return append([]func(*Run){set}, opts.Observe...)
}

// The stream's pace and its breaker. A call to a service that has gone answers nothing,
// so the charge times out after a second; two such timeouts in a row open the breaker,
// which then refuses charges at once (the saga compensates without waiting) and after
// three seconds lets one trial charge through: the first that Payment, back again,
// answers closes it.
const (
	streamEvery       = time.Second
	streamCallTimeout = time.Second
	streamTrips       = 2
	streamOpenTimeout = 3 * time.Second
	// streamShown is how many of the newest orders the saga timeline shows.
	streamShown = 4
)

// streamCheckout wires the orchestrated checkout as a stream of orders, one every
// streamEvery for the run's stream, each a saga whose charge goes through a breaker.
func streamCheckout(r *Run, sh *shop) error {
	w := r.World
	cart := w.App(Cart)
	client := rpc.NewClient(cart.Conn, rpc.ClientOptions{Timeout: streamCallTimeout})
	var transitions []string
	br, err := breaker.New(breaker.Config{Name: "payment", Events: cart.Conn, ConsecutiveFailures: streamTrips,
		OpenTimeout: streamOpenTimeout, HalfOpenMaxCalls: 1, SuccessThreshold: 1,
		OnStateChange: func(t breaker.Transition) { transitions = append(transitions, t.From.String()+">"+t.To.String()) }})
	if err != nil {
		return err
	}
	r.AddBreaker(br)
	call := func(method string) func(context.Context, *saga.Exec) *async.Future[any] {
		return func(ctx context.Context, x *saga.Exec) *async.Future[any] {
			var req OrderRequest
			_ = x.Input(&req)
			opts := []rpc.CallOption{rpc.CausedBy(x.Cause())}
			if step := x.Undoing(); step != "" {
				opts = append(opts, rpc.Header(saga.HeaderCompensates, step))
			}
			return async.Map(client.Call(ctx, method, req, opts...), func(v json.RawMessage) (any, error) { return v, nil })
		}
	}
	guarded := resilience.Pipeline[any]{Breaker: br}
	charge := func(ctx context.Context, x *saga.Exec) *async.Future[any] {
		return guarded.Wrap(func(ctx context.Context) *async.Future[any] { return call("payment.charge")(ctx, x) })(ctx)
	}
	def := saga.Definition{Name: "checkout", Steps: []saga.Step{
		{Name: "reserve", Action: call("inventory.reserve"), Compensate: call("inventory.release")},
		{Name: "charge", Action: charge, Compensate: call("payment.refund")},
		{Name: "ship", Action: call("shipping.create"), Compensate: call("shipping.cancel")},
		{Name: "confirm", Action: func(_ context.Context, x *saga.Exec) *async.Future[any] {
			_, err := cart.Conn.Send(bus.Msg{Topic: "order.confirmed", Payload: map[string]string{"order": x.ID()}, CausationID: x.Cause().ID, CorrelationID: x.ID()})
			return async.Settled[any](nil, err)
		}},
	}}
	o, err := saga.New(cart.Conn, def, saga.Options{})
	if err != nil {
		return err
	}
	r.AddSagas(func() []SagaView {
		views := orchestratedViews(o)
		return views[max(0, len(views)-streamShown):]
	})
	cents, _ := total(theOrder)
	placed := 0
	orders := max(1, int(r.stream/streamEvery))
	for i := range orders {
		id := "order-" + strconv.Itoa(i+1)
		r.At(100*time.Millisecond+time.Duration(i)*streamEvery, id+" is placed", func() {
			restock(w, sh, theOrder)
			req := OrderRequest{Order: id, Lines: theOrder, Amount: float64(cents) / 100}
			env, _ := cart.Conn.Send(bus.Msg{Topic: "order.placed", Payload: req, CorrelationID: id})
			placed++
			cart.Set("order "+id, "pending")
			o.Start(context.Background(), id, req, env).Then(func(st saga.State, _ error) {
				status := "confirmed"
				if st.Status != saga.Completed {
					status = "cancelled"
				}
				cart.Add("orders "+status, 1)
				cart.Set("last order", id+" "+status)
				forgetOrder(w, sh, id)
				_, _ = cart.Conn.Send(bus.Msg{Topic: "notify.order-" + status, CorrelationID: id,
					Payload: map[string]string{"message": "Order " + id + " " + status}})
			})
		})
	}
	// the last order's calls may all time out before the run ends
	r.LastUntil(100*time.Millisecond + time.Duration(orders)*streamEvery + 4*streamCallTimeout)

	r.Expect("every order placed ends confirmed or cancelled", func() (bool, string) {
		done := cart.Int("orders confirmed") + cart.Int("orders cancelled")
		return done == placed, fmt.Sprintf("%d placed: %d confirmed, %d cancelled", placed, cart.Int("orders confirmed"), cart.Int("orders cancelled"))
	})
	r.Expect("every cancelled order gave back what it had reserved and charged", func() (bool, string) {
		for _, st := range o.Instances() {
			if st.Status == saga.Completed {
				continue
			}
			for _, step := range []string{"reserve", "charge"} {
				if slices.Contains(st.Done, step) && !slices.Contains(st.Compensated, step) {
					return false, st.ID + ": " + step + " not undone"
				}
			}
		}
		return true, ""
	})
	r.Expect("the breaker ends closed", func() (bool, string) {
		return br.State() == breaker.Closed, orNone(strings.Join(transitions, " "))
	})
	return nil
}

// restock fills a local Inventory up again when it could not serve an order of lines: a
// stream orders for longer than the shop's stock lasts. A remote Inventory is its own
// process's to fill.
func restock(w *World, sh *shop, lines []Line) {
	inv := w.App(Inventory)
	if inv.Remote() {
		return
	}
	for _, l := range lines {
		if inv.Int("stock "+l.SKU) < l.Qty {
			for _, sku := range skus {
				inv.Set("stock "+sku, strconv.Itoa(initialStock[sku]-sh.held(sku)))
			}
			inv.Note("restocked")
			return
		}
	}
}

// held is how many of sku the shop holds reserved for orders still under way.
func (s *shop) held(sku string) int {
	n := 0
	for _, lines := range s.reserved {
		for _, l := range lines {
			if l.SKU == sku {
				n += l.Qty
			}
		}
	}
	return n
}

// forgetOrder drops a settled order's lines from the panels of the local services: a
// stream would otherwise grow each card by a line a second. The cart keeps its counts
// and the last order.
func forgetOrder(w *World, sh *shop, id string) {
	w.App(Cart).Delete("order " + id)
	if inv := w.App(Inventory); !inv.Remote() {
		delete(sh.reserved, id) // shipped or released: no longer held
		inv.Delete("reserved " + id)
	}
	for _, app := range []struct{ name, key string }{{Payment, "payment "}, {Shipping, "shipment "}} {
		if a := w.App(app.name); !a.Remote() {
			a.Delete(app.key + id)
		}
	}
}
