package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
)

// benchPayload is a pre-encoded 100-byte JSON document, the size of a typical cart event.
var benchPayload = json.RawMessage(`{"orderId":"ord-000123","sku":"SKU-42","qty":3,"price":19.99,"currency":"EUR","note":"gift wrap!!!"}`)

func init() {
	if len(benchPayload) != 100 {
		panic(fmt.Sprintf("bench payload is %d bytes", len(benchPayload)))
	}
}

func countingHandler(n *atomic.Int64) Handler {
	return func(context.Context, Delivery) error {
		n.Add(1)
		return nil
	}
}

// newBenchBus returns a bus without retention, so benchmarks measure publish and delivery.
func newBenchBus(b *testing.B) (*Bus, *App) {
	bus := New(Options{RetainMax: -1, MaxHandlersPerPattern: 1 << 20})
	return bus, bus.MustRegister(AppConfig{Name: "pub"})
}

// BenchmarkPublishDeliver measures one publish and all its deliveries, on one goroutine.
func BenchmarkPublishDeliver(b *testing.B) {
	for _, subs := range []int{1, 10, 100} {
		for _, kind := range []string{"exact", "wildcard"} {
			b.Run(fmt.Sprintf("%s/subs=%d", kind, subs), func(b *testing.B) {
				bus, pub := newBenchBus(b)
				sub := bus.MustRegister(AppConfig{Name: "sub"})
				var n atomic.Int64
				pattern := "cart.item.added"
				if kind == "wildcard" {
					pattern = "cart.+.#"
				}
				for range subs {
					if _, err := sub.Subscribe(pattern, countingHandler(&n)); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := pub.PublishJSON("cart.item.added", benchPayload); err != nil {
						b.Fatal(err)
					}
					bus.RunUntilIdle()
				}
				if n.Load() != int64(b.N*subs) {
					b.Fatalf("delivered %d, want %d", n.Load(), b.N*subs)
				}
			})
		}
	}
}

// BenchmarkMatch measures trie matching alone as the number of subscriptions grows; the probe
// topic always matches the same four subscriptions, so only the trie's size changes.
func BenchmarkMatch(b *testing.B) {
	for _, total := range []int{10, 1000, 100000} {
		b.Run(fmt.Sprintf("subs=%d", total), func(b *testing.B) {
			var tr trie
			id := uint64(0)
			add := func(p string) {
				id++
				tr.insert(&Subscription{id: id, pattern: p})
			}
			// the four that match the probe
			add("app.cart.item.added")
			add("app.cart.+.added")
			add("app.cart.#")
			add("app.+.item.added")
			for i := 0; tr.count < total; i++ {
				switch i % 4 { // a mix of exact, `+` and `#` patterns that miss the probe
				case 0:
					add(fmt.Sprintf("app.svc%d.item.added", i))
				case 1:
					add(fmt.Sprintf("app.svc%d.+.added", i))
				case 2:
					add(fmt.Sprintf("app.svc%d.#", i))
				case 3:
					add(fmt.Sprintf("+.svc%d.item", i))
				}
			}
			out := make([]*Subscription, 0, 16)
			b.ReportAllocs()
			for b.Loop() {
				out = tr.match("app.cart.item.added", out[:0])
			}
			if len(out) != 4 {
				b.Fatalf("matched %d, want 4", len(out))
			}
		})
	}
}

// BenchmarkConcurrentPublish measures publishes from GOMAXPROCS goroutines while the
// real-time driver, at Instant speed, runs the loop and delivers each to one subscriber.
func BenchmarkConcurrentPublish(b *testing.B) {
	bus, _ := newBenchBus(b)
	sub := bus.MustRegister(AppConfig{Name: "sub"})
	var n atomic.Int64
	sub.Subscribe("load.#", countingHandler(&n))
	driver := bus.StartRealtime(Instant)
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		app := bus.MustRegister(AppConfig{Name: fmt.Sprintf("p%d", next.Add(1))})
		for pb.Next() {
			if _, err := app.PublishJSON("load.tick", benchPayload); err != nil {
				b.Error(err)
				return
			}
		}
	})
	for n.Load() < int64(b.N) {
		runtime.Gosched()
	}
	b.StopTimer()
	driver.Stop()
}

// BenchmarkPublishAny is the convenience path: a Go value marshalled by encoding/json.
func BenchmarkPublishAny(b *testing.B) {
	bus, pub := newBenchBus(b)
	sub := bus.MustRegister(AppConfig{Name: "sub"})
	var n atomic.Int64
	sub.Subscribe("cart.item.added", countingHandler(&n))
	type item struct {
		OrderID  string  `json:"orderId"`
		SKU      string  `json:"sku"`
		Qty      int     `json:"qty"`
		Price    float64 `json:"price"`
		Currency string  `json:"currency"`
	}
	v := item{"ord-000123", "SKU-42", 3, 19.99, "EUR"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pub.Publish("cart.item.added", v); err != nil {
			b.Fatal(err)
		}
		bus.RunUntilIdle()
	}
}

func BenchmarkValidJSON(b *testing.B) {
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		if !validJSON(benchPayload) {
			b.Fatal("invalid")
		}
	}
}

// benchContract describes benchPayload the way a real cart contract would: a closed object
// with required fields, a pattern, bounds, an enum and a length limit.
const benchContract = `{"type":"object","required":["orderId","sku","qty","price","currency"],
  "additionalProperties":false,"properties":{
  "orderId":{"type":"string","pattern":"^ord-[0-9]+$"},"sku":{"type":"string","minLength":1},
  "qty":{"type":"integer","minimum":1,"maximum":1000},"price":{"type":"number","minimum":0},
  "currency":{"enum":["EUR","USD","GBP"]},"note":{"type":"string","maxLength":200}}}`

// BenchmarkPublishContract measures one publish with a schema version and its delivery to
// one subscriber, per contract mode: off skips the check, warn and strict validate the
// payload against benchContract (it is valid, so neither warns nor rejects).
func BenchmarkPublishContract(b *testing.B) {
	for _, mode := range []ContractMode{ContractOff, ContractWarn, ContractStrict} {
		b.Run("mode="+mode.String(), func(b *testing.B) {
			bus, pub := newBenchBus(b)
			if err := bus.Contracts().Register("cart.item-added@1", []byte(benchContract)); err != nil {
				b.Fatal(err)
			}
			bus.Contracts().SetMode(mode)
			sub := bus.MustRegister(AppConfig{Name: "sub"})
			var n atomic.Int64
			if _, err := sub.Subscribe("cart.item.added", countingHandler(&n)); err != nil {
				b.Fatal(err)
			}
			m := Msg{Topic: "cart.item.added", Payload: benchPayload, SchemaVersion: "cart.item-added@1"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pub.Send(m); err != nil {
					b.Fatal(err)
				}
				bus.RunUntilIdle()
			}
		})
	}
}

// BenchmarkSchemaValidate measures the contract check alone: decoding benchPayload and
// validating it against benchContract.
func BenchmarkSchemaValidate(b *testing.B) {
	s, err := CompileSchema([]byte(benchContract))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		if p := s.Validate(benchPayload); p != nil {
			b.Fatal(p)
		}
	}
}
