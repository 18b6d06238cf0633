package bench

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// setupNATS is core NATS inside the process: an embedded server that listens on no port and
// a nats.go connection to it through an in-process pipe (nats.InProcessServer), one
// subscription per subscriber, each with its own delivery goroutine, as nats.go gives it.
// No envelope, no validation: the payload travels as bytes.
func setupNATS(b *testing.B, subs int, seen *atomic.Int64) (func() error, func(), func()) {
	ns, err := server.NewServer(&server.Options{DontListen: true, NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(5 * time.Second) {
		b.Fatal("embedded NATS server not ready")
	}
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		b.Fatal(err)
	}
	for range subs {
		sub, err := nc.Subscribe(topic, func(*nats.Msg) { seen.Add(1) })
		if err != nil {
			b.Fatal(err)
		}
		// No pending limit: a slow consumer would drop messages and the benchmark, which
		// waits for every delivery, would never end.
		if err := sub.SetPendingLimits(-1, -1); err != nil {
			b.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		b.Fatal(err)
	}
	publish := func() error { return nc.Publish(topic, payload) }
	return publish, nil, func() { nc.Close(); ns.Shutdown() }
}
