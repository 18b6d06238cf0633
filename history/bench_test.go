package history

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"mfelab/bus"
)

// benchEnvelopes publishes n envelopes over 100 topics (cart.0 .. cart.99) on a fresh bus;
// different seeds give different ids.
func benchEnvelopes(n int, seed uint64) []*bus.Envelope {
	b := bus.New(bus.Options{RetainMax: -1, Seed: seed})
	a := b.MustRegister(bus.AppConfig{Name: "cart"})
	payload := json.RawMessage(`{"orderId":"ord-000123","sku":"SKU-42","qty":3,"price":19.99,"currency":"EUR","note":"gift wrap!!!"}`)
	out := make([]*bus.Envelope, n)
	for i := range out {
		out[i], _ = a.PublishJSON(fmt.Sprintf("cart.%d", i%100), payload)
	}
	return out
}

func BenchmarkAppend(b *testing.B) {
	for _, durable := range []bool{false, true} {
		b.Run(fmt.Sprintf("durable=%v", durable), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "h.db"), Options{Durable: durable})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			envs := benchEnvelopes(b.N, 1)
			b.ResetTimer()
			if durable {
				// Durable appends from 8 goroutines share commits, as publishers would.
				var wg sync.WaitGroup
				for w := range 8 {
					wg.Go(func() {
						for i := w; i < len(envs); i += 8 {
							if err := s.Append(envs[i]); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
			} else {
				for _, env := range envs {
					if err := s.Append(env); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.Flush(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}

var (
	bigOnce  sync.Once
	bigStore *Store
	bigErr   error
)

// bigHistory is a store of 1,000,000 messages, built once per benchmark run.
func bigHistory(b *testing.B) *Store {
	bigOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mfelab-bench-")
		if err != nil {
			bigErr = err
			return
		}
		bigStore, bigErr = Open(filepath.Join(dir, "big.db"), Options{})
		if bigErr != nil {
			return
		}
		for start := 0; start < 1_000_000; start += 100_000 {
			bigErr = bigStore.Append(benchEnvelopes(100_000, uint64(start))...)
			if bigErr != nil {
				return
			}
		}
		bigErr = bigStore.Flush()
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigStore
}

// BenchmarkQueryLast1000 asks for the newest 1,000 messages of a wildcard pattern that
// matches 10 of the 100 topics, in a store of 1,000,000.
func BenchmarkQueryLast1000(b *testing.B) {
	s := bigHistory(b)
	b.ResetTimer()
	for b.Loop() {
		got, err := s.Query(Query{Pattern: "cart.+", Order: NewestFirst, Limit: 1000})
		if err != nil || len(got) != 1000 {
			b.Fatalf("%d, %v", len(got), err)
		}
	}
}

// BenchmarkExport1M streams the 1,000,000-message store as NDJSON and reports the heap in
// use afterwards, which stays flat because one envelope is decoded at a time.
func BenchmarkExport1M(b *testing.B) {
	s := bigHistory(b)
	b.ResetTimer()
	var peak uint64
	for b.Loop() {
		n, err := s.Export(io.Discard, NDJSON, Query{})
		if err != nil || n != 1_000_000 {
			b.Fatalf("%d, %v", n, err)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	b.ReportMetric(float64(peak)/(1<<20), "MiB-heap-in-use")
}

// BenchmarkGC100k collects 100,000 expired messages.
func BenchmarkGC100k(b *testing.B) {
	envs := benchEnvelopes(100_000, 2)
	for b.Loop() {
		b.StopTimer()
		s, err := Open(filepath.Join(b.TempDir(), "gc.db"), Options{MaxMessages: 1})
		if err != nil {
			b.Fatal(err)
		}
		s.Append(envs...)
		s.Flush()
		b.StartTimer()
		res, err := s.GC(envs[len(envs)-1].TS)
		if err != nil || res.Collected != 99_999 {
			b.Fatalf("%+v %v", res, err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}
