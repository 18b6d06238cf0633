package session

import (
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mfelab/bus"
	"mfelab/bus/natsbridge"
	"mfelab/scenarios"
)

var quietLog = slog.New(slog.DiscardHandler)

// natsServer runs an embedded NATS server on a free loopback port until the test ends.
func natsServer(t *testing.T) string {
	t.Helper()
	srv, err := natsbridge.Serve(natsbridge.ServerOptions{Listen: "127.0.0.1:0", Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv.URL()
}

// checkout is the orchestrated checkout, which lets its services run elsewhere.
func checkout(t *testing.T) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Get("checkout-orchestrated")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// servePayment serves the checkout's payment as `mfelab app payment` does, until the test
// ends or the caller closes it.
func servePayment(t *testing.T, url string, knobs scenarios.Values) *Served {
	t.Helper()
	sv, err := ServeApps(checkout(t), 1, knobs, RemoteOptions{URL: url, Apps: []string{scenarios.Payment}, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(sv.Close) })
	return sv
}

// runWithRemotePayment starts the checkout with payment served elsewhere.
func runWithRemotePayment(t *testing.T, url string, knobs scenarios.Values) *Session {
	t.Helper()
	ses, err := StartRemote(checkout(t), 42, knobs, RemoteOptions{URL: url, Apps: []string{scenarios.Payment}, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ses.Close() })
	return ses
}

// eventsOf returns the trace events of kind on topic.
func eventsOf(ses *Session, kind bus.TraceKind, topic string) []bus.TraceEvent {
	var out []bus.TraceEvent
	for _, e := range ses.Trace().Events(0) {
		if e.Kind == kind && e.Topic == topic {
			out = append(out, e)
		}
	}
	return out
}

func TestCheckoutWithPaymentInAnotherProcess(t *testing.T) {
	url := natsServer(t)

	t.Run("the checkout completes with payment answering from its own bus", func(t *testing.T) {
		sv := servePayment(t, url, nil)
		ses := runWithRemotePayment(t, url, nil)
		if !ses.Joined() || !slices.Equal(ses.RemoteApps(), []string{scenarios.Payment}) {
			t.Fatalf("Joined() = %v, RemoteApps() = %v", ses.Joined(), ses.RemoteApps())
		}
		ses.RunToEnd()
		if !ses.Finished() {
			t.Fatalf("the run did not settle: %s", ses.State())
		}
		checks := ses.Checks()
		if !scenarios.Passed(checks) {
			t.Fatalf("checks:\n%s", scenarios.FormatChecks(checks))
		}
		if !strings.Contains(scenarios.FormatChecks(checks), "[skip] the payment is captured 89.70: not checked here") {
			t.Errorf("the payment's check is not shown as left to its process:\n%s", scenarios.FormatChecks(checks))
		}
		if got := sv.Run().World.App(scenarios.Payment).Get("payment order-1"); got != "captured 89.70" {
			t.Errorf("the served payment says %q, want captured 89.70", got)
		}
		replies := eventsOf(ses, bus.TracePublished, "payment.charge.reply.cart")
		if len(replies) != 1 || replies[0].App != scenarios.Payment {
			t.Fatalf("charge replies on the run's trace: %+v, want one from payment", replies)
		}
		if a := ses.Run().Bus.App(scenarios.Payment); !a.Remote() || a.Origin() != url {
			t.Errorf("payment on the run's bus: remote %v, origin %q; want remote from %s", a.Remote(), a.Origin(), url)
		}
		if _, ok := ses.Bridge().RemoteApps()[scenarios.Payment]; !ok {
			t.Errorf("the bridge does not list payment among its remote apps: %v", ses.Bridge().RemoteApps())
		}
		if n := len(eventsOf(ses, bus.TraceTimedOut, "payment.charge")); n != 0 {
			t.Errorf("%d charge calls timed out", n)
		}
	})

	t.Run("with payment stopped before it is asked, the charge times out and the reservation is released", func(t *testing.T) {
		sv := servePayment(t, url, nil)
		ses := runWithRemotePayment(t, url, nil)
		// Payment leaves when the customer starts filling the cart, well before checkout.
		// Closing from the tap holds the run's loop until payment is gone, so the order of
		// the two is fixed whatever the machine's load.
		var once sync.Once
		untap := ses.Run().Bus.Tap(func(e bus.TraceEvent) {
			if e.Kind == bus.TracePublished && e.Topic == "cart.item-added" {
				once.Do(sv.Close)
			}
		})
		defer untap()
		ses.RunToEnd()
		if !ses.Finished() {
			t.Fatalf("the run did not settle: %s", ses.State())
		}
		if n := len(eventsOf(ses, bus.TraceTimedOut, "payment.charge")); n != 1 {
			t.Fatalf("%d charge calls timed out, want 1\n%s", n, strings.Join(ses.Trace().Lines(), "\n"))
		}
		w := ses.Run().World
		if got := w.App(scenarios.Cart).Get("order order-1"); got != "cancelled" {
			t.Errorf("the order is %q, want cancelled", got)
		}
		inv := w.App(scenarios.Inventory)
		if k, m := inv.Int("stock keyboard"), inv.Int("stock mouse"); k != 5 || m != 10 {
			t.Errorf("stock keyboard=%d mouse=%d, want the reservation released (5, 10)", k, m)
		}
		sagas := ses.Run().Sagas()
		if len(sagas) != 1 || !slices.Equal(sagas[0].Compensated, []string{"reserve"}) || sagas[0].Failed != "charge" {
			t.Errorf("sagas %+v, want the charge failed and the reservation compensated", sagas)
		}
		if got := w.App(scenarios.Notifications).Get("last"); got != "Order order-1 cancelled" {
			t.Errorf("the customer is told %q", got)
		}
	})
}

func TestStartRemoteRefusesWhatCannotWork(t *testing.T) {
	s := checkout(t)
	tests := []struct {
		name string
		opts RemoteOptions
		want error
	}{
		{"no server URL", RemoteOptions{Apps: []string{scenarios.Payment}}, ErrNoURL},
		{"no remote app", RemoteOptions{URL: "nats://127.0.0.1:1"}, ErrNoRemoteApps},
		{"an app the saga needs here", RemoteOptions{URL: "nats://127.0.0.1:1", Apps: []string{scenarios.Cart}}, scenarios.ErrPlacement},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			if _, err := StartRemote(s, 1, nil, tt.opts); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("a server that is not there is named in the error", func(t *testing.T) {
		start := time.Now()
		_, err := StartRemote(s, 1, nil, RemoteOptions{URL: "nats://127.0.0.1:1", Apps: []string{scenarios.Payment}, Logger: quietLog})
		if err == nil || !strings.Contains(err.Error(), "mfelab serve") {
			t.Fatalf("err %v, want one that says to start a server", err)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("took %s to give up", d)
		}
	})
}

// A joined checkout that keeps ordering, with Payment in a process of its own that goes
// away mid-run and comes back: the charges time out, the breaker opens, the saga
// compensates, and once Payment answers again a trial charge closes the breaker.
func TestAStreamOfOrdersOutlivesPaymentGoingAwayAndComingBack(t *testing.T) {
	url := natsServer(t)
	first := servePayment(t, url, nil)
	s := checkout(t)
	ses, err := StartRemote(s, 42, nil, RemoteOptions{URL: url, Apps: []string{scenarios.Payment}, Logger: quietLog, Stream: 9 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ses.Close() })
	if len(ses.Run().Breakers()) != 1 {
		t.Fatalf("the joined stream has breakers %v, want the one around payment", ses.Run().Breakers())
	}
	// Payment's process goes when the third order is placed and is started again once
	// the breaker has opened. Both happen from the run's tap, so they fall at the same
	// points of the run however loaded the machine is; the second start is handed to a
	// goroutine, since it waits for the server.
	var (
		gone, back sync.Once
		states     []string
		restarted  = make(chan *Served, 1)
		failed     = make(chan error, 1)
	)
	untap := ses.Run().Bus.Tap(func(e bus.TraceEvent) {
		if e.Kind != bus.TracePublished {
			return
		}
		switch {
		case e.Topic == "order.placed" && e.Env.Meta.CorrelationID == "order-3":
			gone.Do(first.Close)
		case e.Topic == "breaker.payment.state":
			var tr struct{ To string }
			_ = json.Unmarshal(e.Env.Payload, &tr)
			states = append(states, tr.To)
			if tr.To == "open" {
				back.Do(func() {
					go func() {
						sv, err := ServeApps(s, 1, nil, RemoteOptions{URL: url, Apps: []string{scenarios.Payment}, Logger: quietLog})
						if err != nil {
							failed <- err
							return
						}
						restarted <- sv
					}()
				})
			}
		}
	})
	defer untap()
	ses.RunToEnd()
	select {
	case err := <-failed:
		t.Fatalf("payment did not come back: %v", err)
	case sv := <-restarted:
		t.Cleanup(sv.Close)
	default:
		t.Fatalf("payment was never started again; the breaker went %v", states)
	}
	if !ses.Finished() {
		t.Fatalf("the run did not settle: %s", ses.State())
	}
	if !slices.Equal(states, []string{"open", "half-open", "closed"}) {
		t.Errorf("the breaker went %v, want open, half-open, closed", states)
	}
	if n := len(eventsOf(ses, bus.TraceTimedOut, "payment.charge")); n < 2 {
		t.Errorf("%d charges timed out, want at least the two that open the breaker", n)
	}
	releases := 0
	for _, e := range eventsOf(ses, bus.TracePublished, "inventory.release") {
		if e.App == scenarios.Cart {
			releases++
		}
	}
	cart := ses.Run().World.App(scenarios.Cart)
	if cancelled := cart.Int("orders cancelled"); cancelled == 0 || releases < cancelled {
		t.Errorf("%d orders cancelled, %d reservations released: want every cancelled order's released", cancelled, releases)
	}
	if cart.Int("orders confirmed") < 3 {
		t.Errorf("%d orders confirmed, want those before payment went and after it came back", cart.Int("orders confirmed"))
	}
	if !scenarios.Passed(ses.Checks()) {
		t.Errorf("checks:\n%s", scenarios.FormatChecks(ses.Checks()))
	}
}

func TestSharingABusLetsOthersJoinIt(t *testing.T) {
	sh, err := Share("127.0.0.1:0", quietLog)
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	if !strings.HasPrefix(sh.URL(), "nats://127.0.0.1:") {
		t.Fatalf("URL %q", sh.URL())
	}
	servePayment(t, sh.URL(), nil)
	ses := runWithRemotePayment(t, sh.URL(), nil)
	if sh.Clients() != 2 {
		t.Errorf("%d clients on the shared bus, want the run and payment", sh.Clients())
	}
	ses.RunToEnd()
	if !scenarios.Passed(ses.Checks()) {
		t.Errorf("checks:\n%s", scenarios.FormatChecks(ses.Checks()))
	}
	t.Run("a second share on the same address is refused with the reason", func(t *testing.T) {
		addr := strings.TrimPrefix(sh.URL(), "nats://")
		if _, err := Share(addr, quietLog); err == nil || !strings.Contains(err.Error(), "another server") {
			t.Fatalf("err %v", err)
		}
	})
}
