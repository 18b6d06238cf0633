package history

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

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

// BenchmarkExport1M streams the 1,000,000-message store as NDJSON (which writes the stored
// JSON as it is) and as CloudEvents (which decodes every envelope and encodes it anew).
// Besides the time it reports memory as the operating system sees it, sampled through the
// export: the peak of the process's anonymous resident memory (heap, stacks: what an
// export could pile up) and of its file-backed resident memory (the store's pages mapped
// in by reading them, which the kernel reclaims under pressure), both in MiB, with the
// anonymous baseline before the export for comparison. Off Linux only the time is
// reported.
func BenchmarkExport1M(b *testing.B) {
	for _, f := range []Format{NDJSON, CloudEvents} {
		b.Run(string(f), func(b *testing.B) {
			s := bigHistory(b)
			runtime.GC()
			debug.FreeOSMemory()
			base, _ := readRSS()
			sampler := startRSSSampler()
			b.ResetTimer()
			for b.Loop() {
				n, err := s.Export(io.Discard, f, Query{})
				if err != nil || n != 1_000_000 {
					b.Fatalf("%d, %v", n, err)
				}
			}
			b.StopTimer()
			if peak, ok := sampler.stop(); ok {
				b.ReportMetric(float64(base.anon)/(1<<20), "MiB-anon-before")
				b.ReportMetric(float64(peak.anon)/(1<<20), "MiB-anon-peak")
				b.ReportMetric(float64(peak.file)/(1<<20), "MiB-file-peak")
			}
		})
	}
}

// rss is resident memory in bytes, split as /proc/self/status splits it.
type rss struct{ anon, file uint64 }

// readRSS reads the process's resident memory; ok is false where /proc is not there.
func readRSS() (r rss, ok bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return rss{}, false
	}
	for line := range strings.Lines(string(data)) {
		var kb uint64
		switch {
		case strings.HasPrefix(line, "RssAnon:"):
			fmt.Sscanf(line[len("RssAnon:"):], "%d", &kb)
			r.anon, ok = kb<<10, true
		case strings.HasPrefix(line, "RssFile:"):
			fmt.Sscanf(line[len("RssFile:"):], "%d", &kb)
			r.file = kb << 10
		}
	}
	return r, ok
}

// rssSampler keeps the largest resident sizes seen, sampling every few milliseconds.
type rssSampler struct {
	stopc chan struct{}
	done  chan rss
	ok    bool
}

func startRSSSampler() *rssSampler {
	_, ok := readRSS()
	sm := &rssSampler{stopc: make(chan struct{}), done: make(chan rss, 1), ok: ok}
	go func() {
		var peak rss
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			if r, ok := readRSS(); ok {
				peak.anon, peak.file = max(peak.anon, r.anon), max(peak.file, r.file)
			}
			select {
			case <-sm.stopc:
				sm.done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return sm
}

func (sm *rssSampler) stop() (rss, bool) {
	close(sm.stopc)
	return <-sm.done, sm.ok
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
