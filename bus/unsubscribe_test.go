package bus

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// yielding is bus-wide middleware that lets other goroutines run before the handler does,
// as a middleware that logs or takes a lock might; it widens the gap between the bus
// deciding to deliver and the handler starting.
func yielding(next Handler) Handler {
	return func(ctx context.Context, d Delivery) error {
		runtime.Gosched()
		return next(ctx, d)
	}
}

// churn publishes from 8 goroutines while 4 others subscribe and unsubscribe over and
// over, for d of wall time, with drive running the loop. It returns how many handlers
// started after the Unsubscribe of their subscription had returned, and how many
// deliveries were made in all.
func churn(t *testing.T, d time.Duration, drive func(b *Bus, stop <-chan struct{})) (late, delivered int64) {
	t.Helper()
	b := New(Options{RetainMax: -1})
	b.Use(yielding)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	var lateN, deliveredN atomic.Int64
	for i := range 8 {
		pub := b.MustRegister(AppConfig{Name: "pub" + string(rune('a'+i))})
		wg.Go(func() {
			for !stopped() {
				if b.Pending() > 256 {
					runtime.Gosched()
					continue
				}
				if _, err := pub.Publish("churn.tick", i); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 4 {
		sub := b.MustRegister(AppConfig{Name: "sub" + string(rune('a'+i))})
		wg.Go(func() {
			for !stopped() {
				var returned atomic.Bool
				var got atomic.Int64
				s, err := sub.Subscribe("churn.#", func(context.Context, Delivery) error {
					if returned.Load() {
						lateN.Add(1)
					}
					got.Add(1)
					deliveredN.Add(1)
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				for got.Load() == 0 && !stopped() { // unsubscribe while deliveries flow
					runtime.Gosched()
				}
				s.Unsubscribe()
				returned.Store(true)
			}
		})
	}
	driven := make(chan struct{})
	go func() {
		defer close(driven)
		drive(b, stop)
	}()
	time.Sleep(d)
	close(stop)
	wg.Wait()
	<-driven
	return lateN.Load(), deliveredN.Load()
}

func TestNoHandlerStartsAfterUnsubscribeReturns(t *testing.T) {
	drivers := []struct {
		name  string
		drive func(b *Bus, stop <-chan struct{})
	}{
		{"when the loop is run by hand", func(b *Bus, stop <-chan struct{}) {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if b.RunUntilIdle() == 0 {
					runtime.Gosched()
				}
			}
		}},
		{"when the real-time driver runs the loop", func(b *Bus, stop <-chan struct{}) {
			rt := b.StartRealtime(Instant)
			<-stop
			rt.Stop()
		}},
	}
	for _, dr := range drivers {
		t.Run(dr.name, func(t *testing.T) {
			late, delivered := churn(t, 400*time.Millisecond, dr.drive)
			if delivered < 100 {
				t.Fatalf("only %d deliveries: the test did not exercise the bus", delivered)
			}
			if late != 0 {
				t.Fatalf("%d of %d handlers started after Unsubscribe had returned", late, delivered)
			}
			if testing.Verbose() {
				t.Logf("%d deliveries", delivered)
			}
		})
	}
}

func TestUnsubscribeWaitsForARunningHandlerOfItsSubscription(t *testing.T) {
	b := New(Options{})
	a := b.MustRegister(AppConfig{Name: "a"})
	entered, release := make(chan struct{}), make(chan struct{})
	s := mustSub(t, a, "t", func(context.Context, Delivery) error {
		close(entered)
		<-release
		return nil
	})
	a.Publish("t", 1)
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		b.RunUntilIdle()
	}()
	<-entered
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		s.Unsubscribe()
	}()
	select {
	case <-returned:
		t.Fatal("Unsubscribe returned while a handler of its subscription was still running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	for _, ch := range []chan struct{}{returned, ran} {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("Unsubscribe did not return once the handler had finished")
		}
	}
}

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
