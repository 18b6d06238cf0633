package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"mfelab/bus"
	"mfelab/bus/async"
	"mfelab/bus/rpc"
	"mfelab/bus/saga"
)

// The checkout knobs, shared by both saga styles so their logs can be compared.
var checkoutKnobs = []Knob{
	{Name: "fail", Label: "Failing step", Kind: Choice, Default: "none",
		Choices: []string{"none", "reserve", "charge", "ship", "refund-too"},
		Help:    "which service refuses its part; refund-too makes shipping fail and then the refund as well"},
	{Name: "latency", Label: "Service latency", Kind: Duration, Default: "20ms", Min: "0s", Max: "1s", Samples: []string{"0s", "250ms"},
		Help: "how long each service takes to receive a message"},
}

var theOrder = []Line{{SKU: "keyboard", Qty: 1}, {SKU: "mouse", Qty: 2}}

const orderID = "order-1"

// applyCheckoutFaults sets the services' fault switches from the knobs.
func applyCheckoutFaults(r *Run) {
	w := r.World
	for _, name := range []string{Inventory, Payment, Shipping} {
		w.App(name).Faults.SetLatency(r.Knobs.Duration("latency"))
	}
	switch r.Knobs.Str("fail") {
	case "reserve":
		w.App(Inventory).Faults.FailNext("inventory.reserve", 1)
	case "charge":
		w.App(Payment).Faults.FailNext("payment.charge", 1)
	case "ship":
		w.App(Shipping).Faults.FailNext("shipping.create", 1)
	case "refund-too":
		w.App(Shipping).Faults.FailNext("shipping.create", 1)
		w.App(Payment).Faults.FailNext("payment.refund", 1)
	}
}

// startCheckout opens the shop, sets the fault knobs and schedules the customer filling
// the cart: what both saga styles share before they part ways.
func startCheckout(r *Run) (*shop, error) {
	sh, err := newShop(r.World)
	if err != nil {
		return nil, err
	}
	applyCheckoutFaults(r)
	r.At(0, "the customer adds a keyboard and two mice", func() { addToCart(r.World, orderID, theOrder) })
	return sh, nil
}

