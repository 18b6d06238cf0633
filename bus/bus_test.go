package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder keeps the trace as short readable lines: "kind app topic #seq [reason]".
type recorder struct {
	mu     sync.Mutex
	lines  []string
	events []TraceEvent
}

func record(b *Bus) *recorder {
	r := &recorder{}
	b.Tap(func(e TraceEvent) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, e)
		line := fmt.Sprintf("%s %s %s", e.Kind, e.App, e.Topic)
		if e.Env != nil {
			line += fmt.Sprintf(" #%d", e.Env.Seq)
		}
		r.lines = append(r.lines, line)
	})
	return r
}

func (r *recorder) kinds(k TraceKind) []TraceEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []TraceEvent
	for _, e := range r.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) want(t *testing.T, want ...string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Equal(r.lines, want) {
		t.Fatalf("trace:\n  %s\nwant:\n  %s", strings.Join(r.lines, "\n  "), strings.Join(want, "\n  "))
	}
}

func collect(got *[]string) Handler {
	return func(_ context.Context, d Delivery) error {
		*got = append(*got, d.Topic+"="+string(d.Payload))
		return nil
	}
}

func TestPublishDeliversOnTheLoopInSubscriptionOrder(t *testing.T) {
	b := New(Options{})
	rec := record(b)
	cart := b.MustRegister(AppConfig{Name: "cart"})
	inv := b.MustRegister(AppConfig{Name: "inventory"})
	pay := b.MustRegister(AppConfig{Name: "payment"})
	var got []string
	mustSub(t, inv, "cart.#", func(_ context.Context, d Delivery) error {
		got = append(got, "inventory:"+d.Topic)
		return nil
	})
	mustSub(t, pay, "cart.+", func(_ context.Context, d Delivery) error {
		got = append(got, "payment:"+d.Topic)
		return nil
	})
	env, err := cart.Publish("cart.checkout", map[string]int{"total": 42})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatal("Publish ran handlers; they must run on the loop")
	}
	if env.Seq != 1 || string(env.Payload) != `{"total":42}` || env.Meta.Source != "cart" {
		t.Fatalf("envelope = %+v", env)
	}
	if n := b.RunUntilIdle(); n != 2 {
		t.Fatalf("ran %d events, want 2", n)
	}
	if want := []string{"inventory:cart.checkout", "payment:cart.checkout"}; !slices.Equal(got, want) {
		t.Fatalf("handlers ran %v, want %v", got, want)
	}
	rec.want(t,
		"published cart cart.checkout #1",
		"delivered inventory cart.checkout #1",
		"delivered payment cart.checkout #1",
	)
}

