package resilience

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"mfelab/bus"
	"mfelab/bus/async"
	"mfelab/bus/breaker"
	"mfelab/bus/bustest"
	"mfelab/bus/rpc"
)

var errFlaky = errors.New("flaky")

func TestBackoff(t *testing.T) {
	p := RetryPolicy{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 3}
	tests := []struct {
		attempt int
		want    time.Duration
	}{{1, 100 * time.Millisecond}, {2, 300 * time.Millisecond}, {3, 900 * time.Millisecond}, {4, time.Second}, {10, time.Second}}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("after attempt %d", tt.attempt), func(t *testing.T) {
			if got := p.Backoff(tt.attempt); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestJitterIsSeededAndBounded(t *testing.T) {
	draw := func() []time.Duration {
		b := bus.New(bus.Options{Seed: 42})
		p := RetryPolicy{Initial: time.Second, Max: time.Hour, Jitter: 0.5, Rand: b.Rand(9)}
		var out []time.Duration
		for range 50 {
			out = append(out, p.Backoff(1))
		}
		return out
	}
	a, b := draw(), draw()
	distinct := map[time.Duration]bool{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("draw %d differs between runs with one seed: %v vs %v", i, a[i], b[i])
		}
		if a[i] < 500*time.Millisecond || a[i] > 1500*time.Millisecond {
			t.Fatalf("delay %v outside 1s ±50%%", a[i])
		}
		distinct[a[i]] = true
	}
	if len(distinct) < 10 {
		t.Fatalf("jitter barely varies: %d distinct delays", len(distinct))
	}
}

// flaky fails its first n attempts with err.
func flaky(b *bus.Bus, n int, err error, took time.Duration, calls *[]time.Duration) Op[string] {
	return func(ctx context.Context) *async.Future[string] {
		*calls = append(*calls, b.Elapsed())
		f, settle := async.New[string]()
		k := len(*calls)
		b.After(took, func() {
			if k <= n {
				settle("", err)
				return
			}
			settle(fmt.Sprintf("ok on %d", k), nil)
		})
		return f
	}
}

func TestRetry(t *testing.T) {
	policy := RetryPolicy{MaxAttempts: 4, Initial: 10 * time.Millisecond}
	tests := []struct {
		name      string
		failures  int
		err       error
		want      string
		wantErr   error
		wantCalls []time.Duration
	}{
		{"success needs no retry", 0, errFlaky, "ok on 1", nil, []time.Duration{0}},
		{"two failures then success, backing off", 2, errFlaky, "ok on 3", nil, []time.Duration{0, 11 * time.Millisecond, 32 * time.Millisecond}},
		{"every attempt fails", 9, errFlaky, "", errFlaky, []time.Duration{0, 11 * time.Millisecond, 32 * time.Millisecond, 73 * time.Millisecond}},
		{"a permanent error is not retried", 9, Permanent(errFlaky), "", errFlaky, []time.Duration{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bus.New(bus.Options{})
			var calls []time.Duration
			f := Retry(b, policy, flaky(b, tt.failures, tt.err, time.Millisecond, &calls))(context.Background())
			b.RunUntilIdle()
			v, err, _ := f.Result()
			if v != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("got %q %v, want %q %v", v, err, tt.want, tt.wantErr)
			}
			if fmt.Sprint(calls) != fmt.Sprint(tt.wantCalls) {
				t.Fatalf("attempts at %v, want %v", calls, tt.wantCalls)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	b := bus.New(bus.Options{})
	var calls []time.Duration
	slow := Timeout(b, 50*time.Millisecond, flaky(b, 0, nil, 80*time.Millisecond, &calls))(context.Background())
	fast := Timeout(b, 50*time.Millisecond, flaky(b, 0, nil, 20*time.Millisecond, &calls))(context.Background())
	b.RunUntilIdle()
	if _, err, _ := slow.Result(); !errors.Is(err, ErrTimeout) {
		t.Fatalf("slow: %v", err)
	}
	if v, err, _ := fast.Result(); err != nil || v != "ok on 2" {
		t.Fatalf("fast: %q %v", v, err)
	}
}

func TestBulkhead(t *testing.T) {
	b := bus.New(bus.Options{})
	bh, err := NewBulkhead("inventory", 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	var calls []time.Duration
	op := WithBulkhead(bh, flaky(b, 0, nil, 10*time.Millisecond, &calls))
	var fs []*async.Future[string]
	for range 4 {
		fs = append(fs, op(context.Background()))
	}
	if s := bh.Stats(); s.Running != 2 || s.Queued != 1 || s.Rejected != 1 {
		t.Fatalf("stats while full %+v", s)
	}
	if _, err, done := fs[3].Result(); !done || !errors.Is(err, ErrBulkheadFull) {
		t.Fatalf("fourth: %v", err)
	}
	b.RunUntilIdle()
	for i, f := range fs[:3] {
		if _, err, _ := f.Result(); err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
	}
	// the queued one starts when the first slot frees up
	if fmt.Sprint(calls) != "[0s 0s 10ms]" {
		t.Fatalf("starts %v", calls)
	}
	if s := bh.Stats(); s.Running != 0 || s.Queued != 0 || s.Admitted != 3 || s.Ended != 3 {
		t.Fatalf("stats after %+v", s)
	}
	if _, err := NewBulkhead("x", 0, 0); err == nil {
		t.Fatal("zero concurrency accepted")
	}
}

func TestFallback(t *testing.T) {
	b := bus.New(bus.Options{})
	var calls []time.Duration
	op := Fallback(func(_ context.Context, err error) (string, error) { return "cached because " + err.Error(), nil },
		flaky(b, 1, errFlaky, 0, &calls))
	f := op(context.Background())
	b.RunUntilIdle()
	if v, err, _ := f.Result(); v != "cached because flaky" || err != nil {
		t.Fatalf("got %q %v", v, err)
	}
}

// The pipeline on a real bus: an inventory API behind RPC that fails three times; the
// breaker trips after two, so the third attempt is refused without a request, and the
// fallback answers from the cache. The trace shows exactly which requests went out.
func TestPipelineOnABus(t *testing.T) {
	b := bus.New(bus.Options{Seed: 5})
	cart := b.MustRegister(bus.AppConfig{Name: "cart"})
	inv := b.MustRegister(bus.AppConfig{Name: "inventory"})
	server := rpc.NewServer(inv)
	failures := 0
	if err := server.Handle("inventory.stock", func(context.Context, rpc.Request) (any, error) {
		failures++
		return nil, errors.New("database down")
	}); err != nil {
		t.Fatal(err)
	}
	client := rpc.NewClient(cart, rpc.ClientOptions{})
	br, _ := breaker.New(breaker.Config{Name: "inventory", Events: cart, ConsecutiveFailures: 2, OpenTimeout: time.Minute})
	bh, _ := NewBulkhead("inventory", 4, 4)
	var retries []string
	p := Pipeline[json.RawMessage]{
		Scheduler: b,
		Fallback: func(_ context.Context, err error) (json.RawMessage, error) {
			return json.RawMessage(`{"stock":3,"cached":true}`), nil
		},
		Retry: &RetryPolicy{MaxAttempts: 3, Initial: 100 * time.Millisecond, OnRetry: func(n int, err error, d time.Duration) {
			retries = append(retries, fmt.Sprintf("attempt %d in %v after: %v", n, d, err))
		}},
		Breaker:  br,
		Bulkhead: bh,
		Timeout:  time.Second,
	}
	rec := bustest.Record(b, bus.TracePublished)
	f := p.Wrap(func(ctx context.Context) *async.Future[json.RawMessage] {
		return client.Call(ctx, "inventory.stock", map[string]string{"sku": "A1"})
	})(context.Background())
	b.RunUntilIdle()
	v, err, _ := f.Result()
	if err != nil || string(v) != `{"stock":3,"cached":true}` {
		t.Fatalf("got %s %v", v, err)
	}
	want := []string{
		"+0 published cart inventory.stock",
		"+0 published inventory inventory.stock.reply.cart",
		"+100 published cart inventory.stock",
		"+100 published inventory inventory.stock.reply.cart",
		"+100 published cart breaker.inventory.state",
		// RunUntilIdle also runs the breaker's timer: half-open a minute later
		"+60100 published cart breaker.inventory.state",
	}
	if d := bustest.Diff(rec.Lines(), want); d != "" {
		t.Fatalf("trace:\n%s", d)
	}
	wantRetries := []string{
		"attempt 2 in 100ms after: inventory.stock: handler-error: database down",
		"attempt 3 in 200ms after: inventory.stock: handler-error: database down",
	}
	if d := bustest.Diff(retries, wantRetries); d != "" {
		t.Fatalf("retries:\n%s", d)
	}
	if failures != 2 || br.State() != breaker.HalfOpen || br.Snapshot().Counts.Rejected != 1 {
		t.Fatalf("server saw %d calls, breaker %v", failures, br.State())
	}
}

func TestRetryMiddlewareOnABus(t *testing.T) {
	b := bus.New(bus.Options{Seed: 1})
	pub := b.MustRegister(bus.AppConfig{Name: "payment"})
	sub := b.MustRegister(bus.AppConfig{Name: "notifications"})
	mw := RetryMiddleware(RetryPolicy{MaxAttempts: 3, Initial: 50 * time.Millisecond})
	_, err := sub.Subscribe("payment.+", func(_ context.Context, d bus.Delivery) error {
		if d.Topic == "payment.poison" {
			return Permanent(errors.New("cannot parse"))
		}
		if d.Attempt < 2 {
			return errFlaky
		}
		return nil
	}, bus.WithMiddleware(mw))
	if err != nil {
		t.Fatal(err)
	}
	rec := bustest.Record(b)
	_, _ = pub.Publish("payment.ok", 1)
	_, _ = pub.Publish("payment.poison", 2)
	b.RunUntilIdle()
	want := []string{
		"+0 published payment payment.ok",
		"+0 published payment payment.poison",
		"+0 delivered notifications payment.ok",
		"+0 handler-failed notifications payment.ok [handler: flaky (retrying in 50ms)]",
		"+0 retry-scheduled notifications payment.ok #2 [attempt 2 in 50ms]",
		"+0 delivered notifications payment.poison",
		"+0 handler-failed notifications payment.poison [handler: cannot parse]",
		"+0 dead-lettered notifications payment.poison [handler: cannot parse]",
		"+50 delivered notifications payment.ok #2",
	}
	if d := bustest.Diff(rec.Lines(), want); d != "" {
		t.Fatalf("trace:\n%s", d)
	}
}
