package session

import (
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