func mustSub(t *testing.T, a *App, pattern string, h Handler, opts ...SubOption) *Subscription {
	t.Helper()
	s, err := a.Subscribe(pattern, h, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHandlerPublishesCarryCausationCorrelationAndTrace(t *testing.T) {
	b := New(Options{})
	cart := b.MustRegister(AppConfig{Name: "cart"})
	inv := b.MustRegister(AppConfig{Name: "inventory"})
	var reserved *Envelope
	mustSub(t, inv, "order.created", func(_ context.Context, d Delivery) error {
		env, err := d.Publish("inventory.reserved", json.RawMessage(`{"ok":true}`))
		reserved = env
		return err
	})
	root, _ := cart.Send(Msg{Topic: "order.created", Payload: 1, CorrelationID: "order-7"})
	b.RunUntilIdle()
	if reserved == nil {
		t.Fatal("handler did not publish")
	}
	if !reserved.IsCausedBy(root) {
		t.Errorf("causation = %v, want %v", reserved.Meta.CausationID, root.ID)
	}
	if reserved.Meta.CorrelationID != "order-7" || reserved.Meta.Source != "inventory" {
		t.Errorf("meta = %+v", reserved.Meta)
	}
	if reserved.Meta.TraceParent.TraceID != root.Meta.TraceParent.TraceID {
		t.Error("trace id not inherited along the causal chain")
	}
	if reserved.Meta.TraceParent.SpanID == root.Meta.TraceParent.SpanID {
		t.Error("span id must be the message's own")
	}
	// A chain started without a correlation id is correlated by its root's id.
	root2, _ := cart.Publish("order.created", 2)
	b.RunUntilIdle()
	if reserved.Meta.CorrelationID != root2.ID.String() || root2.Correlation() != root2.ID.String() {
		t.Errorf("correlation %q, want the root id %s", reserved.Meta.CorrelationID, root2.ID)
	}
}

func TestAFailingHandlerDoesNotStopTheOthers(t *testing.T) {
	b := New(Options{})
	rec := record(b)
	pub := b.MustRegister(AppConfig{Name: "host"})
	a := b.MustRegister(AppConfig{Name: "a"})
	c := b.MustRegister(AppConfig{Name: "c"})
	var ran []string
	mustSub(t, a, "x", func(context.Context, Delivery) error { panic("boom") })
	mustSub(t, a, "x", func(context.Context, Delivery) error { return errors.New("refused") })
	mustSub(t, c, "x", func(context.Context, Delivery) error { ran = append(ran, "c"); return nil })
	if _, err := pub.Publish("x", nil); err != nil {
		t.Fatal("a failing handler must not affect the publisher:", err)
	}
	b.RunUntilIdle()
	if !slices.Equal(ran, []string{"c"}) {
		t.Fatalf("the healthy handler ran %v", ran)
	}
	dls := b.DeadLetters()
	if len(dls) != 2 {
		t.Fatalf("dead letters: %d, want 2", len(dls))
	}
	var pe *PanicError
	if !errors.As(dls[0].Err, &pe) || !strings.Contains(dls[0].Reason, "handler panicked: boom") || pe.Stack == "" {
		t.Errorf("first dead letter = %+v", dls[0])
	}
	if dls[1].Reason != "handler: refused" || dls[1].Attempt != 1 || dls[1].Subscriber != "a" || dls[1].Envelope.Topic != "x" {
		t.Errorf("second dead letter = %+v", dls[1])
	}
	rec.want(t,
		"published host x #1",
		"delivered a x #1", "handler-failed a x #1", "dead-lettered a x #1",
		"delivered a x #1", "handler-failed a x #1", "dead-lettered a x #1",
		"delivered c x #1",
	)
	if st := b.Stats(); st.HandlerFailures != 2 || st.DeadLettered != 2 || st.Delivered != 3 || st.Apps["a"].Failures != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestPublishRejectsBadInputWithTypedErrors(t *testing.T) {
	b := New(Options{})
	rec := record(b)
	cart := b.MustRegister(AppConfig{Name: "cart", Publish: []string{"cart.#"}})
	tests := []struct {
		name    string
		topic   string
		payload any
		is      error
	}{
		{"a wildcard topic", "cart.+", nil, ErrInvalidTopic},
		{"an empty segment", "cart..x", nil, ErrInvalidTopic},
		{"a topic outside the ACL", "payment.charge", nil, ErrACL},
		{"a raw payload that is not JSON", "cart.x", json.RawMessage(`{"a":`), ErrInvalidPayload},
		{"a payload json cannot encode", "cart.x", func() {}, ErrInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := cart.Publish(tt.topic, tt.payload)
			if env != nil || !errors.Is(err, tt.is) {
				t.Fatalf("got (%v, %v), want error %v", env, err, tt.is)
			}
		})
	}
	var acl *ACLError
	_, err := cart.Publish("payment.charge", nil)
	if !errors.As(err, &acl) || acl.App != "cart" || acl.Action != "publish" {
		t.Fatalf("ACL error = %#v", err)
	}
	if env, _ := cart.Publish("cart.ok", nil); env.Seq != 1 {
		t.Fatalf("rejected publishes must not take a sequence number: seq %d", env.Seq)
	}
	if n := len(rec.kinds(TraceRejected)); n != 6 {
		t.Fatalf("%d rejected trace events, want 6", n)
	}
}

func TestRawPayloadsAreCopiedUnlessHandedOver(t *testing.T) {
	b := New(Options{})
	cart := b.MustRegister(AppConfig{Name: "cart"})
	buf := []byte(`{"qty":1}   spare`)
	lent := json.RawMessage(buf[:9])

	copied, err := cart.Publish("cart.lent", lent)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := cart.PublishJSON("cart.kept", lent)
	if err != nil {
		t.Fatal(err)
	}
	buf[7] = '2' // the caller breaks the PublishJSON contract, to show who holds what

	if got := string(copied.Payload); got != `{"qty":1}` {
		t.Errorf("Publish of a json.RawMessage must copy it: payload now %s", got)
	}
	if got := string(kept.Payload); got != `{"qty":2}` {
		t.Errorf("PublishJSON must keep the caller's slice, not copy it: payload %s", got)
	}
	if cap(kept.Payload) != len(kept.Payload) {
		t.Errorf("a kept payload must be clipped: cap %d, len %d", cap(kept.Payload), len(kept.Payload))
	}
	if _, err := cart.PublishJSON("cart.bad", json.RawMessage(`{"qty":`)); !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("PublishJSON of broken JSON: %v, want ErrInvalidPayload", err)
	}
}

func TestSubscribeACLAndLimits(t *testing.T) {
	b := New(Options{MaxHandlersPerPattern: 2})
	inv := b.MustRegister(AppConfig{Name: "inventory", Subscribe: []string{"order.#", "inventory.+"}})
	noop := func(context.Context, Delivery) error { return nil }
	for _, ok := range []string{"order.created", "order.#", "inventory.reserve"} {
		if _, err := inv.Subscribe(ok, noop); err != nil {
			t.Errorf("subscribe %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"#", "inventory.#", "payment.+"} {
		if _, err := inv.Subscribe(bad, noop); !errors.Is(err, ErrACL) {
			t.Errorf("subscribe %q: got %v, want an ACL error", bad, err)
		}
	}
	mustSub(t, inv, "order.created", noop)
	if _, err := inv.Subscribe("order.created", noop); !errors.Is(err, ErrHandlerLimit) {
		t.Errorf("third handler on one pattern: got %v, want ErrHandlerLimit", err)
	}
}

func TestUnsubscribeSkipsScheduledDeliveriesVisibly(t *testing.T) {
	b := New(Options{})
	rec := record(b)
	a := b.MustRegister(AppConfig{Name: "a"})
	var got []string
	s := mustSub(t, a, "t", collect(&got))
	a.Publish("t", 1)
	s.Unsubscribe()
	s.Unsubscribe()
	a.Publish("t", 2)
	b.RunUntilIdle()
	if len(got) != 0 {
		t.Fatalf("delivered after unsubscribe: %v", got)
	}
	rec.want(t, "published a t #1", "published a t #2", "skipped a t #1")
	if b.Stats().Subscriptions != 0 {
		t.Error("subscription still counted")
	}
}

func TestSubscribeOptions(t *testing.T) {
	t.Run("once delivers exactly one message", func(t *testing.T) {
		b := New(Options{})
		a := b.MustRegister(AppConfig{Name: "a"})
		var got []string
		mustSub(t, a, "t", collect(&got), Once())
		a.Publish("t", 1)
		a.Publish("t", 2)
		b.RunUntilIdle()
		a.Publish("t", 3)
		b.RunUntilIdle()
		if !slices.Equal(got, []string{"t=1"}) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("replay delivers the last N retained matches first", func(t *testing.T) {
		b := New(Options{})
		a := b.MustRegister(AppConfig{Name: "a"})
		for i := range 5 {
			a.Publish("t", i)
			a.Publish("other", i)
		}
		var got []string
		var replayed []bool
		mustSub(t, a, "t", func(ctx context.Context, d Delivery) error {
			replayed = append(replayed, d.Replay)
			return collect(&got)(ctx, d)
		}, WithReplay(2))
		a.Publish("t", 9)
		b.RunUntilIdle()
		if !slices.Equal(got, []string{"t=3", "t=4", "t=9"}) || !slices.Equal(replayed, []bool{true, true, false}) {
			t.Fatalf("got %v replay flags %v", got, replayed)
		}
	})
	t.Run("source filters include and exclude publishers", func(t *testing.T) {
		b := New(Options{})
		x := b.MustRegister(AppConfig{Name: "x"})
		y := b.MustRegister(AppConfig{Name: "y"})
		var only, except []string
		mustSub(t, x, "t", collect(&only), FromSources("y"))
		mustSub(t, x, "t", collect(&except), ExceptSources("x"))
		x.Publish("t", "from-x")
		y.Publish("t", "from-y")
		b.RunUntilIdle()
		if !slices.Equal(only, []string{`t="from-y"`}) || !slices.Equal(except, []string{`t="from-y"`}) {
			t.Fatalf("include %v exclude %v", only, except)
		}
	})
	t.Run("a cancelled context unsubscribes", func(t *testing.T) {
		b := New(Options{})
		a := b.MustRegister(AppConfig{Name: "a"})
		ctx, cancel := context.WithCancel(context.Background())
		var got []string
		s := mustSub(t, a, "t", collect(&got), WithContext(ctx))
		cancel()
		deadline := time.Now().Add(5 * time.Second)
		for s.Active() && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		a.Publish("t", 1)
		b.RunUntilIdle()
		if s.Active() || len(got) != 0 {
			t.Fatalf("active=%v got %v", s.Active(), got)
		}
	})
}

func TestMiddlewareOrderFirstAddedIsOutermost(t *testing.T) {
	b := New(Options{})
	a := b.MustRegister(AppConfig{Name: "a"})
	var order []string
	mw := func(name string) Middleware {
		return func(next Handler) Handler {
			return func(ctx context.Context, d Delivery) error {
				order = append(order, name+">")
				err := next(ctx, d)
				order = append(order, "<"+name)
				return err
			}
		}
	}
	b.Use(mw("outer"))
	mustSub(t, a, "t", func(context.Context, Delivery) error { order = append(order, "handler"); return nil },
		WithMiddleware(mw("sub")))
	b.Use(mw("inner")) // added after subscribing: still applies
	a.Publish("t", nil)
	b.RunUntilIdle()
	want := []string{"outer>", "inner>", "sub>", "handler", "<sub", "<inner", "<outer"}
	if !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
}

func TestRateLimitIsATokenBucketInBusTime(t *testing.T) {
	for _, drop := range []bool{false, true} {
		t.Run(fmt.Sprintf("drop=%v", drop), func(t *testing.T) {
			b := New(Options{})
			rec := record(b)
			a := b.MustRegister(AppConfig{Name: "a", RateLimit: &RateLimit{PerSecond: 2, Burst: 2, Drop: drop}})
			ok := 0
			for range 5 {
				env, err := a.Publish("t", nil)
				switch {
				case env != nil:
					ok++
				case drop && err != nil:
					t.Fatalf("drop mode returned %v", err)
				case !drop && !errors.Is(err, ErrRateLimited):
					t.Fatalf("error mode returned %v", err)
				}
			}
			if ok != 2 {
				t.Fatalf("%d published with burst 2", ok)
			}
			b.RunFor(500 * time.Millisecond) // one token back
			if env, _ := a.Publish("t", nil); env == nil {
				t.Fatal("no token after half a second at 2/s")
			}
			if env, _ := a.Publish("t", nil); env != nil {
				t.Fatal("bucket should be empty again")
			}
			if n := len(rec.kinds(TraceRateLimited)); n != 4 || b.Stats().RateLimited != 4 {
				t.Fatalf("%d rate-limited events, want 4", n)
			}
		})
	}
}

func TestLatencyAndTimersRunInBusTime(t *testing.T) {
	b := New(Options{})
	host := b.MustRegister(AppConfig{Name: "host"})
	slow := b.MustRegister(AppConfig{Name: "slow", Latency: 300 * time.Millisecond})
	fast := b.MustRegister(AppConfig{Name: "fast"})
	var got []string
	stamp := func(name string) Handler {
		return func(context.Context, Delivery) error {
			got = append(got, fmt.Sprintf("%s@%v", name, b.Elapsed()))
			return nil
		}
	}
	mustSub(t, slow, "t", stamp("slow"))
	mustSub(t, fast, "t", stamp("fast"))
	b.After(100*time.Millisecond, func() { got = append(got, fmt.Sprintf("timer@%v", b.Elapsed())) })
	stopped := b.After(200*time.Millisecond, func() { got = append(got, "stopped timer ran") })
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop should report true once")
	}
	host.Publish("t", nil)
	if at, _ := b.NextAt(); !at.Equal(b.Epoch()) {
		t.Fatalf("next event at %v, want now", at)
	}
	b.RunFor(250 * time.Millisecond)
	if !slices.Equal(got, []string{"fast@0s", "timer@100ms"}) || b.Elapsed() != 250*time.Millisecond {
		t.Fatalf("after 250ms: %v at %v", got, b.Elapsed())
	}
	b.RunUntilIdle()
	if got[len(got)-1] != "slow@300ms" {
		t.Fatalf("got %v", got)
	}
}

func TestHistoryReturnsRetainedMatchesWithinTTL(t *testing.T) {
	b := New(Options{RetainMax: 4, RetainTTL: time.Second})
	a := b.MustRegister(AppConfig{Name: "a"})
	for i := range 6 {
		a.Publish(fmt.Sprintf("cart.%d", i%2), i)
		b.RunFor(100 * time.Millisecond)
	}
	got, err := b.History("cart.1", time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Seq != 4 || got[1].Seq != 6 {
		t.Fatalf("history = %v (ring of 4 holds seq 3..6)", got)
	}
	got, _ = b.History("cart.#", b.Epoch().Add(450*time.Millisecond), 1)
	if len(got) != 1 || got[0].Seq != 6 {
		t.Fatalf("newest match since 450ms, limit 1 = %v", got)
	}
	b.RunFor(2 * time.Second)
	if got, _ := b.History("#", time.Time{}, 0); len(got) != 0 {
		t.Fatalf("expired envelopes still returned: %v", got)
	}
	if _, err := b.History("cart..x", time.Time{}, 0); !errors.Is(err, ErrInvalidTopic) {
		t.Fatalf("bad pattern: %v", err)
	}
}

func TestRegisterValidatesApps(t *testing.T) {
	b := New(Options{})
	b.MustRegister(AppConfig{Name: "cart"})
	tests := []struct {
		name string
		cfg  AppConfig
		want string
	}{
		{"a duplicate name", AppConfig{Name: "cart"}, "already registered"},
		{"a bad name", AppConfig{Name: "my cart"}, "app name"},
		{"a bad ACL pattern", AppConfig{Name: "x", Publish: []string{"a.#.b"}}, "ACL"},
		{"a zero rate", AppConfig{Name: "y", RateLimit: &RateLimit{}}, "rate limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.Register(tt.cfg)
			checkErr(t, err, tt.want)
		})
	}
}

func TestEnvelopeJSONRoundTrips(t *testing.T) {
	b := New(Options{Seed: 3})
	a := b.MustRegister(AppConfig{Name: "a"})
	a.Publish("p", 1)
	b.RunFor(time.Second)
	env, _ := a.Send(Msg{Topic: "x.y", Payload: map[string]any{"k": []int{1, 2}}, SchemaVersion: "x.y@2",
		Headers: map[string]string{"h": "v"}, CorrelationID: "c-1"})
	data, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	var back Envelope
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(&back)
	if string(again) != string(data) {
		t.Fatalf("round trip changed the envelope:\n%s\n%s", data, again)
	}
	if env.ID.Version() != 7 || !strings.HasPrefix(env.Meta.TraceParent.String(), "00-") {
		t.Fatalf("id %v traceparent %v", env.ID, env.Meta.TraceParent)
	}
}

func TestSameSeedSameLogByteForByte(t *testing.T) {
	run := func(seed uint64) string {
		b := New(Options{Seed: seed, Contracts: ContractWarn})
		var log strings.Builder
		b.Tap(func(e TraceEvent) {
			line, _ := json.Marshal(e)
			log.Write(line)
			if e.Kind == TracePublished {
				env, _ := json.Marshal(e.Env)
				log.Write(env)
			}
			log.WriteByte('\n')
		})
		cart := b.MustRegister(AppConfig{Name: "cart"})
		inv := b.MustRegister(AppConfig{Name: "inventory", Latency: 30 * time.Millisecond})
		pay := b.MustRegister(AppConfig{Name: "payment", Latency: 10 * time.Millisecond})
		rng := b.Rand(1)
		inv.Subscribe("order.created", func(_ context.Context, d Delivery) error {
			_, err := d.Publish("inventory.reserved", map[string]int{"n": rng.IntN(100)})
			return err
		})
		pay.Subscribe("inventory.reserved", func(_ context.Context, d Delivery) error {
			if rng.IntN(2) == 0 {
				return errors.New("card declined")
			}
			_, err := d.Send(Msg{Topic: "payment.charged", SchemaVersion: "payment.charged@1"})
			return err
		})
		for i := range 20 {
			cart.Send(Msg{Topic: "order.created", Payload: i, CorrelationID: fmt.Sprint("order-", i)})
			b.RunFor(7 * time.Millisecond)
		}
		b.RunUntilIdle()
		return log.String()
	}
	a, b2 := run(42), run(42)
	if a != b2 {
		t.Fatal("two runs with seed 42 differ")
	}
	if a == run(43) {
		t.Fatal("seed 43 produced the same log as seed 42")
	}
	if !strings.Contains(a, "card declined") || !strings.Contains(a, "contract-warning") {
		t.Fatal("the run did not exercise failures and contract warnings")
	}
}

func TestConcurrentPublishersAreSafeAndGapFree(t *testing.T) {
	b := New(Options{RetainMax: -1})
	const writers, each = 8, 500
	apps := make([]*App, writers)
	for i := range apps {
		apps[i] = b.MustRegister(AppConfig{Name: fmt.Sprintf("w%d", i)})
	}
	sink := b.MustRegister(AppConfig{Name: "sink"})
	seen := make(map[uint64]bool)
	mustSub(t, sink, "#", func(_ context.Context, d Delivery) error {
		seen[d.Seq] = true
		return nil
	})
	stop := make(chan struct{})
	loopDone := make(chan struct{})
	go func() { // the loop runs while publishers publish
		defer close(loopDone)
		for {
			select {
			case <-stop:
				b.RunUntilIdle()
				return
			default:
				b.Step()
			}
		}
	}()
	var wg sync.WaitGroup
	for _, a := range apps {
		wg.Go(func() {
			for i := range each {
				if _, err := a.Publish("load."+a.Name(), i); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-loopDone
	if len(seen) != writers*each {
		t.Fatalf("delivered %d distinct seqs, want %d", len(seen), writers*each)
	}
	for s := uint64(1); s <= writers*each; s++ {
		if !seen[s] {
			t.Fatalf("seq %d missing: not gap-free", s)
		}
	}
}

func TestRetryAfterRedeliversThenDeadLetters(t *testing.T) {
	b := New(Options{Seed: 1})
	pub := b.MustRegister(AppConfig{Name: "pub"})
	sub := b.MustRegister(AppConfig{Name: "sub"})
	var kinds []string
	b.Tap(func(e TraceEvent) {
		kinds = append(kinds, fmt.Sprintf("%s@%d#%d", e.Kind, e.At.Sub(b.Epoch())/time.Millisecond, e.Attempt))
	})
	var attempts []int
	_, err := sub.Subscribe("job", func(_ context.Context, d Delivery) error {
		attempts = append(attempts, d.Attempt)
		if d.Attempt < 3 {
			return RetryAfter(errors.New("busy"), time.Duration(d.Attempt)*10*time.Millisecond)
		}
		return errors.New("gave up")
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish("job", 1); err != nil {
		t.Fatal(err)
	}
	b.RunUntilIdle()
	if want := []int{1, 2, 3}; !slices.Equal(attempts, want) {
		t.Fatalf("attempts %v, want %v", attempts, want)
	}
	want := []string{"published@0#0", "delivered@0#1", "handler-failed@0#1", "retry-scheduled@0#2",
		"delivered@10#2", "handler-failed@10#2", "retry-scheduled@10#3",
		"delivered@30#3", "handler-failed@30#3", "dead-lettered@30#3"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("trace\n got %v\nwant %v", kinds, want)
	}
	dls := b.DeadLetters()
	if len(dls) != 1 || dls[0].Attempt != 3 {
		t.Fatalf("dead letters %+v", dls)
	}
	if st := b.Stats(); st.Retried != 2 || st.HandlerFailures != 3 || st.DeadLettered != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRedeliverDeadLetterKeepsEnvelopeAndChain(t *testing.T) {
	b := New(Options{Seed: 1})
	pub := b.MustRegister(AppConfig{Name: "pub"})
	sub := b.MustRegister(AppConfig{Name: "sub"})
	fail := true
	var caused []*Envelope
	s, _ := sub.Subscribe("job", func(_ context.Context, d Delivery) error {
		if fail {
			return errors.New("down")
		}
		e, err := d.Publish("job-done", nil)
		caused = append(caused, e)
		return err
	})
	env, _ := pub.Publish("job", 1)
	b.RunUntilIdle()
	dls := b.TakeDeadLetters()
	if len(dls) != 1 {
		t.Fatalf("want one dead letter, got %d", len(dls))
	}
	fail = false
	if err := b.Redeliver(dls[0]); err != nil {
		t.Fatal(err)
	}
	b.RunUntilIdle()
	if len(caused) != 1 || caused[0].Meta.CausationID != env.ID || caused[0].Correlation() != env.Correlation() {
		t.Fatalf("redelivered handler output not in the original chain: %+v", caused)
	}
	s.Unsubscribe()
	if err := b.Redeliver(dls[0]); !errors.Is(err, ErrSubscriptionEnded) {
		t.Fatalf("redeliver after unsubscribe: %v", err)
	}
}
