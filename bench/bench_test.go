// Package bench runs the same pub/sub workloads against MFE Lab's bus and its peers, in one
// `go test -bench` run, so their numbers come from the same machine at the same moment.
//
// Every workload publishes a pre-encoded 100-byte JSON payload and counts a delivery only
// once a subscriber's handler has seen it; a benchmark ends when every delivery has
// happened, so buffering cannot flatter anyone.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	evbus "github.com/asaskevich/EventBus"

	"mfelab/bus"
)

var payload = json.RawMessage(`{"orderId":"ord-000123","sku":"SKU-42","qty":3,"price":19.99,"currency":"EUR","note":"gift wrap!!!"}`)

const topic = "cart.item.added"

// target is one implementation under test: subscribe n handlers, then publish one message
// per call. drain returns once every delivery so far has been handled.
type target struct {
	name  string
	setup func(b *testing.B, subs int, seen *atomic.Int64) (publish func() error, drain func(), done func())
}

var targets = []target{
	{"mfelab", setupMFELab},
	{"eventbus", setupEventBus},
	{"nats", setupNATS},
	{"watermill", setupWatermill},
	{"chan", setupChan},
}

// setupMFELab runs the bus loop on the publishing goroutine: publish, then run the loop to
// idle, which is how the bus is meant to be driven.
func setupMFELab(b *testing.B, subs int, seen *atomic.Int64) (func() error, func(), func()) {
	bb := bus.New(bus.Options{RetainMax: -1})
	pub := bb.MustRegister(bus.AppConfig{Name: "pub"})
	sub := bb.MustRegister(bus.AppConfig{Name: "sub"})
	for range subs {
		if _, err := sub.Subscribe(topic, func(context.Context, bus.Delivery) error {
			seen.Add(1)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	publish := func() error {
		_, err := pub.PublishJSON(topic, payload)
		bb.RunUntilIdle()
		return err
	}
	return publish, func() { bb.RunUntilIdle() }, func() {}
}

func setupEventBus(b *testing.B, subs int, seen *atomic.Int64) (func() error, func(), func()) {
	eb := evbus.New()
	for range subs {
		if err := eb.Subscribe(topic, func(p json.RawMessage) { seen.Add(1) }); err != nil {
			b.Fatal(err)
		}
	}
	return func() error { eb.Publish(topic, payload); return nil }, func() {}, func() {}
}

func setupWatermill(b *testing.B, subs int, seen *atomic.Int64) (func() error, func(), func()) {
	ps := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024}, watermill.NopLogger{})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range subs {
		msgs, err := ps.Subscribe(ctx, topic)
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			for m := range msgs {
				seen.Add(1)
				m.Ack()
			}
		})
	}
	publish := func() error {
		return ps.Publish(topic, message.NewMessage(watermill.NewUUID(), message.Payload(payload)))
	}
	return publish, nil, func() { cancel(); ps.Close(); wg.Wait() }
}

// setupChan is the floor: one buffered channel per subscriber, each drained by a goroutine.
func setupChan(b *testing.B, subs int, seen *atomic.Int64) (func() error, func(), func()) {
	chans := make([]chan json.RawMessage, subs)
	var wg sync.WaitGroup
	for i := range chans {
		ch := make(chan json.RawMessage, 1024)
		chans[i] = ch
		wg.Go(func() {
			for range ch {
				seen.Add(1)
			}
		})
	}
	var mu sync.Mutex // makes concurrent publishers safe against close, like a real bus
	publish := func() error {
		mu.Lock()
		for _, ch := range chans {
			ch <- payload
		}
		mu.Unlock()
		return nil
	}
	return publish, nil, func() {
		for _, ch := range chans {
			close(ch)
		}
		wg.Wait()
	}
}

// waitAll spins until want deliveries have been seen (for the asynchronous peers).
func waitAll(seen *atomic.Int64, want int64, drain func()) {
	for seen.Load() < want {
		if drain != nil {
			drain()
		}
	}
}

// BenchmarkFanout publishes from one goroutine to 1 and 10 subscribers of an exact topic.
func BenchmarkFanout(b *testing.B) {
	for _, subs := range []int{1, 10} {
		for _, tg := range targets {
			b.Run(fmt.Sprintf("subs=%d/%s", subs, tg.name), func(b *testing.B) {
				var seen atomic.Int64
				publish, drain, done := tg.setup(b, subs, &seen)
				b.ReportAllocs()
				for b.Loop() {
					if err := publish(); err != nil {
						b.Fatal(err)
					}
				}
				waitAll(&seen, int64(b.N*subs), drain)
				b.StopTimer()
				done()
			})
		}
	}
}

// BenchmarkConcurrentPublishers publishes from GOMAXPROCS goroutines to one subscriber.
// The bus's loop runs on its own goroutine here, under the real-time driver at Instant speed.
func BenchmarkConcurrentPublishers(b *testing.B) {
	for _, tg := range targets {
		b.Run(tg.name, func(b *testing.B) {
			var seen atomic.Int64
			var publish func() error
			var drain, done func()
			if tg.name == "mfelab" {
				publish, drain, done = concurrentMFELab(b, &seen)
			} else {
				publish, drain, done = tg.setup(b, 1, &seen)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := publish(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			waitAll(&seen, int64(b.N), drain)
			b.StopTimer()
			done()
		})
	}
}

func concurrentMFELab(b *testing.B, seen *atomic.Int64) (func() error, func(), func()) {
	bb := bus.New(bus.Options{RetainMax: -1})
	pub := bb.MustRegister(bus.AppConfig{Name: "pub"})
	sub := bb.MustRegister(bus.AppConfig{Name: "sub"})
	if _, err := sub.Subscribe(topic, func(context.Context, bus.Delivery) error {
		seen.Add(1)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	driver := bb.StartRealtime(bus.Instant)
	publish := func() error {
		_, err := pub.PublishJSON(topic, payload)
		return err
	}
	return publish, nil, driver.Stop
}
