package aggregate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"mfelab/bus"
	"mfelab/bus/bustest"
	"mfelab/bus/rpc"
)

// dashboard wires three sources with the given latencies; a negative latency means the
// source answers with an error.
func dashboard(t *testing.T, latency map[string]time.Duration) (*bus.Bus, *Gatherer) {
	t.Helper()
	b := bus.New(bus.Options{Seed: 11})
	g := NewGatherer(b.MustRegister(bus.AppConfig{Name: "dashboard"}))
	for _, src := range []string{"orders", "inventory", "analytics"} {
		app := b.MustRegister(bus.AppConfig{Name: src})
		d := latency[src]
		_, err := RespondAsync(app, src, func(_ context.Context, req rpc.Request, reply rpc.Reply) {
			if d < 0 {
				reply(nil, errors.New(src+" unavailable"))
				return
			}
			b.After(d, func() { reply(map[string]string{"from": src}, nil) })
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return b, g
}

func TestGather(t *testing.T) {
	all := []string{"orders", "inventory", "analytics"}
	ms := time.Millisecond
	tests := []struct {
		name     string
		latency  map[string]time.Duration
		partial  bool
		wantErr  string
		values   []string
		timedOut []string
		took     time.Duration
	}{
		{"everyone answers in time", map[string]time.Duration{"orders": 10 * ms, "inventory": 30 * ms, "analytics": 20 * ms}, false, "", all, nil, 30 * ms},
		{"strict mode names the slow source", map[string]time.Duration{"analytics": 500 * ms}, false, "aggregate incomplete: timed out: analytics", nil, nil, 0},
		{"partial mode returns what came and lists the slow source", map[string]time.Duration{"analytics": 500 * ms}, true, "", []string{"orders", "inventory"}, []string{"analytics"}, 100 * ms},
		{"strict mode names a failed source", map[string]time.Duration{"inventory": -1}, false, "aggregate incomplete: inventory failed: aggregate.inventory.request: handler-error: inventory unavailable", nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, g := dashboard(t, tt.latency)
			f := g.Gather(context.Background(), Query{Sources: all, Timeout: 100 * time.Millisecond, Partial: tt.partial})
			b.RunUntilIdle()
			res, err, done := f.Result()
			if !done {
				t.Fatal("gather did not finish")
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, ErrIncomplete) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range all {
				if _, ok := res.Values[s]; ok {
					got = append(got, s)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.values) || fmt.Sprint(res.TimedOut) != fmt.Sprint(tt.timedOut) || res.Took != tt.took {
				t.Fatalf("values %v timed out %v took %v", got, res.TimedOut, res.Took)
			}
		})
	}
}

func TestTransformAndLateAnswers(t *testing.T) {
	b, g := dashboard(t, map[string]time.Duration{"analytics": 150 * time.Millisecond})
	f := g.Gather(context.Background(), Query{Sources: []string{"orders", "analytics"}, Timeout: 100 * time.Millisecond, Partial: true,
		Transform: func(v map[string]json.RawMessage) (any, error) { return len(v), nil }})
	b.RunUntilIdle()
	res, err, _ := f.Result()
	if err != nil || res.Value != 1 {
		t.Fatalf("value %v err %v", res.Value, err)
	}
	if st := g.Stats(); st.Late != 1 {
		t.Fatalf("late answers %d, want 1", st.Late)
	}
}

func TestGatherTraceOnABus(t *testing.T) {
	b, g := dashboard(t, map[string]time.Duration{"orders": 10 * time.Millisecond, "inventory": 20 * time.Millisecond})
	rec := bustest.Record(b, bus.TracePublished, bus.TraceDelivered)
	g.Gather(context.Background(), Query{Sources: []string{"orders", "inventory"}})
	b.RunUntilIdle()
	want := []string{
		"+0 published dashboard aggregate.orders.request",
		"+0 published dashboard aggregate.inventory.request",
		"+0 delivered orders aggregate.orders.request",
		"+0 delivered inventory aggregate.inventory.request",
		"+10 published orders aggregate.orders.response",
		"+10 delivered dashboard aggregate.orders.response",
		"+20 published inventory aggregate.inventory.response",
		"+20 delivered dashboard aggregate.inventory.response",
	}
	if d := bustest.Diff(rec.Lines(), want); d != "" {
		t.Fatalf("trace:\n%s", d)
	}
}
