package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"mfelab/bus"
	"mfelab/bus/natsbridge"
)

func TestServeLetsTwoBusesTalk(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var errOut strings.Builder
	done := make(chan int, 1)
	go func() {
		code := serve(ctx, []string{"-listen", "127.0.0.1:0"}, outW, &errOut)
		outW.Close()
		done <- code
	}()
	lines := bufio.NewScanner(outR)
	url := ""
	for url == "" && lines.Scan() {
		if u := strings.TrimSpace(lines.Text()); strings.HasPrefix(u, "nats://") {
			url = u
		}
	}
	if url == "" {
		t.Fatalf("no URL printed; stderr: %s", errOut.String())
	}
	go func() { _, _ = io.Copy(io.Discard, outR) }()

	quiet := slog.New(slog.DiscardHandler)
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
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("exit %d, stderr: %s", code, errOut.String())
	}
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
