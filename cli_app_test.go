package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"mfelab/bus"
	"mfelab/scenarios"
	"mfelab/session"
)

// envRunMain makes the test binary run main instead of the tests: the subprocess tests
// start it as `mfelab` without building it again.
const envRunMain = "MFELAB_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// watched is a writer that keeps what is written and says when a line holding want has
// been written.
type watched struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	want  string
	ready chan struct{}
	once  sync.Once
}

func newWatched(want string) *watched { return &watched{want: want, ready: make(chan struct{})} }

func (w *watched) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.ready) })
	}
	return n, err
}

func (w *watched) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// await waits for the watched line, failing the test after a deadline.
func (w *watched) await(t *testing.T, what string) {
	t.Helper()
	select {
	case <-w.ready:
	case <-time.After(60 * time.Second):
		t.Fatalf("no %s within 60s; output so far:\n%s", what, w.String())
	}
}

// startApp runs `mfelab app` with args in this process until the test ends, and returns
// once it says what it serves. The returned func stops it and returns all it printed.
func startApp(t *testing.T, args ...string) func() string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := newWatched("Stop with Ctrl-C")
	var errOut strings.Builder
	done := make(chan int, 1)
	go func() { done <- serveApp(ctx, append([]string{"payment"}, args...), out, &errOut) }()
	select {
	case code := <-done:
		t.Fatalf("mfelab app exited %d at once:\n%s%s", code, out.String(), errOut.String())
	case <-out.ready:
	case <-time.After(60 * time.Second):
		t.Fatalf("mfelab app did not start within 60s:\n%s", out.String())
	}
	var once sync.Once
	stop := func() string {
		once.Do(func() {
			cancel()
			if code := <-done; code != exitOK {
				t.Errorf("mfelab app exited %d, stderr: %s", code, errOut.String())
			}
		})
		return out.String()
	}
	t.Cleanup(func() { stop() })
	return stop
}

func TestAppServesPaymentForARunJoinedToIt(t *testing.T) {
	url, _ := startServe(t)
	stopApp := startApp(t, "-nats", url)

	code, out, errOut := runCLI(t, "", "run", "checkout-orchestrated", "-nats", url, "-remote", "payment")
	if code != exitOK {
		t.Fatalf("run exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"payment.charge.reply.cart      payment",
		"(runs in another process, through " + url + ")",
		"[skip] the payment is captured 89.70: not checked here",
		"[ok]   the order ends confirmed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the run does not show %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "joined "+url) {
		t.Errorf("the run does not say it joined %s: %s", url, errOut)
	}
	printed := stopApp()
	for _, want := range []string{
		"Serving payment (Payment: charges and refunds) of checkout-orchestrated",
		"delivered        payment.charge                 cart -> payment",
		"published        payment.charge.reply.cart      payment",
		"Stopping payment: handled 1 message",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("mfelab app does not show %q:\n%s", want, printed)
		}
	}
}

func TestRunWithRemotePaymentGone(t *testing.T) {
	url, _ := startServe(t)
	stopApp := startApp(t, "-nats", url, "-quiet")
	stopApp() // payment came and went: nobody answers for it

	code, out, errOut := runCLI(t, "", "run", "checkout-orchestrated", "-nats", url, "-remote", "payment")
	if code != exitFail {
		t.Fatalf("run exited %d, want %d (checks fail)\nstdout:\n%s\nstderr:\n%s", code, exitFail, out, errOut)
	}
	for _, want := range []string{
		"timed-out        payment.charge                 cart  [no reply within 2s]",
		"published        inventory.release              cart",
		"order order-1          cancelled",
		"[FAIL] the order ends confirmed: got cancelled",
		"[FAIL] compensations ran newest first: none: got reserve",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the run does not show %q:\n%s", want, out)
		}
	}
}

