package scenarios_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"mfelab/bus"
	. "mfelab/scenarios"
)

// watchBreaker collects the states the run's payment breaker announces, in order.
func watchBreaker(r *Run) *[]string {
	var out []string
	r.Bus.Tap(func(e bus.TraceEvent) {
		if e.Kind == bus.TracePublished && e.Topic == "breaker.payment.state" {
			var t struct{ To string }
			_ = json.Unmarshal(e.Env.Payload, &t)
			out = append(out, t.To)
		}
	})
	return &out
}

func TestAStreamOfOrdersThroughABreakerAroundPayment(t *testing.T) {
	checkout, err := Get("checkout-orchestrated")
	if err != nil {
		t.Fatal(err)
	}
	if checkout.StreamText() == "" {
		t.Fatal("the orchestrated checkout says it cannot stream")
	}
	tests := []struct {
		name string
		// down and up are when Payment goes down and comes back (0: never)
		down, up      time.Duration
		wantStates    []string
		wantCancelled bool
		wantPass      bool
	}{
		{"with payment up throughout, every order is confirmed and the breaker stays closed", 0, 0, nil, false, true},
		{"with payment gone for a while, charges time out, the breaker opens and, payment back, closes", 2500 * time.Millisecond, 6 * time.Second,
			[]string{"open", "half-open", "closed"}, true, true},
		{"with payment gone for good, the breaker ends open and the check says so", 2500 * time.Millisecond, 0,
			[]string{"open", "half-open", "open"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := StartWith(checkout, 1, nil, Options{Stream: 12 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			seen := watchBreaker(r)
			pay := r.World.App(Payment)
			if tt.down > 0 {
				r.Bus.After(tt.down, func() { pay.Faults.SetDown(true) })
			}
			if tt.up > 0 {
				r.Bus.After(tt.up, func() { pay.Faults.SetDown(false) })
			}
			r.RunToEnd()
			if !r.Finished() {
				t.Fatal("the stream did not end")
			}
			states := *seen
			t.Logf("breaker %v; %d confirmed, %d cancelled\n%s", states, r.World.App(Cart).Int("orders confirmed"), r.World.App(Cart).Int("orders cancelled"), FormatChecks(r.Checks()))
			if len(tt.wantStates) == 0 && len(states) != 0 || len(tt.wantStates) > 0 && !slices.Equal(states[:min(len(states), len(tt.wantStates))], tt.wantStates) {
				t.Errorf("breaker went %v, want it to start with %v", states, tt.wantStates)
			}
			cart := r.World.App(Cart)
			if n := cart.Int("orders confirmed") + cart.Int("orders cancelled"); n != 12 {
				t.Errorf("%d orders settled, want 12", n)
			}
			if got := cart.Int("orders cancelled") > 0; got != tt.wantCancelled {
				t.Errorf("cancelled orders: %d", cart.Int("orders cancelled"))
			}
			if tt.wantCancelled {
				var undone int
				for _, s := range r.Sagas() {
					if slices.Contains(s.Compensated, "reserve") {
						undone++
					}
				}
				if undone == 0 {
					t.Errorf("no saga on the timeline released its reservation: %+v", r.Sagas())
				}
			}
			if got := Passed(r.Checks()); got != tt.wantPass {
				t.Errorf("checks passed %v, want %v:\n%s", got, tt.wantPass, FormatChecks(r.Checks()))
			}
			if len(r.Sagas()) > 4 {
				t.Errorf("the saga timeline shows %d orders, want the newest 4", len(r.Sagas()))
			}
			inv := r.World.App(Inventory)
			if k := inv.Int("stock keyboard"); k < 0 || k > 5 {
				t.Errorf("keyboard stock %d", k)
			}
			if strings.Contains(FormatSnapshots(r.World.Snapshots()), "order-3 ") {
				t.Errorf("a settled order is still on the panels:\n%s", FormatSnapshots(r.World.Snapshots()))
			}
		})
	}
	t.Run("a scenario that cannot stream tells its story once", func(t *testing.T) {
		s, _ := Get("rpc-pricing")
		if s.StreamText() != "" {
			t.Fatalf("rpc-pricing says it streams: %q", s.StreamText())
		}
		a, _ := StartWith(s, 1, nil, Options{Stream: time.Minute})
		b, _ := Start(s, 1, nil)
		if a.Streams() || a.End() != b.End() {
			t.Errorf("the stream changed a run of rpc-pricing: end %v vs %v", a.End(), b.End())
		}
	})
	t.Run("a stream leaves the run on its own unchanged", func(t *testing.T) {
		r, _ := Start(checkout, 42, nil)
		if r.Streams() || len(r.Breakers()) != 0 {
			t.Fatalf("a plain run streams (%v) or has breakers %v", r.Streams(), r.Breakers())
		}
	})
}
