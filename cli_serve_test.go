package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"mfelab/bus"
	"mfelab/bus/natsbridge"
)

// startServe runs `mfelab serve` with args until the test ends and returns the first
// address it prints, and all it printed up to there.
func startServe(t *testing.T, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	var errOut strings.Builder
	done := make(chan int, 1)
	go func() {
		code := serve(ctx, append([]string{"-listen", "127.0.0.1:0"}, args...), outW, &errOut)
		outW.Close()
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("serve exited %d, stderr: %s", code, errOut.String())
		}
	})
	lines := bufio.NewScanner(outR)
	var printed strings.Builder
	url := ""
	for lines.Scan() {
		printed.WriteString(lines.Text() + "\n")
		if u := strings.TrimSpace(lines.Text()); url == "" && strings.HasPrefix(u, "nats://") {
			url = u
		}
		if strings.HasPrefix(lines.Text(), "Stop with") {
			break
		}
	}
	if url == "" {
		t.Fatalf("no URL printed:\n%s", printed.String())
	}
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	return url, printed.String()
}

var quiet = slog.New(slog.DiscardHandler)

func TestServeLetsTwoBusesTalk(t *testing.T) {
	url, _ := startServe(t)
	join := func() *bus.Bus {
		b := bus.New(natsbridge.LiveOptions(bus.Options{}))
		br, err := natsbridge.Connect(b, url, natsbridge.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(br.Close)
		return b
	}
	a, b := join(), join()
	var mu sync.Mutex
	var got []*bus.Envelope
	if _, err := b.MustRegister(bus.AppConfig{Name: "inventory"}).Subscribe("cart.#", func(_ context.Context, d bus.Delivery) error {
		mu.Lock()
		got = append(got, d.Envelope)
		mu.Unlock()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sent, err := a.MustRegister(bus.AppConfig{Name: "cart"}).Publish("cart.added", map[string]string{"sku": "mouse"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the message did not reach the other bus")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if got[0].ID != sent.ID || got[0].Meta.Source != "cart" {
		t.Errorf("received %v (id %s), want %v (id %s)", got[0], got[0].ID, sent, sent.ID)
	}
}

func TestServeWithACLMakesTheServerEnforceIt(t *testing.T) {
	url, printed := startServe(t, "-acl", "-password", "s3cret")
	if !strings.Contains(printed, "log in as one of the apps") || !strings.Contains(printed, "cart") {
		t.Errorf("the output does not say how to log in:\n%s", printed)
	}
	t.Run("an app with the wrong password cannot join", func(t *testing.T) {
		_, err := natsbridge.Connect(bus.New(bus.Options{}), url, natsbridge.Options{User: "cart", Password: "guess", Logger: quiet})
		if err == nil {
			t.Fatal("joined with the wrong password")
		}
	})
	t.Run("a publish outside the app's ACL is refused by the server and shows as a rejection", func(t *testing.T) {
		b := bus.New(natsbridge.LiveOptions(bus.Options{}))
		refused := make(chan bus.TraceEvent, 1)
		b.Tap(func(e bus.TraceEvent) {
			if e.Kind == bus.TraceRejected && errors.Is(e.Err, natsbridge.ErrRefused) {
				select {
				case refused <- e:
				default:
				}
			}
		})
		br, err := natsbridge.Connect(b, url, natsbridge.Options{User: "cart", Password: "s3cret", Import: []string{"cart.#"}, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer br.Close()
		if _, err := b.MustRegister(bus.AppConfig{Name: "rogue"}).Publish("payment.captured", nil); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-refused:
			if e.App != "rogue" || e.Topic != "payment.captured" {
				t.Errorf("rejection %+v, want rogue's payment.captured", e)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no rejection within 10s")
		}
	})
}

func TestServeRefusesBadUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"an extra argument is refused", []string{"serve", "now"}, exitUsage, "unexpected"},
		{"a malformed address is refused with the reason", []string{"serve", "-listen", "nowhere"}, exitFail, "listen address"},
		{"a password without -acl is refused", []string{"serve", "-password", "x"}, exitUsage, "needs -acl"},
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

// pageLine is a line the page's client prints under Node (testdata/browser/client.js).
type pageLine struct {
	Ready    bool
	Error    string
	Received *pageEnv // a message it saw, as decodeEnvelope reads it
	Sent     *pageEnv // the envelope it published
}

type pageEnv struct {
	Topic, Payload, Source, ID, Bridge, Correlation, Causation, Traceparent string
	Seq                                                                     uint64
	Foreign                                                                 bool
}

// TestServeTakesTheBrowserPage runs the example page's client code (docs/browser) under
// Node against `mfelab serve -websocket`: a message of a bus reaches the page with its
// envelope, and the page's message reaches the bus as published by the remote app
// "browser", its identity intact.
func TestServeTakesTheBrowserPage(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the page's client is tested from Go in bus/natsbridge")
	}
	if out, err := exec.Command(node, "--experimental-websocket", "-e", "if (typeof WebSocket !== 'function') process.exit(3)").CombinedOutput(); err != nil {
		t.Skipf("this node has no WebSocket (%v: %s)", err, out)
	}
	url, printed := startServe(t, "-websocket", "127.0.0.1:0")
	ws := ""
	for _, l := range strings.Split(printed, "\n") {
		if u := strings.TrimSpace(l); strings.HasPrefix(u, "ws://") {
			ws = u
		}
	}
	if ws == "" {
		t.Fatalf("no websocket URL printed:\n%s", printed)
	}
	if !strings.Contains(printed, "docs/browser") {
		t.Errorf("the output does not point to the example page:\n%s", printed)
	}

	b := bus.New(natsbridge.LiveOptions(bus.Options{}))
	br, err := natsbridge.Connect(b, url, natsbridge.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(br.Close)
	fromPage := make(chan *bus.Envelope, 1)
	if _, err := b.MustRegister(bus.AppConfig{Name: "inventory"}).Subscribe("browser.#", func(_ context.Context, d bus.Delivery) error {
		fromPage <- d.Envelope
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--experimental-websocket", filepath.Join("testdata", "browser", "client.js"),
		ws, "cart.#", "browser.hello", `{"from":"the page"}`, "order 7")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	lines := make(chan pageLine)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l pageLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				l.Error = fmt.Sprintf("printed %q: %v", sc.Text(), err)
			}
			lines <- l
		}
		close(lines)
	}()
	next := func(what string) (l pageLine) {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the page client ended before %s; stderr: %s", what, stderr.String())
			}
			if l.Error != "" {
				t.Fatalf("the page client failed before %s: %s", what, l.Error)
			}
			return l
		case <-ctx.Done():
			t.Fatalf("no %s within 30s; stderr: %s", what, stderr.String())
		}
		return l
	}
	if !next("ready").Ready {
		t.Fatal("the page client did not say it was ready")
	}

	t.Run("a bus message reaches the page with its envelope", func(t *testing.T) {
		cause := uuid.MustParse("0190c4a2-0000-7000-8000-0000000000bb")
		sent, err := b.MustRegister(bus.AppConfig{Name: "cart"}).Send(bus.Msg{Topic: "cart.added", Payload: map[string]string{"sku": "mouse"},
			CorrelationID: "order 7", CausationID: cause})
		if err != nil {
			t.Fatal(err)
		}
		got := next("the bus message").Received
		if got == nil || got.Foreign || got.Topic != "cart.added" || got.ID != sent.ID.String() || got.Source != "cart" || got.Bridge != br.ID() ||
			got.Seq != sent.Seq || got.Correlation != "order 7" || got.Causation != cause.String() || got.Traceparent != sent.Meta.TraceParent.String() ||
			got.Payload != `{"sku":"mouse"}` {
			t.Errorf("the page saw %+v, want %v (id %s, bridge %s)", got, sent, sent.ID, br.ID())
		}
	})
	t.Run("the page's message reaches the bus as from the remote app browser", func(t *testing.T) {
		if _, err := io.WriteString(stdin, "publish\n"); err != nil {
			t.Fatal(err)
		}
		page := next("the page's publish").Sent
		select {
		case env := <-fromPage:
			if page == nil || env.ID.String() != page.ID || env.Meta.Source != "browser" || env.Meta.CorrelationID != "order 7" ||
				env.Meta.TraceParent.String() != page.Traceparent || string(env.Payload) != `{"from":"the page"}` {
				t.Errorf("the bus received %v %+v, the page sent %+v", env, env.Meta, page)
			}
			if a := b.App("browser"); a == nil || !a.Remote() {
				t.Errorf("app browser is %v, want a remote app", a)
			}
			if o, ok := natsbridge.OriginOf(env); !ok || o.Bridge != page.Bridge || o.Seq != page.Seq {
				t.Errorf("origin %+v (%v), want the page's bridge %s and seq %d", o, ok, page.Bridge, page.Seq)
			}
		case <-ctx.Done():
			t.Fatalf("the page's message did not reach the bus; stats %+v", br.Stats())
		}
	})
}