// The app as a real process: `mfelab app payment` answers a run here, then is killed
// with SIGKILL in the middle of the next run, whose charge then times out.
func TestAppProcessKilledMidRun(t *testing.T) {
	url, _ := startServe(t)
	cmd := exec.Command(os.Args[0], "app", "payment", "-nats", url)
	cmd.Env = append(os.Environ(), envRunMain+"=1")
	out := newWatched("Stop with Ctrl-C")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var killOnce sync.Once
	kill := func() {
		killOnce.Do(func() {
			_ = cmd.Process.Kill() // SIGKILL: no goodbye to the server
			_ = cmd.Wait()         // gone, its connection with it
		})
	}
	t.Cleanup(kill)
	out.await(t, "`mfelab app payment` ready")

	s, err := scenarios.Get("checkout-orchestrated")
	if err != nil {
		t.Fatal(err)
	}
	run := func(during func(*session.Session)) *session.Session {
		t.Helper()
		ses, err := session.StartRemote(s, 42, nil, session.RemoteOptions{URL: url, Apps: []string{"payment"}, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ses.Close() })
		during(ses)
		ses.RunToEnd()
		if !ses.Finished() {
			t.Fatalf("the run did not settle: %s", ses.State())
		}
		return ses
	}
	timeouts := func(ses *session.Session) int {
		n := 0
		for _, e := range ses.Trace().Events(0) {
			if e.Kind == bus.TraceTimedOut && e.Topic == "payment.charge" {
				n++
			}
		}
		return n
	}

	alive := run(func(*session.Session) {})
	if checks := alive.Checks(); !scenarios.Passed(checks) || timeouts(alive) != 0 {
		t.Fatalf("with the payment process up: %d timeouts, checks:\n%s", timeouts(alive), scenarios.FormatChecks(checks))
	}

	killed := run(func(ses *session.Session) {
		// Killed as the customer starts filling the cart, before checkout. Killing from
		// the tap holds the run until the process is gone, so the order is fixed.
		ses.Run().Bus.Tap(func(e bus.TraceEvent) {
			if e.Kind == bus.TracePublished && e.Topic == "cart.item-added" {
				kill()
			}
		})
	})
	if n := timeouts(killed); n != 1 {
		t.Fatalf("%d charge calls timed out after the kill, want 1:\n%s", n, strings.Join(killed.Trace().Lines(), "\n"))
	}
	w := killed.Run().World
	if got := w.App(scenarios.Cart).Get("order order-1"); got != "cancelled" {
		t.Errorf("the order is %q, want cancelled", got)
	}
	if sagas := killed.Run().Sagas(); len(sagas) != 1 || strings.Join(sagas[0].Compensated, " ") != "reserve" {
		t.Errorf("sagas %+v, want the reservation compensated", sagas)
	}
	if !strings.Contains(out.String(), "delivered        payment.charge") {
		t.Errorf("the app process did not print the charge it handled:\n%s", out.String())
	}
}

func TestAppAndJoinedRunRefuseBadUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"an app without a name lists the ones that can run alone", []string{"app"}, exitUsage, "can run on their own: inventory, payment"},
		{"an app the scenario has not is refused", []string{"app", "billing", "-nats", "nats://127.0.0.1:1"}, exitUsage, `no app "billing"`},
		{"an app the saga needs in its run is refused", []string{"app", "cart", "-nats", "nats://127.0.0.1:1"}, exitUsage, "these can: inventory, payment"},
		{"an unknown knob is refused", []string{"app", "payment", "-set", "speed=2"}, exitUsage, "speed"},
		{"an unknown scenario is refused", []string{"app", "payment", "-scenario", "nope"}, exitUsage, "no scenario"},
		{"a server that is not there is named", []string{"app", "payment", "-nats", "nats://127.0.0.1:1"}, exitFail, "mfelab serve"},
		{"-remote without -nats is refused", []string{"run", "checkout-orchestrated", "-remote", "payment"}, exitUsage, "-nats and -remote go together"},
		{"-nats without -remote is refused", []string{"run", "checkout-orchestrated", "-nats", "nats://127.0.0.1:1"}, exitUsage, "-nats and -remote go together"},
		{"a joined run cannot step", []string{"run", "checkout-orchestrated", "-nats", "nats://x:1", "-remote", "payment", "-step"}, exitUsage, "cannot -step"},
		{"a joined run of a scenario that cannot split is refused", []string{"run", "rpc-pricing", "-nats", "nats://127.0.0.1:1", "-remote", "catalog"}, exitUsage, "none can"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.contains) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant %q", code, tt.code, out, errOut, tt.contains)
			}
		})
	}
}
