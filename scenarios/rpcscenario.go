package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"mfelab/bus/rpc"
)

var _ = register(&Scenario{
	ID:    "rpc-pricing",
	Title: "Request-response: Cart asks Pricing",
	Watch: "Cart asks the Catalog's pricing service for totals and to validate orders, and waits for the reply " +
		"paired to its request by causation. Raise the handler latency above the timeout: the call fails with a " +
		"timeout, and the reply that arrives later is counted as late and dropped, never handed to another call. " +
		"Switch on the handler error to see a failure travel back to the caller as an error with its code.",
	Knobs: []Knob{
		{Name: "latency", Label: "Pricing latency", Kind: Duration, Default: "50ms", Min: "0s", Max: "2s", Samples: []string{"400ms"},
			Help: "how long Pricing takes to receive each request"},
		{Name: "timeout", Label: "Call timeout", Kind: Duration, Default: "200ms", Min: "10ms", Max: "5s", Samples: []string{"30ms"}},
		{Name: "error", Label: "Handler error", Kind: Bool, Default: "false", Help: "the totals handler fails"},
	},
	Horizon: 3 * time.Second,
	Setup: func(r *Run) error {
		w := r.World
		if _, err := newShop(w); err != nil {
			return err
		}
		cat, cart := w.App(Catalog), w.App(Cart)
		cat.Faults.SetLatency(r.Knobs.Duration("latency"))
		if r.Knobs.Bool("error") {
			cat.Faults.FailNext("pricing.calculate", 100)
		}
		client := rpc.NewClient(cart.Conn, rpc.ClientOptions{Timeout: r.Knobs.Duration("timeout")})
		outcome := map[string]string{}
		call := func(key, method string, lines []Line, show func(json.RawMessage) string) {
			client.Call(context.Background(), method, OrderRequest{Order: key, Lines: lines}, rpc.Correlation(key)).Then(func(v json.RawMessage, err error) {
				var re *rpc.Error
				switch {
				case errors.Is(err, rpc.ErrTimeout):
					outcome[key] = "timeout"
					cart.Set(key, "no answer in time")
				case errors.As(err, &re):
					outcome[key] = re.Code
					cart.Set(key, re.Code+": "+re.Message)
				case err != nil:
					outcome[key] = "error"
					cart.Set(key, err.Error())
				default:
					outcome[key] = "ok"
					cart.Set(key, show(v))
				}
			})
		}
		showTotal := func(v json.RawMessage) string {
			var t struct{ Total string }
			_ = json.Unmarshal(v, &t)
			return "total " + t.Total
		}
		showValid := func(json.RawMessage) string { return "valid" }
		r.At(0, "the customer fills the cart", func() { addToCart(w, "cart-1", theOrder) })
		r.At(100*time.Millisecond, "cart asks for the total and a validation", func() {
			call("quote", "pricing.calculate", theOrder, showTotal)
			call("validate", "pricing.validate", theOrder, showValid)
		})
		bad := []Line{{SKU: "monitor", Qty: 12}}
		r.At(1000*time.Millisecond, "cart validates an order of twelve monitors", func() {
			call("validate-bulk", "pricing.validate", bad, showValid)
		})

		slow := r.Knobs.Duration("latency") >= r.Knobs.Duration("timeout")
		want := map[string]string{"quote": "ok", "validate": "ok", "validate-bulk": "invalid-order"}
		if r.Knobs.Bool("error") {
			want["quote"] = "handler-error"
		}
		if slow {
			want = map[string]string{"quote": "timeout", "validate": "timeout", "validate-bulk": "timeout"}
		}
		for _, key := range []string{"quote", "validate", "validate-bulk"} {
			r.Expect(fmt.Sprintf("%s ends %s", key, want[key]), func() (bool, string) { return expectEq(outcome[key], want[key]) })
		}
		if want["quote"] == "ok" {
			r.Expect("the cart shows the total 89.70", func() (bool, string) { return expectEq(cart.Get("quote"), "total 89.70") })
		}
		wantLate := 0
		if slow {
			wantLate = 3
		}
		r.Expect(fmt.Sprintf("%d late replies counted and dropped", wantLate), func() (bool, string) {
			st := client.Stats()
			return expectEq(fmt.Sprintf("late=%d in-flight=%d", st.Late, st.InFlight), fmt.Sprintf("late=%d in-flight=0", wantLate))
		})
		return nil
	},
})
