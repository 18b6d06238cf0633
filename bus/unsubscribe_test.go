package bus

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
)

func noopHandler(context.Context, Delivery) error { return nil }

// runOrStall runs the loop until idle, failing the test if that takes longer than a
// deadlock would.
func runOrStall(t *testing.T, b *Bus) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.RunUntilIdle()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the loop is stuck: ending a subscription on the loop deadlocked")
	}
}

func TestEndingASubscriptionOnTheLoop(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, b *Bus, a, c *App)
		want  []string
	}{
		{
			"a handler that unsubscribes itself gets no further delivery",
			func(t *testing.T, b *Bus, a, c *App) {
				var s *Subscription
				s = mustSub(t, a, "t", func(context.Context, Delivery) error { s.Unsubscribe(); return nil })
				c.Publish("t", 1)
				c.Publish("t", 2)
			},
			[]string{"published c t #1", "published c t #2", "delivered a t #1", "skipped a t #2"},
		},
		{
			"a handler that unsubscribes another subscription stops its delivery of the same message",
			func(t *testing.T, b *Bus, a, c *App) {
				var other *Subscription
				mustSub(t, a, "t", func(context.Context, Delivery) error { other.Unsubscribe(); return nil })
				other = mustSub(t, c, "t", noopHandler)
				c.Publish("t", 1)
			},
			[]string{"published c t #1", "delivered a t #1", "skipped c t #1"},
		},
		{
			"a timer that unsubscribes stops the deliveries due after it",
			func(t *testing.T, b *Bus, a, c *App) {
				s := mustSub(t, a, "t", noopHandler)
				b.After(0, s.Unsubscribe)
				c.Publish("t", 1)
			},
			[]string{"published c t #1", "skipped a t #1"},
		},
		{
			"a handler that cancels its own subscription's context gets no further delivery",
			func(t *testing.T, b *Bus, a, c *App) {
				ctx, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				mustSub(t, a, "t", func(context.Context, Delivery) error { cancel(); return nil }, WithContext(ctx))
				c.Publish("t", 1)
				c.Publish("t", 2)
			},
			[]string{"published c t #1", "published c t #2", "delivered a t #1", "skipped a t #2"},
		},
		{
			"a handler that cancels another subscription's context stops its delivery of the same message",
			func(t *testing.T, b *Bus, a, c *App) {
				ctx, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				mustSub(t, a, "t", func(context.Context, Delivery) error { cancel(); return nil })
				mustSub(t, c, "t", noopHandler, WithContext(ctx))
				c.Publish("t", 1)
			},
			[]string{"published c t #1", "delivered a t #1", "skipped c t #1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 { // a context's cancellation reaches the bus on another goroutine: try often
				b := New(Options{})
				rec := record(b)
				a := b.MustRegister(AppConfig{Name: "a"})
				c := b.MustRegister(AppConfig{Name: "c"})
				tt.setup(t, b, a, c)
				runOrStall(t, b)
				rec.want(t, tt.want...)
			}
		})
	}
}

func TestSubscribingWithAContextWhileMessagesFlow(t *testing.T) {
	b := New(Options{RetainMax: -1})
	pub := b.MustRegister(AppConfig{Name: "pub"})
	sub := b.MustRegister(AppConfig{Name: "sub"})
	rt := b.StartRealtime(Instant)
	defer rt.Stop()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if b.Pending() < 64 {
				pub.Publish("flow.tick", 1)
			}
			runtime.Gosched()
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 200 {
		got := make(chan struct{})
		if _, err := sub.Subscribe("flow.#", func(context.Context, Delivery) error { close(got); return nil },
			Once(), WithContext(ctx)); err != nil {
			t.Fatal(err)
		}
		<-got
	}
	close(stop)
	wg.Wait()
}
