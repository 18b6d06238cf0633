package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

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
