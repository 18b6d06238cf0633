package saga

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"mfelab/bus"
	"mfelab/bus/async"
	"mfelab/bus/bustest"
	"mfelab/bus/rpc"
)

// shop is the checkout flow's services behind RPC, with failures injected by method.
type shop struct {
	b      *bus.Bus
	client *rpc.Client
	fail   map[string]bool
	log    []string
}

func newShop(t *testing.T, fail ...string) *shop {
	t.Helper()
	s := &shop{b: bus.New(bus.Options{Seed: 4}), fail: map[string]bool{}}
	for _, f := range fail {
		s.fail[f] = true
	}
	s.client = rpc.NewClient(s.b.MustRegister(bus.AppConfig{Name: "checkout"}), rpc.ClientOptions{Timeout: time.Second})
	for app, methods := range map[string][]string{
		"inventory": {"inventory.reserve", "inventory.release"},
		"payment":   {"payment.charge", "payment.refund"},
		"shipping":  {"shipping.create", "shipping.cancel"},
	} {
		srv := rpc.NewServer(s.b.MustRegister(bus.AppConfig{Name: app}))
		for _, m := range methods {
			if err := srv.Handle(m, func(context.Context, rpc.Request) (any, error) {
				if s.fail[m] {
					return nil, fmt.Errorf("%s refused", m)
				}
				s.log = append(s.log, m)
				return m + " ok", nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}

func (s *shop) step(name, do, undo string) Step {
	st := Step{Name: name, Action: s.callStep(do)}
	if undo != "" {
		st.Compensate = s.callStep(undo)
	}
	return st
}

func (s *shop) callStep(method string) func(context.Context, *Exec) *async.Future[any] {
	return func(ctx context.Context, x *Exec) *async.Future[any] {
		return async.Map(s.client.Call(ctx, method, map[string]string{"order": x.ID()}, rpc.CausedBy(x.Cause())),
			func(raw json.RawMessage) (any, error) { return raw, nil })
	}
}

func (s *shop) definition() Definition {
	return Definition{Name: "checkout", Steps: []Step{
		s.step("reserve", "inventory.reserve", "inventory.release"),
		s.step("charge", "payment.charge", "payment.refund"),
		s.step("ship", "shipping.create", "shipping.cancel"),
		s.step("notify", "notify.order-confirmed", ""),
	}}
}

func TestOrchestratedSaga(t *testing.T) {
	tests := []struct {
		name     string
		fail     []string
		status   Status
		ran      string
		stepErr  string
		compErrs string
		done     string
		undone   string
	}{
		{"every step succeeds", nil, Completed,
			"inventory.reserve payment.charge shipping.create", "", "", "reserve charge ship notify", ""},
		{"a failed charge releases the stock", []string{"payment.charge"}, Failed,
			"inventory.reserve inventory.release", "charge", "", "reserve", "reserve"},
		{"a failed shipment refunds then releases, newest first", []string{"shipping.create"}, Failed,
			"inventory.reserve payment.charge payment.refund inventory.release", "ship", "", "reserve charge", "charge reserve"},
		{"a failed refund is recorded and the release still runs", []string{"shipping.create", "payment.refund"}, Failed,
			"inventory.reserve payment.charge inventory.release", "ship", "charge", "reserve charge", "reserve"},
		{"a failed first step has nothing to undo", []string{"inventory.reserve"}, Failed,
			"", "reserve", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newShop(t, tt.fail...)
			def := s.definition()
			// notify is a plain publish, not an RPC
			def.Steps[3].Action = func(_ context.Context, x *Exec) *async.Future[any] {
				_, err := x.App().Send(bus.Msg{Topic: "order.confirmed", CausationID: x.Cause().ID, CorrelationID: x.ID()})
				return async.Settled[any](nil, err)
			}
			var saved []State
			o, err := New(s.b.App("checkout"), def, Options{Save: func(st State) error {
				saved = append(saved, st)
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			f := o.Start(context.Background(), "order-1", map[string]int{"qty": 2}, nil)
			s.b.RunUntilIdle()
			st, err, done := f.Result()
			if !done || err != nil {
				t.Fatalf("saga did not end cleanly: %v", err)
			}
			if st.Status != tt.status || strings.Join(s.log, " ") != tt.ran || strings.Join(st.Done, " ") != tt.done ||
				strings.Join(st.Compensated, " ") != tt.undone {
				t.Fatalf("status %s ran %q done %v undone %v", st.Status, s.log, st.Done, st.Compensated)
			}
			if (st.Error == nil) != (tt.stepErr == "") || (st.Error != nil && st.Error.Step != tt.stepErr) {
				t.Fatalf("error %+v, want step %q", st.Error, tt.stepErr)
			}
			var ce []string
			for _, e := range st.CompensationErrors {
				ce = append(ce, e.Step)
			}
			if strings.Join(ce, " ") != tt.compErrs {
				t.Fatalf("compensation errors %+v", st.CompensationErrors)
			}
			if last := saved[len(saved)-1]; last.Version != len(saved) || last.Status != tt.status {
				t.Fatalf("saved %d states, last %+v", len(saved), last)
			}
		})
	}
}

func TestOrchestratedSagaTrace(t *testing.T) {
	s := newShop(t, "shipping.create")
	def := s.definition()
	def.Steps = def.Steps[:3]
	o, _ := New(s.b.App("checkout"), def, Options{})
	rec := bustest.Record(s.b, bus.TracePublished)
	o.Start(context.Background(), "order-7", nil, nil)
	s.b.RunUntilIdle()
	want := []string{
		"+0 published checkout saga.checkout.state",
		"+0 published checkout inventory.reserve",
		"+0 published inventory inventory.reserve.reply.checkout",
		"+0 published checkout saga.checkout.state",
		"+0 published checkout payment.charge",
		"+0 published payment payment.charge.reply.checkout",
		"+0 published checkout saga.checkout.state",
		"+0 published checkout shipping.create",
		"+0 published shipping shipping.create.reply.checkout",
		"+0 published checkout saga.checkout.state",
		"+0 published checkout payment.refund",
		"+0 published payment payment.refund.reply.checkout",
		"+0 published checkout saga.checkout.state",
		"+0 published checkout inventory.release",
		"+0 published inventory inventory.release.reply.checkout",
		"+0 published checkout saga.checkout.state",
		"+0 published checkout saga.checkout.state",
	}
	if d := bustest.Diff(rec.Lines(), want); d != "" {
		t.Fatalf("trace:\n%s", d)
	}
}

func TestEverySagaMessageIsInOneCausalChain(t *testing.T) {
	s := newShop(t, "payment.charge")
	def := s.definition()
	o, _ := New(s.b.App("checkout"), def, Options{})
	var envs []*bus.Envelope
	s.b.Tap(func(e bus.TraceEvent) {
		if e.Kind == bus.TracePublished {
			envs = append(envs, e.Env)
		}
	})
	start, _ := s.b.App("checkout").Publish("order.placed", nil)
	o.Start(context.Background(), "order-9", nil, start)
	s.b.RunUntilIdle()
	ids := map[string]bool{start.ID.String(): true}
	for _, e := range envs[1:] {
		if !ids[e.Meta.CausationID.String()] {
			t.Fatalf("%s (%s) is caused by %s, outside the chain", e, e.Topic, e.Meta.CausationID)
		}
		if e.Topic == StateTopic("checkout") && e.Meta.CorrelationID != "order-9" {
			t.Fatalf("state correlation %q", e.Meta.CorrelationID)
		}
		ids[e.ID.String()] = true
	}
}

func TestResumeAfterRestart(t *testing.T) {
	tests := []struct {
		name    string
		fail    []string
		stopAt  int // number of saved states before the "crash"
		status  Status
		ranLate string // what the resumed run did
	}{
		{"a running saga repeats its current step and goes on", nil, 2, Completed, "payment.charge shipping.create"},
		{"a compensating saga goes on compensating", []string{"shipping.create"}, 5, Failed, "inventory.release"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newShop(t, tt.fail...)
			def := s.definition()
			def.Steps = def.Steps[:3]
			var saved []State
			crashed := false
			o, _ := New(s.b.App("checkout"), def, Options{Save: func(st State) error {
				if !crashed {
					saved = append(saved, st)
					crashed = len(saved) == tt.stopAt
				}
				return nil
			}})
			o.Start(context.Background(), "order-3", nil, nil)
			s.b.RunUntilIdle()
			last := saved[len(saved)-1]
			raw, _ := json.Marshal(last) // what a store would keep
			var loaded State
			if err := json.Unmarshal(raw, &loaded); err != nil {
				t.Fatal(err)
			}

			// a fresh process: new bus, same services, the saved state
			s2 := newShop(t, tt.fail...)
			def2 := s2.definition()
			def2.Steps = def2.Steps[:3]
			o2, _ := New(s2.b.App("checkout"), def2, Options{})
			f := o2.Resume(context.Background(), loaded)
			s2.b.RunUntilIdle()
			st, err, _ := f.Result()
			if err != nil || st.Status != tt.status || strings.Join(s2.log, " ") != tt.ranLate {
				t.Fatalf("resumed: %s %v, ran %q", st.Status, err, s2.log)
			}
		})
	}
}

func TestDefinitionErrors(t *testing.T) {
	b := bus.New(bus.Options{})
	app := b.MustRegister(bus.AppConfig{Name: "a"})
	noop := func(context.Context, *Exec) *async.Future[any] { return async.Settled[any](nil, nil) }
	for name, def := range map[string]Definition{
		"bad name":       {Name: "a..b", Steps: []Step{{Name: "x", Action: noop}}},
		"no action":      {Name: "s", Steps: []Step{{Name: "x"}}},
		"duplicate step": {Name: "s", Steps: []Step{{Name: "x", Action: noop}, {Name: "x", Action: noop}}},
	} {
		if _, err := New(app, def, Options{}); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestPanickingStepFailsTheSaga(t *testing.T) {
	b := bus.New(bus.Options{})
	app := b.MustRegister(bus.AppConfig{Name: "a"})
	o, _ := New(app, Definition{Name: "s", Steps: []Step{{Name: "boom", Action: func(context.Context, *Exec) *async.Future[any] { panic("bad") }}}}, Options{})
	f := o.Start(context.Background(), "1", nil, nil)
	b.RunUntilIdle()
	st, _, _ := f.Result()
	if st.Status != Failed || st.Error == nil || st.Error.Error != "panicked: bad" {
		t.Fatalf("state %+v", st)
	}
}
