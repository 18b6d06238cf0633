package natsbridge

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"mfelab/bus"
)

var quiet = slog.New(slog.DiscardHandler)

// startServer runs an embedded server on a free loopback port until the test ends.
func startServer(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	opts.Logger = quiet
	s, err := Serve(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func appConfig(name string, pub, sub []string) bus.AppConfig {
	return bus.AppConfig{Name: name, Publish: pub, Subscribe: sub}
}

func TestServe(t *testing.T) {
	t.Run("a websocket listener takes clients beside the NATS port", func(t *testing.T) {
		srv := startServer(t, ServerOptions{WebSocket: "127.0.0.1:0"})
		if !strings.HasPrefix(srv.WebSocketURL(), "ws://127.0.0.1:") {
			t.Fatalf("websocket URL %q", srv.WebSocketURL())
		}
		for _, url := range []string{srv.URL(), srv.WebSocketURL()} {
			nc, err := nats.Connect(url)
			if err != nil {
				t.Fatalf("%s: %v", url, err)
			}
			nc.Close()
		}
	})
	t.Run("a port in use is an error that says so", func(t *testing.T) {
		srv := startServer(t, ServerOptions{})
		_, err := Serve(ServerOptions{Listen: strings.TrimPrefix(srv.URL(), "nats://"), Logger: quiet})
		if err == nil || !strings.Contains(err.Error(), "in use") {
			t.Errorf("error %v, want one naming the port in use", err)
		}
	})
	t.Run("a malformed address is an error", func(t *testing.T) {
		if _, err := Serve(ServerOptions{Listen: "localhost", Logger: quiet}); err == nil {
			t.Error("no error")
		}
	})
}

func TestPermissions(t *testing.T) {
	tests := []struct {
		name             string
		pub, sub         []string
		wantPub, wantSub []string
		pubNil, subNil   bool
	}{
		{"an app without an ACL gets no limits", nil, nil, nil, nil, true, true},
		{"an app that may publish nothing is allowed no subject", []string{}, nil, []string{}, nil, false, true},
		{"each pattern becomes its subjects", []string{"cart.#", "order.+"}, []string{"#"}, []string{"cart", "cart.>", "order.*"}, []string{">"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Permissions(appConfig("cart", tt.pub, tt.sub))
			if err != nil {
				t.Fatal(err)
			}
			if (p.Publish == nil) != tt.pubNil || (p.Subscribe == nil) != tt.subNil {
				t.Fatalf("permissions %+v", p)
			}
			if p.Publish != nil && strings.Join(p.Publish.Allow, " ") != strings.Join(tt.wantPub, " ") {
				t.Errorf("publish allow %q, want %q", p.Publish.Allow, tt.wantPub)
			}
			if p.Subscribe != nil && strings.Join(p.Subscribe.Allow, " ") != strings.Join(tt.wantSub, " ") {
				t.Errorf("subscribe allow %q, want %q", p.Subscribe.Allow, tt.wantSub)
			}
		})
	}
	t.Run("an invalid pattern is an error naming the app", func(t *testing.T) {
		if _, err := Permissions(appConfig("cart", []string{"a.#.b"}, nil)); err == nil || !strings.Contains(err.Error(), `"cart"`) {
			t.Errorf("error %v", err)
		}
	})
}
