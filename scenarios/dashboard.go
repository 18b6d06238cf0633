package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"mfelab/bus/aggregate"
	"mfelab/bus/rpc"
)

// source latencies of the dashboard's three sources
var dashboardSources = []struct {
	name, app string
	latency   time.Duration
}{
	{"orders", Cart, 40 * time.Millisecond},
	{"inventory", Inventory, 90 * time.Millisecond},
	{"analytics", Host, 180 * time.Millisecond},
}

var _ = register(&Scenario{
	ID:    "dashboard-aggregator",
	Title: "Dashboard aggregator (scatter-gather)",
	Watch: "Every second the Dashboard asks three sources at once (orders from Cart, stock from Inventory, analytics " +
		"from the Host) and waits for all of them or the timeout. Analytics is the slowest. Lower the timeout below " +
		"its latency, or take a source down, and compare partial mode (the tile fills in what came and names what is " +
		"missing) with strict mode (the refresh fails and the tile says which sources it did not hear from).",
	Knobs: []Knob{
		{Name: "timeout", Label: "Gather timeout", Kind: Duration, Default: "300ms", Min: "10ms", Max: "5s", Samples: []string{"120ms"},
			Help: "how long a refresh waits; analytics takes 180ms"},
		{Name: "partial", Label: "Partial results", Kind: Bool, Default: "true", Help: "return what arrived instead of failing"},
		{Name: "down", Label: "Source down", Kind: Choice, Default: "none", Choices: []string{"none", "orders", "inventory", "analytics"},
			Help: "a source that answers every request with an error"},
	},
	Horizon: 4 * time.Second,
	Setup: func(r *Run) error {
		w := r.World
		dash := w.App(Dashboard)
		for _, src := range dashboardSources {
			a := w.App(src.app)
			d := src.latency
			name := src.name
			if name == r.Knobs.Str("down") {
				a.Faults.SetDown(true)
			}
			_, err := aggregate.RespondAsync(a.Conn, name, func(_ context.Context, _ rpc.Request, reply rpc.Reply) {
				if err := a.Faults.Check("aggregate." + name); err != nil {
					reply(nil, err)
					return
				}
				r.Bus.After(d, func() {
					a.Add("answered", 1)
					reply(map[string]any{"source": name, "value": sourceFigure(name, r.Bus.Elapsed())}, nil)
				})
			})
			if err != nil {
				return err
			}
		}
		g := aggregate.NewGatherer(dash.Conn)
		timeout, partial := r.Knobs.Duration("timeout"), r.Knobs.Bool("partial")
		var refreshes []string
		for i := range 3 {
			at := time.Duration(i) * time.Second
			r.At(at, fmt.Sprintf("refresh %d", i+1), func() {
				sources := []string{"orders", "inventory", "analytics"}
				g.Gather(context.Background(), aggregate.Query{Sources: sources, Timeout: timeout, Partial: partial}).Then(func(res aggregate.Result, err error) {
					if err != nil {
						dash.Set("status", "refresh failed: "+err.Error())
						refreshes = append(refreshes, "failed")
						return
					}
					for _, s := range sources {
						if raw, ok := res.Values[s]; ok {
							var v struct{ Value string }
							_ = json.Unmarshal(raw, &v)
							dash.Set(s, v.Value)
						} else {
							dash.Set(s, "(missing)")
						}
					}
					missing := slices.Concat(res.TimedOut, slices.Sorted(maps.Keys(res.Failed)))
					if len(missing) == 0 {
						dash.Set("status", fmt.Sprintf("complete in %v", res.Took))
						refreshes = append(refreshes, "complete")
					} else {
						dash.Set("status", fmt.Sprintf("partial in %v, missing %s", res.Took, strings.Join(missing, ", ")))
						refreshes = append(refreshes, "partial")
					}
				})
			})
		}
		// what the knobs lead to
		down := r.Knobs.Str("down")
		slow := timeout <= 180*time.Millisecond
		incomplete := down != "none" || slow
		want := "complete"
		switch {
		case incomplete && partial:
			want = "partial"
		case incomplete:
			want = "failed"
		}
		r.Expect("every refresh ends "+want, func() (bool, string) {
			return expectEq(strings.Join(refreshes, " "), strings.TrimSpace(strings.Repeat(want+" ", 3)))
		})
		if incomplete {
			var missing []string
			if slow && down != "analytics" {
				missing = append(missing, "analytics")
			}
			if down != "none" {
				missing = append(missing, down)
			}
			r.Expect("the tile names the missing sources: "+strings.Join(missing, ", "), func() (bool, string) {
				st := dash.Get("status")
				for _, m := range missing {
					if !strings.Contains(st, m) {
						return false, st
					}
				}
				return true, st
			})
		}
		if slow {
			r.Expect("late analytics answers are counted and dropped", func() (bool, string) {
				late := g.Stats().Late
				return late > 0 || down == "analytics", fmt.Sprintf("%d late", late)
			})
		}
		return nil
	},
})

// sourceFigure is what a source reports at a given moment: plain, deterministic figures.
func sourceFigure(source string, at time.Duration) string {
	n := int(at / time.Second)
	switch source {
	case "orders":
		return fmt.Sprintf("%d orders today", 12+3*n)
	case "inventory":
		return fmt.Sprintf("%d items in stock", 17-n)
	}
	return fmt.Sprintf("%d visitors", 240+25*n)
}
