package bench

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"mfelab/bus"
	"mfelab/bus/natsbridge"
)

// Across processes: two buses joined through one embedded NATS server on loopback, beside
// the same traffic with bare nats.go clients on the same server. Both sides carry the same
// 100-byte payload; the bridge adds the envelope's headers and two bus hops at each end.

var quiet = slog.New(slog.DiscardHandler)

// natsPair is one way to send a ping across and get a pong back, and to stream one way.
type natsPair struct {
	ping   func() error  // send one ping; its pong arrives on pongs
	pongs  chan struct{} // one per pong
	stream func() error  // send one message one way
	got    *atomic.Int64 // messages received one way
	close  func()
}

func startNATS(b *testing.B) *natsbridge.Server {
	srv, err := natsbridge.Serve(natsbridge.ServerOptions{Listen: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// bridgedPair joins two buses: on bus A a client pings, on bus B an echo app answers.
func bridgedPair(b *testing.B, url string) natsPair {
	p := natsPair{pongs: make(chan struct{}, 1), got: &atomic.Int64{}}
	busA := bus.New(natsbridge.LiveOptions(bus.Options{RetainMax: -1}))
	busB := bus.New(natsbridge.LiveOptions(bus.Options{RetainMax: -1}))
	brA, err := natsbridge.Connect(busA, url, natsbridge.Options{Export: []string{"bench.ping", "bench.stream"}, Import: []string{"bench.pong"}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	brB, err := natsbridge.Connect(busB, url, natsbridge.Options{Export: []string{"bench.pong"}, Import: []string{"bench.ping", "bench.stream"}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	client := busA.MustRegister(bus.AppConfig{Name: "client"})
	echo := busB.MustRegister(bus.AppConfig{Name: "echo"})
	must(b, subscribeErr(echo, "bench.ping", func(_ context.Context, d bus.Delivery) error {
		_, err := d.PublishJSON("bench.pong", payload)
		return err
	}))
	must(b, subscribeErr(echo, "bench.stream", func(context.Context, bus.Delivery) error { p.got.Add(1); return nil }))
	must(b, subscribeErr(client, "bench.pong", func(context.Context, bus.Delivery) error { p.pongs <- struct{}{}; return nil }))
	p.ping = func() error { _, err := client.PublishJSON("bench.ping", payload); return err }
	p.stream = func() error { _, err := client.PublishJSON("bench.stream", payload); return err }
	p.close = func() { brA.Close(); brB.Close() }
	return p
}

// barePair does the same with two nats.go connections and plain subscriptions.
func barePair(b *testing.B, url string) natsPair {
	p := natsPair{pongs: make(chan struct{}, 1), got: &atomic.Int64{}}
	ncA, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	ncB, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	_, err = ncB.Subscribe("bare.ping", func(*nats.Msg) { _ = ncB.Publish("bare.pong", payload) })
	must(b, err)
	_, err = ncB.Subscribe("bare.stream", func(*nats.Msg) { p.got.Add(1) })
	must(b, err)
	_, err = ncA.Subscribe("bare.pong", func(*nats.Msg) { p.pongs <- struct{}{} })
	must(b, err)
	must(b, ncA.Flush())
	must(b, ncB.Flush())
	p.ping = func() error { return ncA.Publish("bare.ping", payload) }
	p.stream = func() error { return ncA.Publish("bare.stream", payload) }
	p.close = func() { ncA.Close(); ncB.Close() }
	return p
}

func subscribeErr(a *bus.App, pattern string, h bus.Handler) error {
	_, err := a.Subscribe(pattern, h)
	return err
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

var natsTargets = []struct {
	name  string
	setup func(*testing.B, string) natsPair
}{
	{"bridged", bridgedPair},
	{"bare-nats", barePair},
}

// BenchmarkNATSRoundTrip measures one ping and its pong between two processes' worth of
// clients on one server, one at a time, and reports the median and 99th percentile.
func BenchmarkNATSRoundTrip(b *testing.B) {
	srv := startNATS(b)
	defer srv.Close()
	for _, tg := range natsTargets {
		b.Run(tg.name, func(b *testing.B) {
			p := tg.setup(b, srv.URL())
			defer p.close()
			for range 100 { // warm up connections, buffers and the loop
				must(b, p.ping())
				<-p.pongs
			}
			lat := make([]time.Duration, 0, b.N)
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				if err := p.ping(); err != nil {
					b.Fatal(err)
				}
				<-p.pongs
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			reportCPU(b, cpu0, len(lat))
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkNATSThroughput streams messages one way, with at most window of them in
// flight so neither side drops any, and reports messages per second.
func BenchmarkNATSThroughput(b *testing.B) {
	const window = 1024
	srv := startNATS(b)
	defer srv.Close()
	for _, tg := range natsTargets {
		b.Run(tg.name, func(b *testing.B) {
			p := tg.setup(b, srv.URL())
			defer p.close()
			sent := int64(0)
			cpu0 := cpuTime()
			start := time.Now()
			for b.Loop() {
				for sent-p.got.Load() >= window {
					time.Sleep(10 * time.Microsecond)
				}
				if err := p.stream(); err != nil {
					b.Fatal(err)
				}
				sent++
			}
			deadline := time.Now().Add(30 * time.Second)
			for p.got.Load() < sent {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d messages arrived", p.got.Load(), sent)
				}
				time.Sleep(50 * time.Microsecond)
			}
			b.ReportMetric(float64(sent)/time.Since(start).Seconds(), "msgs/s")
			reportCPU(b, cpu0, int(sent))
		})
	}
}

// cpuTime is the CPU time this process has used so far, user and system, on every core:
// the server, both clients and both buses run in it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time spent per message (or round trip) since cpu0, as
// cpu-µs/op. Unlike the rates, it hardly changes when other work shares the machine, so
// it compares the bridge with bare nats.go even on a busy one; on a quiet machine with
// two cores, throughput follows it.
func reportCPU(b *testing.B, cpu0 time.Duration, n int) {
	if n > 0 {
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(n), "cpu-µs/op")
	}
}
