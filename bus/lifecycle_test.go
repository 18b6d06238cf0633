package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// deliveryAttempt names one attempt at one delivery: an envelope (by ID, which an upcast
// copy keeps) to a subscription.
type deliveryAttempt struct {
	env     string
	sub     uint64
	attempt int
}

// checkLifecycle checks TraceKind's rule over a whole trace: every handler-failed and
// dead-lettered event for an attempt comes after the delivered event of that attempt, and
// every retry-scheduled event for attempt N+1 after the delivered event of attempt N.
func checkLifecycle(t *testing.T, events []TraceEvent) {
	t.Helper()
	delivered := map[deliveryAttempt]bool{}
	for i, e := range events {
		if e.Env == nil {
			continue
		}
		at := deliveryAttempt{e.Env.ID.String(), e.SubscriptionID, e.Attempt}
		switch e.Kind {
		case TraceDelivered:
			delivered[at] = true
		case TraceHandlerFailed, TraceDeadLettered:
			if !delivered[at] {
				t.Errorf("event %d, %s of #%d to %s (attempt %d), has no delivered event before it", i, e.Kind, e.Env.Seq, e.App, e.Attempt)
			}
		case TraceRetryScheduled:
			at.attempt--
			if !delivered[at] {
				t.Errorf("event %d, %s of #%d to %s (attempt %d), follows no delivered attempt %d", i, e.Kind, e.Env.Seq, e.App, e.Attempt, at.attempt)
			}
		}
	}
}

