package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"mfelab/bus"
	"mfelab/bus/bustest"
)

type pair struct {
	b      *bus.Bus
	client *Client
	server *Server
	srvApp *bus.App
}

func newPair(t testing.TB) pair {
	t.Helper()
	b := bus.New(bus.Options{Seed: 7})
	cart := b.MustRegister(bus.AppConfig{Name: "cart"})
	pricing := b.MustRegister(bus.AppConfig{Name: "pricing"})
	p := pair{b: b, client: NewClient(cart, ClientOptions{Timeout: 100 * time.Millisecond}), server: NewServer(pricing), srvApp: pricing}
	type totals struct {
		Items []float64 `json:"items"`
	}
	must(t, p.server.Handle("pricing.total", func(_ context.Context, r Request) (any, error) {
		var in totals
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		sum := 0.0
		for _, v := range in.Items {
			sum += v
		}
		return sum, nil
	}))
	must(t, p.server.Handle("pricing.coded", func(context.Context, Request) (any, error) {
		return nil, NewError("out-of-stock", "sku %s", "A1")
	}))
	must(t, p.server.Handle("pricing.plain", func(context.Context, Request) (any, error) {
		return nil, errors.New("database unavailable")
	}))
	must(t, p.server.Handle("pricing.panics", func(context.Context, Request) (any, error) {
		panic("nil map")
	}))
	must(t, p.server.HandleAsync("pricing.slow", func(_ context.Context, r Request, reply Reply) {
		b.After(150*time.Millisecond, func() { reply("finally", nil) })
	}))
	return p
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestCallOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		params  any
		want    string
		wantErr string
		is      error
	}{
		{"a result comes back as JSON", "pricing.total", map[string]any{"items": []float64{1.5, 2.5}}, "4", "", nil},
		{"a coded handler error keeps its code", "pricing.coded", nil, "", "pricing.coded: out-of-stock: sku A1", ErrRemote},
		{"a plain handler error travels as handler-error", "pricing.plain", nil, "", "pricing.plain: handler-error: database unavailable", ErrRemote},
		{"a panicking handler answers with a panic error", "pricing.panics", nil, "", "pricing.panics: panic: nil map", ErrRemote},
		{"bad params are reported to the caller", "pricing.total", "not an object", "", "pricing.total: bad-params: json: cannot unmarshal string into Go value of type rpc.totals", ErrRemote},
		{"a reply after the timeout is a timeout", "pricing.slow", nil, "", "pricing.slow: no reply within 100ms", ErrTimeout},
		{"nobody listening is a timeout", "pricing.nobody", nil, "", "pricing.nobody: no reply within 100ms", ErrTimeout},
		{"an invalid method is rejected at once", "pricing..x", nil, "", "rpc pricing..x: invalid topic", bus.ErrInvalidTopic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPair(t)
			f := p.client.Call(context.Background(), tt.method, tt.params)
			p.b.RunUntilIdle()
			v, err, done := f.Result()
			if !done {
				t.Fatal("call did not finish")
			}
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, tt.is) || (err.Error() != tt.wantErr && !startsWith(err.Error(), tt.wantErr)) {
					t.Fatalf("err = %v, want %q (is %v)", err, tt.wantErr, tt.is)
				}
				return
			}
			if err != nil || string(v) != tt.want {
				t.Fatalf("got %s, %v; want %s", v, err, tt.want)
			}
		})
	}
}

func startsWith(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }

func TestLateReplyIsCountedAndDropped(t *testing.T) {
	p := newPair(t)
	var late []*bus.Envelope
	p.client.opts.OnLate = func(e *bus.Envelope) { late = append(late, e) }
	slow := p.client.Call(context.Background(), "pricing.slow", nil)
	p.b.RunFor(120 * time.Millisecond)
	// a second call is in flight when the first one's late reply arrives
	second := p.client.Call(context.Background(), "pricing.slow", nil, Timeout(time.Second))
	p.b.RunUntilIdle()
	if _, err, _ := slow.Result(); !errors.Is(err, ErrTimeout) {
		t.Fatalf("first call: %v, want timeout", err)
	}
	v, err, _ := second.Result()
	if err != nil || string(v) != `"finally"` {
		t.Fatalf("second call got %s %v", v, err)
	}
	st := p.client.Stats()
	if st.Late != 1 || len(late) != 1 || st.Timeouts != 1 || st.OK != 1 || st.InFlight != 0 {
		t.Fatalf("stats %+v, late %d", st, len(late))
	}
}

