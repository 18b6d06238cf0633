package natsbridge

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"mfelab/bus"
)

// join makes a bus on the wall clock and joins it to url until the test ends.
func join(t testing.TB, url string, opts Options, extra ...nats.Option) (*bus.Bus, *Bridge) {
	t.Helper()
	b := bus.New(LiveOptions(bus.Options{}))
	opts.Logger = quiet
	if opts.ReconnectWait == 0 {
		opts.ReconnectWait = 20 * time.Millisecond
	}
	br, err := connect(b, url, opts, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(br.Close)
	return b, br
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// inbox collects what an app on a bus receives.
type inbox struct {
	mu   sync.Mutex
	envs []*bus.Envelope
}

func (in *inbox) handler(_ context.Context, d bus.Delivery) error {
	in.mu.Lock()
	in.envs = append(in.envs, d.Envelope)
	in.mu.Unlock()
	return nil
}

func (in *inbox) len() int { in.mu.Lock(); defer in.mu.Unlock(); return len(in.envs) }

func (in *inbox) last() *bus.Envelope {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.envs) == 0 {
		return nil
	}
	return in.envs[len(in.envs)-1]
}

func subscribe(t testing.TB, b *bus.Bus, app, pattern string) *inbox {
	t.Helper()
	a := b.App(app)
	if a == nil {
		a = b.MustRegister(bus.AppConfig{Name: app})
	}
	in := &inbox{}
	if _, err := a.Subscribe(pattern, in.handler); err != nil {
		t.Fatal(err)
	}
	return in
}

// tracer keeps a bus's trace events.
type tracer struct {
	mu     sync.Mutex
	events []bus.TraceEvent
}

func trace(b *bus.Bus) *tracer {
	tr := &tracer{}
	b.Tap(func(e bus.TraceEvent) { tr.mu.Lock(); tr.events = append(tr.events, e); tr.mu.Unlock() })
	return tr
}

func (tr *tracer) find(match func(bus.TraceEvent) bool) []bus.TraceEvent {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []bus.TraceEvent
	for _, e := range tr.events {
		if match(e) {
			out = append(out, e)
		}
	}
	return out
}

func TestTwoBusesExchangeEnvelopesIntact(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	a, brA := join(t, srv.URL(), Options{})
	b, brB := join(t, srv.URL(), Options{})
	traceA := trace(a)
	got := subscribe(t, b, "inventory", "cart.#")
	replies := subscribe(t, a, "cart", "inventory.#")
	if _, err := b.App("inventory").Subscribe("cart.checked-out", func(_ context.Context, d bus.Delivery) error {
		_, err := d.Publish("inventory.reserved", map[string]int{"order": 1})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	cause := uuid.MustParse("0190c4a2-0000-7000-8000-0000000000aa")
	const corr = " order\r\n1 " // the client would trim the spaces and blank the line break
	sent, err := a.App("cart").Send(bus.Msg{Topic: "cart.checked-out", Payload: json.RawMessage(`{"order":1}`),
		SchemaVersion: "cart.checked-out@2", CorrelationID: corr, CausationID: cause,
		Headers: map[string]string{"tenant": "acme", "odd: key": "line\nbreak"}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the message on the other bus", func() bool { return got.len() == 1 })
	env := got.last()
	origin, _ := OriginOf(env)
	origin.Time = origin.Time.UTC()

	checks := []struct {
		name      string
		got, want any
	}{
		{"the id survives", env.ID, sent.ID},
		{"the topic survives", env.Topic, sent.Topic},
		{"the payload survives", string(env.Payload), string(sent.Payload)},
		{"the schema version survives", env.SchemaVersion, sent.SchemaVersion},
		{"the source app survives", env.Meta.Source, "cart"},
		{"the correlation survives", env.Meta.CorrelationID, corr},
		{"the causation survives", env.Meta.CausationID, cause},
		{"the trace context survives", env.Meta.TraceParent, sent.Meta.TraceParent},
		{"free headers survive", env.Meta.Headers["tenant"] + "|" + env.Meta.Headers["odd: key"], "acme|line\nbreak"},
		{"the origin travels as a header", origin, Origin{Bridge: brA.ID(), Seq: sent.Seq, Time: sent.TS.UTC()}},
		{"the local sequence is the receiving bus's own", env.Seq, uint64(1)},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}

	t.Run("a reply caused by a remote message names it as its cause", func(t *testing.T) {
		waitFor(t, "the reply", func() bool { return replies.len() == 1 })
		r := replies.last()
		if r.Meta.CausationID != sent.ID || r.Meta.CorrelationID != corr || r.Meta.TraceParent.TraceID != sent.Meta.TraceParent.TraceID {
			t.Errorf("reply meta %+v, want caused by %s in %q and its trace", r.Meta, sent.ID, corr)
		}
	})
	t.Run("remote apps are registered and marked remote", func(t *testing.T) {
		if app := brB.RemoteApps()["cart"]; app == nil || !app.Remote() || app.Origin() != srv.URL() {
			t.Errorf("bus B remote apps %v, want cart from %s", brB.RemoteApps(), srv.URL())
		}
		if app := b.App("inventory"); app.Remote() {
			t.Error("the local inventory app reads as remote")
		}
	})
	t.Run("no message loops back to its origin", func(t *testing.T) {
		if err := brA.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "bus A to see its own message come back", func() bool { return brA.Stats().Echoes >= 1 })
		published := traceA.find(func(e bus.TraceEvent) bool { return e.Kind == bus.TracePublished && e.Topic == "cart.checked-out" })
		if len(published) != 1 {
			t.Errorf("bus A published cart.checked-out %d times, want once", len(published))
		}
		if st := brB.Stats(); st.Forwarded != 1 {
			t.Errorf("bus B forwarded %d messages, want only its reply (it never sends back what it imported)", st.Forwarded)
		}
	})
}

func TestServerRefusalIsARejection(t *testing.T) {
	apps := []bus.AppConfig{{Name: "cart", Publish: []string{"cart.#"}, Subscribe: []string{"cart.#", "inventory.+"}}}
	srv := startServer(t, ServerOptions{Apps: apps}) // no password: bcrypt is slow under the race detector
	tests := []struct {
		name    string
		import_ []string
		publish string // a topic published by an app with no local ACL
		want    func(e bus.TraceEvent) bool
	}{
		{"a publish outside the app's permissions is refused by the server", []string{"cart.#"}, "payment.captured",
			func(e bus.TraceEvent) bool {
				return e.App == "rogue" && e.Topic == "payment.captured" && e.Env != nil && e.Env.Topic == "payment.captured"
			}},
		{"a subscription outside the app's permissions is refused by the server", []string{"payment.#"}, "",
			func(e bus.TraceEvent) bool { return e.App == defaultApp && strings.HasPrefix(e.Topic, "payment") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bus.New(LiveOptions(bus.Options{}))
			tr := trace(b)
			br, err := Connect(b, srv.URL(), Options{User: "cart", Import: tt.import_, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			defer br.Close()
			if tt.publish != "" {
				if _, err := b.MustRegister(bus.AppConfig{Name: "rogue"}).Publish(tt.publish, nil); err != nil {
					t.Fatal(err)
				}
			}
			var rejected []bus.TraceEvent
			waitFor(t, "the refusal on the trace", func() bool {
				rejected = tr.find(func(e bus.TraceEvent) bool { return e.Kind == bus.TraceRejected && errors.Is(e.Err, ErrRefused) })
				return len(rejected) > 0
			})
			if !tt.want(rejected[0]) {
				t.Errorf("rejection %+v is not the one expected", rejected[0])
			}
			if br.Stats().Refused == 0 {
				t.Error("Stats.Refused is 0")
			}
		})
	}
	t.Run("an unknown user fails to connect with the reason", func(t *testing.T) {
		_, err := Connect(bus.New(bus.Options{}), srv.URL(), Options{User: "stranger", Logger: quiet})
		if err == nil || !strings.Contains(err.Error(), "uthorization") {
			t.Errorf("error %v, want an authorization failure", err)
		}
	})
}

// publishUntilStats publishes n messages on topic as app.
func publishN(t testing.TB, app *bus.App, topic string, n int) {
	t.Helper()
	for i := range n {
		if _, err := app.Publish(topic, i); err != nil {
			t.Fatal(err)
		}
	}
}

// accountFor checks that every message sent on topic was either received or counted as
// lost by one side or the other. A loss shows when a later message arrives, so once both
// sides are connected and subscribed it sends a final message, again every so often
// until one arrives (any of them may be lost too, and is counted like the rest).
func accountFor(t *testing.T, sender *bus.App, brA, brB *Bridge, got *inbox, topic string, sent int) {
	t.Helper()
	waitFor(t, "both bridges to reconnect", func() bool { return brA.Connected() && brB.Connected() })
	if err := brB.Flush(context.Background()); err != nil { // the receiver's subscriptions are back
		t.Fatal(err)
	}
	var lastFinal time.Time
	waitFor(t, "a final message", func() bool {
		if e := got.last(); e != nil && string(e.Payload) == `"final"` {
			return true
		}
		if time.Since(lastFinal) > 50*time.Millisecond {
			if _, err := sender.Publish(topic, "final"); err != nil {
				t.Fatal(err)
			}
			sent++
			lastFinal = time.Now()
		}
		return false
	})
	a, b := brA.Stats(), brB.Stats()
	if uint64(got.len())+b.Missing+a.ForwardFailed != uint64(sent) {
		t.Errorf("sent %d, but received %d + missing %d + failed to forward %d do not add up to it", sent, got.len(), b.Missing, a.ForwardFailed)
	}
	t.Logf("sent %d: received %d, missing %d, failed to forward %d", sent, got.len(), b.Missing, a.ForwardFailed)
}

func TestServerRestartLossIsCounted(t *testing.T) {
	tests := []struct {
		name      string
		reconnect int // Options.ReconnectBuffer of the sender
	}{
		{"messages sent while the server is down wait in the reconnect buffer", 0},
		{"messages sent while the server is down fail, each counted and dead-lettered", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, ServerOptions{})
			listen := strings.TrimPrefix(srv.URL(), "nats://")
			a, brA := join(t, srv.URL(), Options{ReconnectBuffer: tt.reconnect, Import: []string{}})
			b, brB := join(t, srv.URL(), Options{Export: []string{}})
			got := subscribe(t, b, "inventory", "cart.#")
			cart := a.MustRegister(bus.AppConfig{Name: "cart"})

			publishN(t, cart, "cart.added", 20)
			waitFor(t, "the first messages", func() bool { return got.len() == 20 })

			srv.Close()
			waitFor(t, "both bridges to notice", func() bool { return !brA.Connected() && !brB.Connected() })
			publishN(t, cart, "cart.added", 30)
			waitFor(t, "the loop to forward them", func() bool { st := brA.Stats(); return st.Forwarded+st.ForwardFailed == 50 })

			restarted := startServer(t, ServerOptions{Listen: listen})
			_ = restarted
			accountFor(t, cart, brA, brB, got, "cart.added", 50)
			if st := brB.Stats(); st.Disconnects == 0 || st.Reconnects == 0 {
				t.Errorf("receiver stats %+v, want a disconnect and a reconnect", st)
			}
			if tt.reconnect < 0 {
				if st := brA.Stats(); st.ForwardFailed != 30 {
					t.Errorf("%d forwards failed, want the 30 sent while down", st.ForwardFailed)
				}
				if n := len(a.DeadLetters()); n != 30 {
					t.Errorf("%d dead letters, want 30", n)
				}
			}
		})
	}
}

// killable dials real connections and can cut them as a killed process would.
type killable struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (k *killable) Dial(network, address string) (net.Conn, error) {
	c, err := net.Dial(network, address)
	if err == nil {
		k.mu.Lock()
		k.conns = append(k.conns, c)
		k.mu.Unlock()
	}
	return c, err
}

func (k *killable) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range k.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // reset, not a polite close
		}
		_ = c.Close()
	}
	k.conns = nil
}

func TestKilledConnectionLossIsCounted(t *testing.T) {
	for _, side := range []string{"sender", "receiver"} {
		t.Run("the "+side+"'s connection dies mid-stream and what it lost is counted", func(t *testing.T) {
			srv := startServer(t, ServerOptions{})
			var dialA, dialB killable
			a, brA := join(t, srv.URL(), Options{Import: []string{}}, nats.SetCustomDialer(&dialA))
			b, brB := join(t, srv.URL(), Options{Export: []string{}}, nats.SetCustomDialer(&dialB))
			got := subscribe(t, b, "inventory", "cart.#")
			cart := a.MustRegister(bus.AppConfig{Name: "cart"})
			victim := map[string]*killable{"sender": &dialA, "receiver": &dialB}[side]
			victimBridge := map[string]*Bridge{"sender": brA, "receiver": brB}[side]

			publishN(t, cart, "cart.added", 100)
			// A receiver counts gaps after the first message it sees from a sender.
			waitFor(t, "the first message", func() bool { return got.len() > 0 })
			victim.kill()
			publishN(t, cart, "cart.added", 100)
			waitFor(t, "the bridge to reconnect", func() bool { return victimBridge.Stats().Reconnects > 0 })
			accountFor(t, cart, brA, brB, got, "cart.added", 200)
		})
	}
}

func TestSlowConsumerIsCounted(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	a, brA := join(t, srv.URL(), Options{Import: []string{}})
	b, brB := join(t, srv.URL(), Options{Export: []string{}, PendingLimit: 4})
	got := subscribe(t, b, "inventory", "cart.#")
	cart := a.MustRegister(bus.AppConfig{Name: "cart"})
	tr := trace(b)

	// Hold the receiving bus on the first remote message: its bridge stops taking
	// messages, and those behind it pile up past the pending limit.
	gate, held := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b.Tap(func(e bus.TraceEvent) {
		if e.Kind == bus.TracePublished && e.Topic == "cart.added" {
			once.Do(func() { close(held); <-gate })
		}
	})
	publishN(t, cart, "cart.added", 1)
	<-held
	publishN(t, cart, "cart.added", 200)
	waitFor(t, "messages to be dropped", func() bool { return brB.Stats().SlowConsumerDropped > 0 })
	close(gate)

	accountFor(t, cart, brA, brB, got, "cart.added", 201)
	st := brB.Stats()
	if st.Missing != st.SlowConsumerDropped {
		t.Errorf("missing %d, dropped as a slow consumer %d: want the same messages", st.Missing, st.SlowConsumerDropped)
	}
	lost := tr.find(func(e bus.TraceEvent) bool { return e.Kind == bus.TraceRejected && errors.Is(e.Err, ErrLost) })
	if len(lost) == 0 {
		t.Error("no loss on the receiving bus's trace")
	}
}

func TestForeignMessagesComeFromTheNATSApp(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	b, br := join(t, srv.URL(), Options{})
	got := subscribe(t, b, "dashboard", "#")
	tr := trace(b)
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for _, m := range []struct{ subject, data string }{
		{"orders.placed", `{"id":7}`}, {"orders.placed", `not json`}, {"orders.$weird", `{}`}, {"orders.empty", ``},
	} {
		if err := nc.Publish(m.subject, []byte(m.data)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the foreign messages", func() bool { return got.len() == 2 && br.Stats().ImportFailed == 2 })
	tests := []struct {
		name string
		ok   bool
	}{
		{"a JSON message arrives as published by the nats app", got.envs[0].Topic == "orders.placed" && got.envs[0].Meta.Source == ForeignApp && string(got.envs[0].Payload) == `{"id":7}`},
		{"an empty message arrives as null", got.envs[1].Topic == "orders.empty" && string(got.envs[1].Payload) == "null"},
		{"a message that is not JSON, and one on a subject with no topic, are rejected on the trace",
			len(tr.find(func(e bus.TraceEvent) bool { return e.Kind == bus.TraceRejected })) == 2},
		{"the nats app is remote", br.RemoteApps()[ForeignApp] != nil && br.RemoteApps()[ForeignApp].Remote()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok {
				t.Fail()
			}
		})
	}
}

func TestRemoteAppWithALocalNameIsRefused(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	a, _ := join(t, srv.URL(), Options{})
	b, brB := join(t, srv.URL(), Options{})
	b.MustRegister(bus.AppConfig{Name: "cart"})
	tr := trace(b)
	if _, err := a.MustRegister(bus.AppConfig{Name: "cart"}).Publish("cart.added", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refusal", func() bool { return brB.Stats().ImportFailed == 1 })
	if r := tr.find(func(e bus.TraceEvent) bool { return e.Kind == bus.TraceRejected && errors.Is(e.Err, ErrNameTaken) }); len(r) != 1 {
		t.Errorf("rejections %+v, want one saying the name is taken", r)
	}
}

func TestABusThatLeavesCanJoinAgain(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	a, _ := join(t, srv.URL(), Options{})
	b := bus.New(LiveOptions(bus.Options{}))
	got := subscribe(t, b, "inventory", "cart.#")
	cart := a.MustRegister(bus.AppConfig{Name: "cart"})
	for round := 1; round <= 2; round++ {
		br, err := Connect(b, srv.URL(), Options{Logger: quiet})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		publishN(t, cart, "cart.added", 1)
		waitFor(t, "the message", func() bool { return got.len() == round })
		if app := br.RemoteApps()["cart"]; app == nil || !app.Remote() {
			t.Errorf("round %d: remote apps %v", round, br.RemoteApps())
		}
		br.Close()
	}
}

func TestAFailedForwardIsSentWhenRedelivered(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	listen := strings.TrimPrefix(srv.URL(), "nats://")
	a, brA := join(t, srv.URL(), Options{ReconnectBuffer: -1, Import: []string{}})
	b, brB := join(t, srv.URL(), Options{Export: []string{}})
	got := subscribe(t, b, "inventory", "cart.#")
	cart := a.MustRegister(bus.AppConfig{Name: "cart"})

	srv.Close()
	waitFor(t, "the sender to notice", func() bool { return !brA.Connected() })
	sent, err := cart.Publish("cart.added", "while down")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the dead letter", func() bool { return len(a.DeadLetters()) == 1 })
	dl := a.DeadLetters()[0]
	if !errors.Is(dl.Err, ErrForward) || dl.Envelope != sent {
		t.Fatalf("dead letter %+v, want the forward of %v", dl, sent)
	}

	startServer(t, ServerOptions{Listen: listen})
	waitFor(t, "both to reconnect", func() bool { return brA.Connected() && brB.Connected() })
	if err := brB.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Redeliver(dl); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the redelivered message", func() bool { e := got.last(); return e != nil && e.ID == sent.ID })
}

func TestOverlappingPatternsCarryAMessageOnce(t *testing.T) {
	tests := []struct {
		name            string
		export, import_ []string
	}{
		{"two export patterns that both match send it once", []string{"cart.#", "+.added"}, nil},
		{"two import patterns that both match bring it in once", nil, []string{"cart.#", "+.added"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, ServerOptions{})
			a, brA := join(t, srv.URL(), Options{Export: tt.export, Import: []string{}})
			b, brB := join(t, srv.URL(), Options{Import: tt.import_, Export: []string{}})
			got := subscribe(t, b, "inventory", "#")
			cart := a.MustRegister(bus.AppConfig{Name: "cart"})
			publishN(t, cart, "cart.added", 3)
			publishN(t, cart, "cart.removed", 1) // after the others: once it is in, they are
			waitFor(t, "the last message", func() bool { e := got.last(); return e != nil && e.Topic == "cart.removed" })
			if n := got.len(); n != 4 {
				t.Errorf("received %d messages, want 4", n)
			}
			if st := brA.Stats(); st.Forwarded != 4 {
				t.Errorf("forwarded %d, want 4", st.Forwarded)
			}
			if tt.import_ != nil && brB.Stats().Duplicates != 3 {
				t.Errorf("duplicates %d, want the 3 matched twice", brB.Stats().Duplicates)
			}
		})
	}
}

func TestAMessageLeavesWhenItIsPublished(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	a, brA := join(t, srv.URL(), Options{Driven: true, Import: []string{}}) // nobody runs its loop yet
	b, _ := join(t, srv.URL(), Options{Export: []string{}})
	got := subscribe(t, b, "inventory", "cart.#")
	traceA := trace(a)
	sent, err := a.MustRegister(bus.AppConfig{Name: "cart"}).Publish("cart.added", "now")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the message on the other bus", func() bool { e := got.last(); return e != nil && e.ID == sent.ID })

	// Its delivery to the bridge's app, when the loop runs, records it on the trace and
	// sends nothing again.
	a.RunUntilIdle()
	delivered := traceA.find(func(e bus.TraceEvent) bool {
		return e.Kind == bus.TraceDelivered && e.Env == sent && e.App == brA.App().Name()
	})
	if len(delivered) != 1 {
		t.Errorf("%d deliveries of %v to the bridge's app, want 1", len(delivered), sent)
	}
	if st := brA.Stats(); st.Forwarded != 1 || st.ForwardFailed != 0 {
		t.Errorf("stats %+v, want the one message forwarded once", st)
	}
}