// expectCheckout declares the outcomes both styles share; stuck says the choreography
// cannot finish its rollback when the refund fails.
func expectCheckout(r *Run, stuck bool) {
	w := r.World
	fail := r.Knobs.Str("fail")
	wantStatus := map[string]string{"none": "confirmed", "reserve": "cancelled", "charge": "cancelled", "ship": "cancelled", "refund-too": "cancelled"}[fail]
	wantStock := "keyboard=5 mouse=10"
	if fail == "none" || (stuck && fail == "refund-too") {
		wantStock = "keyboard=4 mouse=8"
	}
	wantPayment := map[string]string{"none": "captured 89.70", "reserve": "", "charge": "", "ship": "refunded", "refund-too": "captured 89.70"}[fail]
	if stuck && fail == "refund-too" {
		wantStatus = "cancelling"
	}
	r.Expect("the order ends "+wantStatus, func() (bool, string) { return expectEq(w.App(Cart).Get("order "+orderID), wantStatus) })
	r.expectOf(Inventory, "stock is "+wantStock, func() (bool, string) {
		inv := w.App(Inventory)
		return expectEq(fmt.Sprintf("keyboard=%d mouse=%d", inv.Int("stock keyboard"), inv.Int("stock mouse")), wantStock)
	})
	r.expectOf(Payment, "the payment is "+orNone(wantPayment), func() (bool, string) {
		return expectEq(orNone(w.App(Payment).Get("payment "+orderID)), orNone(wantPayment))
	})
	wantShip := map[bool]string{true: "scheduled", false: "none"}[fail == "none"]
	r.expectOf(Shipping, "the shipment is "+wantShip, func() (bool, string) {
		return expectEq(orNone(w.App(Shipping).Get("shipment "+orderID)), wantShip)
	})
	if !(stuck && fail == "refund-too") {
		wantNote := map[bool]string{true: "Order order-1 confirmed", false: "Order order-1 cancelled"}[fail == "none"]
		r.expectOf(Notifications, "the customer is told: "+wantNote, func() (bool, string) {
			return expectEq(w.App(Notifications).Get("last"), wantNote)
		})
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

var _ = register(&Scenario{
	ID:    "checkout-orchestrated",
	Title: "Checkout saga, orchestrated",
	Watch: "Checkout conducts the order: it asks Inventory to reserve, Payment to charge and Shipping to ship, one " +
		"request at a time, and publishes the saga's state after every step. Make a step fail and watch the " +
		"compensations run newest first: the refund before the release. With refund-too the refund fails as well; " +
		"the orchestrator records it and still releases the stock, so the failure is visible and nothing is forgotten.",
	Knobs:   checkoutKnobs,
	Horizon: 10 * time.Second,
	// The services answer requests and keep no part of the saga: each can run in a
	// process of its own. Without an answer, a call times out and the saga compensates.
	Detachable: []string{Inventory, Payment, Shipping, Notifications},
	Setup: func(r *Run) error {
		w := r.World
		sh, err := startCheckout(r)
		if err != nil {
			return err
		}
		if !r.Drives() {
			return nil // serving services for a run elsewhere: the saga is that run's
		}
		if r.Streams() {
			return streamCheckout(r, sh) // a joined run that keeps ordering (remotestream.go)
		}
		cart := w.App(Cart)
		client := rpc.NewClient(cart.Conn, rpc.ClientOptions{Timeout: 2 * time.Second})
		call := func(method string) func(context.Context, *saga.Exec) *async.Future[any] {
			return func(ctx context.Context, x *saga.Exec) *async.Future[any] {
				var req OrderRequest
				_ = x.Input(&req)
				opts := []rpc.CallOption{rpc.CausedBy(x.Cause())}
				if step := x.Undoing(); step != "" {
					opts = append(opts, rpc.Header(saga.HeaderCompensates, step))
				}
				return async.Map(client.Call(ctx, method, req, opts...),
					func(v json.RawMessage) (any, error) { return v, nil })
			}
		}
		publish := func(topic string, payload func(id string) any) func(context.Context, *saga.Exec) *async.Future[any] {
			return func(_ context.Context, x *saga.Exec) *async.Future[any] {
				_, err := cart.Conn.Send(bus.Msg{Topic: topic, Payload: payload(x.ID()), CausationID: x.Cause().ID, CorrelationID: x.ID()})
				return async.Settled[any](nil, err)
			}
		}
		def := saga.Definition{Name: "checkout", Steps: []saga.Step{
			{Name: "reserve", Action: call("inventory.reserve"), Compensate: call("inventory.release")},
			{Name: "charge", Action: call("payment.charge"), Compensate: call("payment.refund")},
			{Name: "ship", Action: call("shipping.create"), Compensate: call("shipping.cancel")},
			{Name: "confirm", Action: publish("order.confirmed", func(id string) any { return map[string]string{"order": id} })},
		}}
		o, err := saga.New(cart.Conn, def, saga.Options{})
		if err != nil {
			return err
		}
		r.AddSagas(func() []SagaView { return orchestratedViews(o) })
		r.At(100*time.Millisecond, "the customer checks out", func() {
			cents, _ := total(theOrder)
			req := OrderRequest{Order: orderID, Lines: theOrder, Amount: float64(cents) / 100}
			placed, _ := cart.Conn.Send(bus.Msg{Topic: "order.placed", Payload: req, CorrelationID: orderID})
			cart.Set("order "+orderID, "pending")
			o.Start(context.Background(), orderID, req, placed).Then(func(st saga.State, _ error) {
				status, msg := "confirmed", "Order "+orderID+" confirmed"
				if st.Status != saga.Completed {
					status, msg = "cancelled", "Order "+orderID+" cancelled"
				}
				cart.Set("order "+orderID, status)
				_, _ = cart.Conn.Send(bus.Msg{Topic: "notify.order-" + status, Payload: map[string]string{"message": msg}, CorrelationID: orderID})
			})
		})
		expectCheckout(r, false)
		fail := r.Knobs.Str("fail")
		wantUndo := map[string]string{"none": "", "reserve": "", "charge": "reserve", "ship": "charge reserve", "refund-too": "reserve"}[fail]
		r.Expect("compensations ran newest first: "+orNone(wantUndo), func() (bool, string) {
			st, _ := o.Instance(orderID)
			return expectEq(orNone(strings.Join(st.Compensated, " ")), orNone(wantUndo))
		})
		if fail == "refund-too" {
			r.Expect("the failed refund is recorded on the saga", func() (bool, string) {
				st, _ := o.Instance(orderID)
				if len(st.CompensationErrors) == 1 && st.CompensationErrors[0].Step == "charge" {
					return true, st.CompensationErrors[0].Error
				}
				return false, fmt.Sprintf("compensation errors %+v", st.CompensationErrors)
			})
		}
		return nil
	},
})

func orchestratedViews(o *saga.Orchestrator) []SagaView {
	var steps []string
	for _, s := range o.Definition().Steps {
		steps = append(steps, s.Name)
	}
	var out []SagaView
	for _, st := range o.Instances() {
		v := SagaView{Saga: st.Saga, ID: st.ID, Style: "orchestrated", Status: string(st.Status), Steps: steps,
			Done: st.Done, Compensated: st.Compensated}
		if st.Error != nil {
			v.Failed = st.Error.Step
			v.Errors = append(v.Errors, st.Error.Step+": "+st.Error.Error)
		}
		for _, e := range st.CompensationErrors {
			v.Errors = append(v.Errors, "undo "+e.Step+": "+e.Error)
		}
		out = append(out, v)
	}
	return out
}

var _ = register(&Scenario{
	ID:    "checkout-choreographed",
	Title: "Checkout saga, choreographed",
	Watch: "The same order with no conductor: Inventory reacts to order.created, Payment to inventory.reserved, " +
		"Shipping to payment.processed. A failure is an event too, and whoever did work undoes it when it hears " +
		"of one: shipping.failed makes Payment refund, payment.refunded makes Inventory release. Compare the log " +
		"with the orchestrated run on the same knobs. With refund-too the chain breaks: the refund fails, nobody " +
		"announces it, and the stock stays reserved; the gap an orchestrator closes.",
	Knobs:   checkoutKnobs,
	Horizon: 10 * time.Second,
	Setup: func(r *Run) error {
		w := r.World
		sh, err := startCheckout(r)
		if err != nil {
			return err
		}
		cart := w.App(Cart)
		do := func(app, op string, fn func(OrderRequest) (any, error)) func(context.Context, bus.Delivery) (any, error) {
			return func(_ context.Context, d bus.Delivery) (any, error) {
				if err := w.App(app).Faults.Check(op); err != nil {
					return nil, err
				}
				var req OrderRequest
				if err := json.Unmarshal(d.Payload, &req); err != nil {
					return nil, err
				}
				if _, err := fn(req); err != nil {
					return nil, err
				}
				return req, nil // the order travels on to the next participant
			}
		}
		undo := func(app, op string, fn func(OrderRequest)) func(context.Context, bus.Delivery, json.RawMessage) error {
			return func(_ context.Context, _ bus.Delivery, done json.RawMessage) error {
				if err := w.App(app).Faults.Check(op); err != nil {
					return err
				}
				var req OrderRequest
				_ = json.Unmarshal(done, &req)
				fn(req)
				return nil
			}
		}
		c, err := saga.Choreograph("checkout", []saga.Participant{
			{App: w.App(Inventory).Conn, Step: "reserve", On: "order.created", Do: do(Inventory, "inventory.reserve", sh.reserve),
				Success: "inventory.reserved", Failure: "inventory.failed",
				CompensateOn: []string{"payment.failed", "payment.refunded"}, Compensated: "inventory.released",
				Undo: undo(Inventory, "inventory.release", func(req OrderRequest) { sh.release(req.Order) })},
			{App: w.App(Payment).Conn, Step: "charge", On: "inventory.reserved",
				Do:      do(Payment, "payment.charge", func(req OrderRequest) (any, error) { return sh.charge(req), nil }),
				Success: "payment.processed", Failure: "payment.failed",
				CompensateOn: []string{"shipping.failed"}, Compensated: "payment.refunded",
				Undo: undo(Payment, "payment.refund", func(req OrderRequest) { sh.refund(req) })},
			{App: w.App(Shipping).Conn, Step: "ship", On: "payment.processed",
				Do:      do(Shipping, "shipping.create", func(req OrderRequest) (any, error) { return sh.ship(req), nil }),
				Success: "shipping.scheduled", Failure: "shipping.failed"},
		})
		if err != nil {
			return err
		}
		r.AddSagas(func() []SagaView {
			var out []SagaView
			for _, p := range c.Conversations() {
				v := SagaView{Saga: "checkout", ID: p.Correlation, Style: "choreographed", Status: string(p.Status),
					Steps: []string{"reserve", "charge", "ship"}, Done: p.Done, Compensated: p.Compensated}
				if p.Error != nil {
					v.Failed = p.Error.Step
					v.Errors = append(v.Errors, p.Error.Step+": "+p.Error.Error)
				}
				for _, e := range p.UndoErrors {
					v.Errors = append(v.Errors, "undo "+e.Step+": "+e.Error)
				}
				out = append(out, v)
			}
			return out
		})
		// the cart follows the conversation to tell the customer
		finish := func(status string) bus.Handler {
			return func(_ context.Context, d bus.Delivery) error {
				cart.Set("order "+orderID, status)
				if status == "cancelling" {
					return nil
				}
				msg := "Order " + orderID + " " + status
				_, err := d.Send(bus.Msg{Topic: "notify.order-" + status, Payload: map[string]string{"message": msg}})
				return err
			}
		}
		// in a fixed order: subscription IDs, which the trace and history keep, follow it
		for _, end := range []struct{ topic, status string }{{"shipping.scheduled", "confirmed"}, {"inventory.released", "cancelled"},
			{"inventory.failed", "cancelled"}, {"payment.failed", "cancelling"}, {"shipping.failed", "cancelling"}} {
			if _, err := cart.Conn.Subscribe(end.topic, finish(end.status)); err != nil {
				return err
			}
		}
		r.At(100*time.Millisecond, "the customer checks out", func() {
			cents, _ := total(theOrder)
			cart.Set("order "+orderID, "pending")
			_, _ = cart.Conn.Send(bus.Msg{Topic: "order.created", CorrelationID: orderID,
				Payload: OrderRequest{Order: orderID, Lines: theOrder, Amount: float64(cents) / 100}})
		})
		expectCheckout(r, true)
		fail := r.Knobs.Str("fail")
		wantUndo := map[string]string{"none": "", "reserve": "", "charge": "reserve", "ship": "charge reserve", "refund-too": ""}[fail]
		r.Expect("compensations ran newest first: "+orNone(wantUndo), func() (bool, string) {
			p, _ := c.Progress(orderID)
			return expectEq(orNone(strings.Join(p.Compensated, " ")), orNone(wantUndo))
		})
		if fail == "refund-too" {
			r.Expect("the failed refund is a dead letter", func() (bool, string) {
				for _, e := range r.DLQ.List() {
					if e.Subscriber == Payment && e.Topic == "shipping.failed" {
						return true, e.Reason
					}
				}
				return false, "no dead letter for the refund"
			})
		}
		return nil
	},
})
