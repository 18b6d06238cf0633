package session

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mfelab/history"
	"mfelab/scenarios"
)

// loadLogKnobs are the knobs of a run of the load scenario that publishes n messages:
// eight apps ticking 10,000 times a second each for n/80,000 s of bus time. n must be a
// multiple of 80, at least 8,000.
func loadLogKnobs(n int) scenarios.Values {
	return scenarios.Values{"apps": "8", "rate": "10000", "duration": strconv.Itoa(n/80) + "ms"}
}

// writeLoadLog writes to path the NDJSON export of a run of the load scenario that
// publishes n messages (see loadLogKnobs), at seed 42: byte for byte what
//
//	mfelab run load -set apps=8 -set rate=10000 -set duration=<n/80>ms -export path
//
// writes, which is how to make the file for a measurement by hand (12500ms for a
// million lines, 239 MB).
func writeLoadLog(tb testing.TB, path string, n int) {
	tb.Helper()
	if n%80 != 0 || n < 8000 {
		tb.Fatalf("a load log holds a multiple of 80 messages, at least 8,000; not %d", n)
	}
	s, err := scenarios.Get("load")
	if err != nil {
		tb.Fatal(err)
	}
	ses, err := Start(s, 42, loadLogKnobs(n))
	if err != nil {
		tb.Fatal(err)
	}
	defer ses.Close()
	ses.RunToEnd()
	if got, err := ses.Export(path, history.NDJSON); err != nil || got != n {
		tb.Fatalf("exported %d messages of %d: %v", got, n, err)
	}
}

// loadLogs holds the load logs made so far in this process, by size: making the
// million-line one takes seconds.
var loadLogs struct {
	sync.Mutex
	dir   string
	paths map[int]string
}

// loadLog returns the path of a load log of n messages, made once per process in a
// directory removed when the tests end (see TestMain).
func loadLog(tb testing.TB, n int) string {
	tb.Helper()
	loadLogs.Lock()
	defer loadLogs.Unlock()
	if p, ok := loadLogs.paths[n]; ok {
		return p
	}
	if loadLogs.dir == "" {
		dir, err := os.MkdirTemp("", "mfelab-loadlog-")
		if err != nil {
			tb.Fatal(err)
		}
		loadLogs.dir, loadLogs.paths = dir, map[int]string{}
	}
	p := filepath.Join(loadLogs.dir, fmt.Sprintf("load-%d.ndjson", n))
	writeLoadLog(tb, p, n)
	loadLogs.paths[n] = p
	return p
}

// removeLoadLogs deletes the load logs made.
func removeLoadLogs() {
	if loadLogs.dir != "" {
		os.RemoveAll(loadLogs.dir)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	removeLoadLogs()
	os.Exit(code)
}

// replayFile does what `mfelab replay path` does, printing to w: read the log, replay
// it to its end printing every trace event's line as it goes, print the rebuilt state.
func replayFile(tb testing.TB, path string, w io.Writer) int {
	log, err := history.ReadLogFile(context.Background(), path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ses, err := ReplayFrom(log, 0, "replay of "+path)
	if err != nil {
		tb.Fatal(err)
	}
	defer ses.Close()
	ses.RunToEndLines(func(line string) { fmt.Fprintln(w, line) })
	fmt.Fprintln(w, scenarios.FormatSnapshots(ses.Run().World.Snapshots()))
	return ses.Trace().Messages()
}

// BenchmarkReplay replays a load log of 10,000, 100,000 and 1,000,000 messages as
// `mfelab replay` does, every line printed (to nowhere), and reports the time in seconds
// and the peak memory: of the heap (live and not yet collected) and, on Linux, of the
// process's own resident memory above what it held before, both sampled every few
// milliseconds, in MB. Making the logs is not measured. The million takes tens of
// seconds; run it alone with
//
//	go test -run '^$' -bench 'Replay/1M' -benchtime 1x ./session
func BenchmarkReplay(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"10k", 10_000}, {"100k", 100_000}, {"1M", 1_000_000}} {
		b.Run(size.name, func(b *testing.B) {
			path := loadLog(b, size.n)
			runtime.GC()
			debug.FreeOSMemory()
			base := sampleMemory()
			sm := startMemorySampler()
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				w := bufio.NewWriter(io.Discard)
				if got := replayFile(b, path, w); got != size.n {
					b.Fatalf("replayed %d messages of %d", got, size.n)
				}
				w.Flush()
			}
			b.StopTimer()
			peak := sm.stop()
			b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/op")
			b.ReportMetric(float64(peak.heap)/1e6, "peak-heap-MB")
			if peak.anon > 0 {
				b.ReportMetric(float64(peak.anon-min(base.anon, peak.anon))/1e6, "peak-anon-MB")
			}
		})
	}
}

// memory is what the memory sampler reads: heap objects, live or not yet collected (as
// the runtime counts them), and the process's anonymous resident memory (0 off Linux).
type memory struct{ heap, anon uint64 }

var heapMetric = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

// sampleMemory reads the heap's objects and the process's anonymous resident memory,
// without stopping the world.
func sampleMemory() memory {
	s := make([]metrics.Sample, len(heapMetric))
	copy(s, heapMetric)
	metrics.Read(s)
	m := memory{heap: s[0].Value.Uint64()}
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(data)) {
			if rest, ok := strings.CutPrefix(line, "RssAnon:"); ok {
				kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				m.anon = kb << 10
			}
		}
	}
	return m
}

// memorySampler keeps the largest memory seen, sampling every few milliseconds.
type memorySampler struct {
	stopc chan struct{}
	done  chan memory
}

func startMemorySampler() *memorySampler {
	sm := &memorySampler{stopc: make(chan struct{}), done: make(chan memory, 1)}
	go func() {
		var peak memory
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			m := sampleMemory()
			peak.heap, peak.anon = max(peak.heap, m.heap), max(peak.anon, m.anon)
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

// stop ends the sampling and returns the peaks.
func (sm *memorySampler) stop() memory {
	close(sm.stopc)
	return <-sm.done
}