func TestManyConcurrentCallsGetTheirOwnReplies(t *testing.T) {
	b := bus.New(bus.Options{Seed: 3})
	client := NewClient(b.MustRegister(bus.AppConfig{Name: "c"}), ClientOptions{})
	server := NewServer(b.MustRegister(bus.AppConfig{Name: "s"}))
	rng := b.Rand(1)
	must(t, server.HandleAsync("echo", func(_ context.Context, r Request, reply Reply) {
		// replies come back in a shuffled order
		b.After(time.Duration(rng.IntN(1000))*time.Millisecond, func() { reply(r.Params(), nil) })
	}))
	const n = 500
	results := make([]int, n)
	for i := range n {
		Decode[int](client.Call(context.Background(), "echo", i)).Then(func(v int, err error) {
			if err != nil {
				t.Errorf("call %d: %v", i, err)
			}
			results[i] = v
		})
	}
	if st := client.Stats(); st.InFlight != n {
		t.Fatalf("in flight %d, want %d", st.InFlight, n)
	}
	b.RunUntilIdle()
	for i, v := range results {
		if v != i {
			t.Fatalf("call %d got %d", i, v)
		}
	}
}

func TestCancelledContextEndsTheCall(t *testing.T) {
	p := newPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	f := p.client.Call(ctx, "pricing.slow", nil, Timeout(time.Hour))
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for !f.Done() && time.Now().Before(deadline) {
		p.b.RunUntil(p.b.Now()) // runs the posted cancellation once it arrives
		time.Sleep(time.Millisecond)
	}
	if _, err, _ := f.Result(); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if st := p.client.Stats(); st.Cancelled != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCallerACLViolationFailsTheCall(t *testing.T) {
	b := bus.New(bus.Options{})
	c := NewClient(b.MustRegister(bus.AppConfig{Name: "c", Publish: []string{"other.#"}}), ClientOptions{})
	_, err, done := c.Call(context.Background(), "pricing.total", nil).Result()
	if !done || !errors.Is(err, bus.ErrACL) {
		t.Fatalf("err = %v, want ACL error", err)
	}
}

func TestDuplicateMethodIsRefused(t *testing.T) {
	p := newPair(t)
	if err := p.server.Handle("pricing.total", func(context.Context, Request) (any, error) { return nil, nil }); err == nil {
		t.Fatal("second handler for one method accepted")
	}
}

func TestCallTraceOnABus(t *testing.T) {
	p := newPair(t)
	p.srvApp.SetLatency(20 * time.Millisecond)
	rec := bustest.Record(p.b)
	p.client.Call(context.Background(), "pricing.total", map[string]any{"items": []float64{2}})
	p.client.Call(context.Background(), "pricing.plain", nil)
	p.client.Call(context.Background(), "pricing.slow", nil)
	p.b.RunUntilIdle()
	want := []string{
		"+0 published cart pricing.total",
		"+0 published cart pricing.plain",
		"+0 published cart pricing.slow",
		"+20 delivered pricing pricing.total",
		"+20 published pricing pricing.total.reply.cart",
		"+20 delivered pricing pricing.plain",
		"+20 published pricing pricing.plain.reply.cart",
		"+20 delivered pricing pricing.slow",
		"+20 delivered cart pricing.total.reply.cart",
		"+20 delivered cart pricing.plain.reply.cart",
		"+100 timed-out cart pricing.slow [no reply within 100ms]",
		"+170 published pricing pricing.slow.reply.cart",
		"+170 delivered cart pricing.slow.reply.cart",
	}
	if d := bustest.Diff(rec.Lines(), want); d != "" {
		t.Fatalf("trace:\n%s", d)
	}
	if st := p.client.Stats(); st.OK != 1 || st.Errors != 1 || st.Timeouts != 1 || st.Late != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestReplyKeepsTheCallersConversation(t *testing.T) {
	p := newPair(t)
	var reply *bus.Envelope
	p.b.Tap(func(e bus.TraceEvent) {
		if e.Kind == bus.TracePublished && e.Topic == "pricing.total.reply.cart" {
			reply = e.Env
		}
	})
	origin, _ := p.b.App("cart").Publish("checkout.started", nil)
	p.client.Call(context.Background(), "pricing.total", json.RawMessage(`{"items":[]}`), CausedBy(origin))
	p.b.RunUntilIdle()
	if reply == nil || reply.Correlation() != origin.Correlation() {
		t.Fatalf("reply correlation %v, want %s", reply, origin.Correlation())
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	p := newPair(b)
	params := json.RawMessage(`{"items":[1,2,3]}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		f := p.client.Call(ctx, "pricing.total", params)
		p.b.RunUntilIdle()
		if _, err, _ := f.Result(); err != nil {
			b.Fatal(err)
		}
	}
}
