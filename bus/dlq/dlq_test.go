package dlq

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"mfelab/bus"
	"mfelab/bus/bustest"
	"mfelab/bus/resilience"
)

type rig struct {
	b     *bus.Bus
	pub   *bus.App
	sub   *bus.Subscription
	store *Store
	down  bool
	seen  []string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{b: bus.New(bus.Options{Seed: 2}), down: true}
	r.pub = r.b.MustRegister(bus.AppConfig{Name: "orders"})
	consumer := r.b.MustRegister(bus.AppConfig{Name: "shipping"})
	r.store = Attach(r.b, Options{})
	var err error
	r.sub, err = consumer.Subscribe("order.#", func(_ context.Context, d bus.Delivery) error {
		if d.Topic == "order.poison" {
			return errors.New("unparseable order")
		}
		if r.down {
			return errors.New("carrier API down")
		}
		r.seen = append(r.seen, fmt.Sprintf("%s#%d", d.Topic, d.Attempt))
		_, err := d.Publish("shipment.created", nil)
		return err
	}, bus.WithMiddleware(resilience.RetryMiddleware(resilience.RetryPolicy{MaxAttempts: 2, Initial: 10 * time.Millisecond})))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFailedAfterRetriesLandsInTheStore(t *testing.T) {
	r := newRig(t)
	_, _ = r.pub.Publish("order.placed", 1)
	_, _ = r.pub.Publish("order.poison", 2)
	_, _ = r.pub.Publish("order.placed", 3)
	r.b.RunUntilIdle()
	list := r.store.List()
	if len(list) != 3 {
		t.Fatalf("held %d, want 3", len(list))
	}
	for _, e := range list {
		if e.Attempts != 2 || e.Subscriber != "shipping" || e.At != r.b.Epoch().Add(10*time.Millisecond) {
			t.Fatalf("entry %+v", e)
		}
	}
	groups := r.store.ByReason()
	if len(groups) != 2 || groups[0].Reason != "handler: carrier API down" || len(groups[0].Entries) != 2 ||
		groups[1].Reason != "handler: unparseable order" {
		t.Fatalf("groups %+v", groups)
	}
	if len(r.b.DeadLetters()) != 0 {
		t.Fatal("the bus kept dead letters the store owns")
	}
}

func TestRetryKeepsTheCausalChain(t *testing.T) {
	r := newRig(t)
	orig, _ := r.pub.Publish("order.placed", 1)
	r.b.RunUntilIdle()
	r.down = false
	var caused *bus.Envelope
	r.b.Tap(func(e bus.TraceEvent) {
		if e.Kind == bus.TracePublished && e.Topic == "shipment.created" {
			caused = e.Env
		}
	})
	if err := r.store.Retry(r.store.List()[0].ID); err != nil {
		t.Fatal(err)
	}
	r.b.RunUntilIdle()
	if fmt.Sprint(r.seen) != "[order.placed#3]" {
		t.Fatalf("handled %v", r.seen)
	}
	if caused == nil || caused.Meta.CausationID != orig.ID || caused.Correlation() != orig.Correlation() {
		t.Fatalf("retry output outside the chain: %+v", caused)
	}
	if st := r.store.Stats(); st.Held != 0 || st.Retried != 1 || st.Received != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRetryAfterTheSubscriptionEndedRepublishes(t *testing.T) {
	r := newRig(t)
	orig, _ := r.pub.Publish("order.placed", 1)
	r.b.RunUntilIdle()
	r.sub.Unsubscribe()
	var again *bus.Envelope
	r.b.Tap(func(e bus.TraceEvent) {
		if e.Kind == bus.TracePublished {
			again = e.Env
		}
	})
	if err := r.store.Retry(r.store.List()[0].ID); err != nil {
		t.Fatal(err)
	}
	if again == nil || again.Topic != "order.placed" || again.Meta.Source != "orders" || again.Meta.Headers[HeaderRetryOf] != orig.ID.String() ||
		again.Correlation() != orig.Correlation() || string(again.Payload) != "1" {
		t.Fatalf("republished %+v", again)
	}
	if st := r.store.Stats(); st.Republished != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRetryAllAndPurge(t *testing.T) {
	r := newRig(t)
	for i := range 4 {
		_, _ = r.pub.Publish("order.placed", i)
	}
	_, _ = r.pub.Publish("order.poison", 9)
	r.b.RunUntilIdle()
	ids := r.store.List()
	if n := r.store.Purge(ids[0].ID); n != 1 {
		t.Fatalf("purged %d", n)
	}
	r.down = false
	if err := r.store.RetryAll(); err != nil {
		t.Fatal(err)
	}
	r.b.RunUntilIdle()
	// the three good orders went through; the poison one failed once more (a manual retry is one attempt) and is back
	if len(r.seen) != 3 {
		t.Fatalf("handled %v", r.seen)
	}
	list := r.store.List()
	if len(list) != 1 || list[0].Topic != "order.poison" || list[0].Attempts != 3 {
		t.Fatalf("left %+v", list)
	}
	if n := r.store.Purge(); n != 1 || len(r.store.List()) != 0 {
		t.Fatalf("purge all dropped %d", n)
	}
	if err := r.store.Retry(12345); !errors.Is(err, ErrNotFound) {
		t.Fatalf("retry of unknown id: %v", err)
	}
}

func TestRetryTraceOnABus(t *testing.T) {
	r := newRig(t)
	_, _ = r.pub.Publish("order.placed", 1)
	r.b.RunUntilIdle()
	r.down = false
	rec := bustest.Record(r.b)
	_ = r.store.RetryAll()
	r.b.RunUntilIdle()
	want := []string{
		"+10 retry-scheduled shipping order.placed #3 [dead letter redelivered]",
		"+10 delivered shipping order.placed #3",
		"+10 published shipping shipment.created",
	}
	if d := bustest.Diff(rec.Lines(), want); d != "" {
		t.Fatalf("trace:\n%s", d)
	}
}
