package cqrs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"mfelab/bus"
	"mfelab/bus/bustest"
	"mfelab/bus/eventsource"
	"mfelab/bus/rpc"
)

// summary is the read model: orders by status.
type summary map[string]string

type rig struct {
	b       *bus.Bus
	cart    *bus.App
	cmds    *Commands
	queries *Queries
	store   *eventsource.Store
	proj    *Projection[summary]
	projApp *bus.App
}

func newRig(t *testing.T) *rig {
	t.Helper()
	b := bus.New(bus.Options{Seed: 6})
	r := &rig{b: b, cart: b.MustRegister(bus.AppConfig{Name: "cart"}), cmds: NewCommands(), queries: NewQueries()}
	orders := b.MustRegister(bus.AppConfig{Name: "orders"})
	r.projApp = b.MustRegister(bus.AppConfig{Name: "order-view", Latency: 50 * time.Millisecond})
	r.store = eventsource.NewStore(b, eventsource.Options{Publish: orders})
	type place struct {
		ID    string `json:"id"`
		Items int    `json:"items"`
	}
	validate := func(raw json.RawMessage) error {
		var p place
		if err := json.Unmarshal(raw, &p); err != nil {
			return Invalid("payload is not an order: " + err.Error())
		}
		var problems []string
		if p.ID == "" {
			problems = append(problems, "id is required")
		}
		if p.Items <= 0 {
			problems = append(problems, "items must be positive")
		}
		if problems != nil {
			return Invalid(problems...)
		}
		return nil
	}
	must(t, r.cmds.Handle(orders, "order.place", validate, func(_ context.Context, req rpc.Request) (any, error) {
		var p place
		_ = req.Decode(&p)
		evs, err := r.store.Append("order-"+p.ID, eventsource.NoStream, eventsource.New{Type: "order.placed", Data: p})
		if err != nil {
			return nil, err
		}
		return evs[0].Version, nil
	}))
	must(t, r.cmds.Handle(orders, "order.ship", nil, func(_ context.Context, req rpc.Request) (any, error) {
		var id string
		_ = req.Decode(&id)
		_, err := r.store.Append("order-"+id, 1, eventsource.New{Type: "order.shipped", Data: id})
		return nil, err
	}))
	var err error
	r.proj, err = Project(r.projApp, r.store, ProjectionOptions[summary]{Name: "orders-by-status",
		Initial: func() summary { return summary{} },
		Apply: func(s summary, e eventsource.Event) (summary, error) {
			switch e.Type {
			case "order.placed":
				s[e.Stream] = "placed"
			case "order.shipped":
				s[e.Stream] = "shipped"
			}
			return s, nil
		}})
	must(t, err)
	must(t, r.queries.Handle(r.projApp, "orders.by-status", nil, func(_ context.Context, req rpc.Request) (any, error) {
		var out summary
		r.proj.Read(func(s summary) {
			out = summary{}
			for k, v := range s {
				out[k] = v
			}
		})
		return out, nil
	}))
	return r
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (r *rig) send(name string, payload any) (json.RawMessage, error) {
	f := r.cmds.Send(context.Background(), r.cart, name, payload)
	r.b.RunUntilIdle()
	v, err, _ := f.Result()
	return v, err
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name    string
		command string
		payload any
		want    string
		wantErr string
		is      error
	}{
		{"a valid command is handled", "order.place", map[string]any{"id": "1", "items": 2}, "1", "", nil},
		{"validation problems go back to the sender", "order.place", map[string]any{"items": 0}, "", "order.place: invalid: id is required; items must be positive", ErrValidation},
		{"a command nobody handles fails at once", "order.cancel", nil, "", "command order.cancel: no handler", ErrNoHandler},
		{"a handler's own error comes back too", "order.ship", "missing", "", "command.order.ship: handler-error: stream order-missing: expected version 1, but it is at 0", rpc.ErrRemote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			v, err := r.send(tt.command, tt.payload)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, tt.is) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(v) != tt.want {
				t.Fatalf("got %s %v", v, err)
			}
		})
	}
}

func TestOneHandlerPerCommand(t *testing.T) {
	r := newRig(t)
	other := r.b.MustRegister(bus.AppConfig{Name: "other"})
	err := r.cmds.Handle(other, "order.place", nil, func(context.Context, rpc.Request) (any, error) { return nil, nil })
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second handler: %v", err)
	}
}

func TestProjectionLagQueryAndRebuild(t *testing.T) {
	r := newRig(t)
	for i := range 3 {
		r.cmds.Send(context.Background(), r.cart, "order.place", map[string]any{"id": fmt.Sprint(i), "items": 1})
	}
	r.cmds.Send(context.Background(), r.cart, "order.ship", "1")
	// the commands are handled at once; the view hears of the events 50ms later
	r.b.RunFor(10 * time.Millisecond)
	if lag := r.proj.Lag(); lag.Events != 4 || lag.Head != 4 {
		t.Fatalf("lag mid-way %+v", lag)
	}
	r.b.RunUntilIdle()
	if lag := r.proj.Lag(); lag.Events != 0 || lag.Position != 4 {
		t.Fatalf("lag at the end %+v", lag)
	}
	f := r.queries.Ask(context.Background(), r.cart, "orders.by-status", nil)
	r.b.RunUntilIdle()
	v, err, _ := f.Result()
	want := `{"order-0":"placed","order-1":"shipped","order-2":"placed"}`
	if err != nil || string(v) != want {
		t.Fatalf("query: %s %v", v, err)
	}
	must(t, r.proj.Rebuild())
	var after string
	r.proj.Read(func(s summary) { b, _ := json.Marshal(s); after = string(b) })
	if after != want || r.proj.Stats().Rebuilds != 1 || r.proj.Stats().Applied != 8 {
		t.Fatalf("after rebuild %s, stats %+v", after, r.proj.Stats())
	}
}

func TestCommandTraceOnABus(t *testing.T) {
	r := newRig(t)
	rec := bustest.Record(r.b, bus.TracePublished, bus.TraceDelivered)
	r.cmds.Send(context.Background(), r.cart, "order.place", map[string]any{"id": "9", "items": 1})
	r.b.RunUntilIdle()
	want := []string{
		"+0 published cart command.order.place",
		"+0 delivered orders command.order.place",
		"+0 published orders events.order.placed",
		"+0 published orders command.order.place.reply.cart",
		"+0 delivered cart command.order.place.reply.cart",
		"+50 delivered order-view events.order.placed",
	}
	if d := bustest.Diff(rec.Lines(), want); d != "" {
		t.Fatalf("trace:\n%s", d)
	}
}
