package scenarios

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"mfelab/bus"
	"mfelab/bus/resilience"
)

// loadOrder is the order apps join a load run in.
var loadOrder = []string{Catalog, Cart, Inventory, Payment, Shipping, Notifications, Host, Dashboard}

var _ = register(&Scenario{
	ID:    "load",
	Title: "Load: many publishers, rate limits and a bulkhead",
	Watch: "N apps publish ticks at a steady rate for a while of bus time, and the Dashboard consumes them all. " +
		"Set a per-app rate limit below the rate: the token buckets drop the excess and every drop shows as a " +
		"rate-limited event. Give the Dashboard a bulkhead: each tick takes it 5ms of work, and what does not fit in " +
		"its slots and queue is refused. In the app, watch the log and the diagram keep up.",
	Knobs: []Knob{
		{Name: "apps", Label: "Publishing apps", Kind: Int, Default: "4", Min: "1", Max: "8", Samples: []string{"1", "8"}},
		{Name: "rate", Label: "Messages per second per app", Kind: Int, Default: "100", Min: "1", Max: "10000", Samples: []string{"500"}},
		{Name: "duration", Label: "Publishing time", Kind: Duration, Default: "1s", Min: "100ms", Max: "60s"},
		{Name: "limit", Label: "Rate limit per app (0: none)", Kind: Int, Default: "0", Min: "0", Max: "10000", Samples: []string{"60", "200"}},
		{Name: "bulkhead", Label: "Dashboard bulkhead slots (0: none)", Kind: Int, Default: "0", Min: "0", Max: "64", Samples: []string{"4"}},
	},
	Horizon: 70 * time.Second,
	Setup: func(r *Run) error {
		w := r.World
		apps, rate, dur := r.Knobs.Int("apps"), r.Knobs.Int("rate"), r.Knobs.Duration("duration")
		limit, slots := r.Knobs.Int("limit"), r.Knobs.Int("bulkhead")
		dash := w.App(Dashboard)
		var bh *resilience.Bulkhead
		if slots > 0 {
			var err error
			if bh, err = resilience.NewBulkhead("dashboard", slots, 4*slots); err != nil {
				return err
			}
		}
		received, refused := 0, 0
		if _, err := dash.Conn.Subscribe("load.#", func(_ context.Context, d bus.Delivery) error {
			received++
			if bh == nil {
				return nil
			}
			if err := bh.Enter(func(release func()) { r.Bus.After(5*time.Millisecond, release) }); err != nil {
				refused++
				return nil // refused work is counted, not a failed delivery
			}
			return nil
		}); err != nil {
			return err
		}
		r.watchHandlers(func() {
			dash.Set("received", strconv.Itoa(received))
			if bh != nil {
				s := bh.Stats()
				dash.Set("bulkhead", fmt.Sprintf("%d running, %d queued, %d refused", s.Running, s.Queued, s.Rejected))
			}
		})
		interval := time.Second / time.Duration(rate)
		ticks := int(dur / interval)
		published := map[string]int{}
		for i := range apps {
			a := w.App(loadOrder[i])
			if limit > 0 {
				if err := a.Conn.SetRateLimit(&bus.RateLimit{PerSecond: float64(limit), Burst: max(limit/10, 1), Drop: true}); err != nil {
					return err
				}
			}
			topic := "load." + a.Name + ".tick"
			n := 0
			var tick func()
			tick = func() {
				n++
				if env, _ := a.Conn.PublishJSON(topic, []byte(strconv.Itoa(n))); env != nil {
					published[a.Name]++
					a.Add("published", 1)
				}
				if n < ticks {
					r.Bus.After(interval, tick)
				}
			}
			// spread the publishers over one interval so they do not all fire at once
			r.Bus.After(time.Duration(i)*interval/time.Duration(apps), tick)
		}
		r.At(0, fmt.Sprintf("%d apps start publishing %d messages a second each", apps, rate), func() {})
		r.At(dur, "publishing stops", func() {})

		total := func() int {
			t := 0
			for _, n := range published {
				t += n
			}
			return t
		}
		r.Expect("the Dashboard received every published message", func() (bool, string) { return expectEq(received, total()) })
		if limit > 0 && limit < rate {
			r.Expect("the rate limit held every app to its budget", func() (bool, string) {
				budget := int(float64(limit)*dur.Seconds()) + max(limit/10, 1) + 1
				for name, n := range published {
					if n > budget {
						return false, fmt.Sprintf("%s published %d, budget %d", name, n, budget)
					}
				}
				st := r.Bus.Stats()
				return true, fmt.Sprintf("%d published, %d dropped by the limit", total(), st.RateLimited)
			})
			// each bucket starts with a burst of limit/10 tokens: only what a run offers
			// beyond that has to be dropped
			burst := max(limit/10, 1)
			if excess := float64(rate-limit) * dur.Seconds(); excess > float64(burst+2) {
				r.Expect(fmt.Sprintf("what went over the limit and its burst of %d was dropped", burst), func() (bool, string) {
					st := r.Bus.Stats()
					return st.RateLimited > 0, fmt.Sprintf("%d dropped, about %.0f per app over the burst", st.RateLimited, excess-float64(burst))
				})
			}
		} else {
			r.Expect("every tick was published", func() (bool, string) { return expectEq(total(), apps*ticks) })
		}
		if bh != nil {
			capacity := float64(slots) * float64(time.Second/(5*time.Millisecond))
			r.Expect("the bulkhead refuses work when the load exceeds its capacity", func() (bool, string) {
				offered := float64(total()) / dur.Seconds()
				detail := fmt.Sprintf("%d refused; offered %.0f/s, capacity %.0f/s", refused, offered, capacity)
				// the queue (four per slot) takes what the slots cannot, until it is full
				if over := (offered - capacity) * dur.Seconds(); offered > capacity*1.1 && over > float64(4*slots)*1.1 {
					return refused > 0, detail
				}
				// what the queue can hold is never refused; nor, always, a burst that
				// overflows it briefly (rate-limit buckets start full): shown, not judged
				return true, detail
			})
		}
		return nil
	},
})
