package bus

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
)

// BenchmarkDeepQueue schedules N deliveries before the loop runs (publishes to 10
// subscribers, then RunUntilIdle), the shape of a burst, a large replay or a slow Step
// through a fast publisher. It reports the cost per delivery and the heap each pending
// delivery holds; the cost should not grow with N.
func BenchmarkDeepQueue(b *testing.B) {
	const subs = 10
	for _, pending := range []int{1_000, 100_000, 2_500_000} {
		b.Run(fmt.Sprintf("pending=%d", pending), func(b *testing.B) {
			var n atomic.Int64
			publishes := pending / subs
			var perPending float64
			b.ReportAllocs()
			for b.Loop() {
				// a fresh bus each time: its queue grows from nothing, as in a real burst
				b.StopTimer()
				bus, pub := newBenchBus(b)
				sub := bus.MustRegister(AppConfig{Name: "sub"})
				for range subs {
					if _, err := sub.Subscribe("cart.+.#", countingHandler(&n)); err != nil {
						b.Fatal(err)
					}
				}
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				b.StartTimer()
				for range publishes {
					if _, err := pub.PublishJSON("cart.item.added", benchPayload); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				runtime.ReadMemStats(&after)
				perPending = float64(after.HeapAlloc-before.HeapAlloc) / float64(pending)
				b.StartTimer()
				bus.RunUntilIdle()
			}
			if n.Load() != int64(b.N*pending) {
				b.Fatalf("delivered %d, want %d", n.Load(), b.N*pending)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pending), "ns/delivery")
			b.ReportMetric(perPending, "heapB/pending")
		})
	}
}