func TestEveryFailureFollowsTheDeliveryItRefersTo(t *testing.T) {
	fail := func(context.Context, Delivery) error { return errors.New("out of stock") }
	tests := []struct {
		name string
		// run publishes from pub to subscriptions of sub on b, and runs the loop.
		run  func(t *testing.T, b *Bus, pub, sub *App)
		want []TraceKind // must each appear, so the case fails the way it means to
	}{
		{"a handler returns an error",
			func(t *testing.T, b *Bus, pub, sub *App) {
				mustSub(t, sub, "order.#", fail)
				pub.Publish("order.placed", 1)
				b.RunUntilIdle()
			},
			[]TraceKind{TraceHandlerFailed, TraceDeadLettered}},
		{"a handler panics",
			func(t *testing.T, b *Bus, pub, sub *App) {
				mustSub(t, sub, "order.#", func(context.Context, Delivery) error { panic("nil map") })
				pub.Publish("order.placed", 1)
				b.RunUntilIdle()
			},
			[]TraceKind{TraceHandlerFailed, TraceDeadLettered}},
		{"a handler asks for retries and then gives up",
			func(t *testing.T, b *Bus, pub, sub *App) {
				mustSub(t, sub, "order.#", func(_ context.Context, d Delivery) error {
					if d.Attempt < 3 {
						return RetryAfter(errors.New("busy"), time.Second)
					}
					return errors.New("still busy")
				})
				pub.Publish("order.placed", 1)
				b.RunUntilIdle()
			},
			[]TraceKind{TraceHandlerFailed, TraceRetryScheduled, TraceDeadLettered}},
		{"a retry is due after the subscription ended",
			func(t *testing.T, b *Bus, pub, sub *App) {
				var s *Subscription
				s = mustSub(t, sub, "order.#", func(context.Context, Delivery) error {
					s.Unsubscribe()
					return RetryAfter(errors.New("busy"), time.Second)
				})
				pub.Publish("order.placed", 1)
				b.RunUntilIdle()
			},
			[]TraceKind{TraceRetryScheduled, TraceSkipped}},
		{"a dead letter is redelivered and fails again",
			func(t *testing.T, b *Bus, pub, sub *App) {
				mustSub(t, sub, "order.#", fail)
				pub.Publish("order.placed", 1)
				b.RunUntilIdle()
				for _, dl := range b.DeadLetters() {
					if err := b.Redeliver(dl); err != nil {
						t.Fatal(err)
					}
				}
				b.RunUntilIdle()
			},
			[]TraceKind{TraceRetryScheduled, TraceDeadLettered}},
		{"a newer contract version reaches a subscriber of an older one",
			func(t *testing.T, b *Bus, pub, sub *App) {
				mustSub(t, sub, "item.#", noopHandler, Accept("item@1"))
				pub.Send(Msg{Topic: "item.added", Payload: json.RawMessage(`{"sku":"A"}`), SchemaVersion: "item@2"})
				b.RunUntilIdle()
			},
			[]TraceKind{TraceHandlerFailed, TraceDeadLettered}},
		{"a contract failure is redelivered",
			func(t *testing.T, b *Bus, pub, sub *App) {
				mustSub(t, sub, "item.#", noopHandler, Accept("item@1"))
				pub.Send(Msg{Topic: "item.added", Payload: json.RawMessage(`{"sku":"A"}`), SchemaVersion: "item@2"})
				b.RunUntilIdle()
				for _, dl := range b.DeadLetters() {
					if err := b.Redeliver(dl); err != nil {
						t.Fatal(err)
					}
				}
				b.RunUntilIdle()
			},
			[]TraceKind{TraceRetryScheduled, TraceDeadLettered}},
		{"an upcaster fails",
			func(t *testing.T, b *Bus, pub, sub *App) {
				b.Contracts().RegisterUpcaster("item", 1, func(json.RawMessage) (json.RawMessage, error) {
					return nil, errors.New("no price list")
				})
				mustSub(t, sub, "item.#", noopHandler, Accept("item@2"))
				pub.Send(Msg{Topic: "item.added", Payload: json.RawMessage(`{"sku":"A"}`), SchemaVersion: "item@1"})
				b.RunUntilIdle()
			},
			[]TraceKind{TraceHandlerFailed, TraceDeadLettered}},
		{"an upcast payload breaks the newer schema under strict contracts",
			func(t *testing.T, b *Bus, pub, sub *App) {
				c := b.Contracts()
				c.SetMode(ContractStrict)
				for sv, doc := range map[string]string{
					"item@1": `{"type":"object","required":["sku"]}`,
					"item@2": `{"type":"object","required":["sku","price"]}`,
				} {
					if err := c.Register(sv, []byte(doc)); err != nil {
						t.Fatal(err)
					}
				}
				c.RegisterUpcaster("item", 1, func(p json.RawMessage) (json.RawMessage, error) { return p, nil })
				mustSub(t, sub, "item.#", noopHandler, Accept("item@2"))
				if _, err := pub.Send(Msg{Topic: "item.added", Payload: json.RawMessage(`{"sku":"A"}`), SchemaVersion: "item@1"}); err != nil {
					t.Fatal(err)
				}
				b.RunUntilIdle()
			},
			[]TraceKind{TraceHandlerFailed, TraceDeadLettered}},
		{"a dead letter goes to a sink",
			func(t *testing.T, b *Bus, pub, sub *App) {
				var sunk []DeadLetter
				b.SinkDeadLetters(func(dl DeadLetter) { sunk = append(sunk, dl) })
				mustSub(t, sub, "item.#", noopHandler, Accept("item@1"))
				mustSub(t, sub, "order.#", fail)
				pub.Send(Msg{Topic: "item.added", Payload: json.RawMessage(`{}`), SchemaVersion: "item@2"})
				pub.Publish("order.placed", 1)
				b.RunUntilIdle()
				if len(sunk) != 2 {
					t.Fatalf("sink got %d dead letters, want 2", len(sunk))
				}
			},
			[]TraceKind{TraceHandlerFailed, TraceDeadLettered}},
		{"a subscription ends with deliveries scheduled",
			func(t *testing.T, b *Bus, pub, sub *App) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				s := mustSub(t, sub, "order.#", fail)
				mustSub(t, sub, "item.#", fail, WithContext(ctx))
				pub.Publish("order.placed", 1)
				pub.Publish("item.added", 1)
				s.Unsubscribe()
				cancel()
				b.RunUntilIdle()
			},
			[]TraceKind{TraceSkipped}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(Options{})
			rec := record(b)
			tt.run(t, b, b.MustRegister(AppConfig{Name: "catalog"}), b.MustRegister(AppConfig{Name: "cart"}))
			rec.mu.Lock()
			events := rec.events
			rec.mu.Unlock()
			for _, k := range tt.want {
				if len(rec.kinds(k)) == 0 {
					t.Fatalf("no %s event in the trace:\n  %s", k, strings.Join(rec.lines, "\n  "))
				}
			}
			checkLifecycle(t, events)
			if t.Failed() {
				t.Logf("trace:\n  %s", strings.Join(rec.lines, "\n  "))
			}
		})
	}
}

// The delivery counters agree with the trace: each delivered event is one delivery.
func TestStatsCountTheDeliveriesTheTraceShows(t *testing.T) {
	b := New(Options{})
	rec := record(b)
	pub := b.MustRegister(AppConfig{Name: "catalog"})
	sub := b.MustRegister(AppConfig{Name: "cart"})
	mustSub(t, sub, "item.#", noopHandler, Accept("item@1"))
	pub.Send(Msg{Topic: "item.added", Payload: json.RawMessage(`{}`), SchemaVersion: "item@2"})
	pub.Send(Msg{Topic: "item.added", Payload: json.RawMessage(`{}`), SchemaVersion: "item@1"})
	b.RunUntilIdle()
	st := b.Stats()
	got := fmt.Sprintf("delivered=%d received=%d failures=%d", st.Delivered, st.Apps["cart"].Received, st.Apps["cart"].Failures)
	want := fmt.Sprintf("delivered=%d received=%d failures=%d", len(rec.kinds(TraceDelivered)), 2, 1)
	if got != want {
		t.Fatalf("%s, want %s", got, want)
	}
}
