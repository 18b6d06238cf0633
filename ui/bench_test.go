package ui

import (
	"runtime"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"mfelab/scenarios"
)

// BenchmarkLabUnderLoad plays the load scenario at 20,000 messages per virtual second
// (eight apps at 2,500/s) for three seconds in a 1440x900 window and refreshes it after
// every frame of bus time, as the window does at 1x while messages pour in. It reports
// the refreshes per second of bus time, the UI-thread cost of one refresh as a
// distribution (p50, p99 and the worst: the slowest refresh is the stutter a user sees),
// and the heap held per message: the run's trace plus the window's log rows and diagram.
// The test driver does not paint, so the figures leave out drawing to the screen;
// MFELAB_PERF measures the real window.
//
//	go test ./ui -run '^$' -bench LabUnderLoad -benchtime 3x
func BenchmarkLabUnderLoad(b *testing.B) {
	a := test.NewApp()
	defer a.Quit()
	s, _ := scenarios.Get("load")
	const run = 3 * time.Second
	var took durations
	var msgs int
	var perMsg float64
	for b.Loop() {
		w := test.NewWindow(nil)
		w.Resize(fyne.NewSize(1440, 900))
		l := newLab(w, Options{})
		l.choose(s)
		l.applyKnobs(scenarios.Values{"apps": "8", "rate": "2500", "duration": run.String()})
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		for l.ses.Elapsed() < run {
			l.ses.Run().Bus.RunFor(frameBudget)
			start := time.Now()
			l.frame()
			took.add(time.Since(start))
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		msgs += l.ses.Trace().Messages()
		perMsg += float64(after.HeapAlloc-before.HeapAlloc) / float64(l.ses.Trace().Messages())
		l.close()
		w.Close()
	}
	b.ReportMetric(float64(took.len())/float64(b.N)/run.Seconds(), "refreshes/s")
	b.ReportMetric(msFloat(took.quantile(0.5)), "p50-ms")
	b.ReportMetric(msFloat(took.quantile(0.99)), "p99-ms")
	b.ReportMetric(msFloat(took.max()), "max-ms")
	b.ReportMetric(float64(msgs)/float64(b.N), "msgs")
	b.ReportMetric(perMsg/float64(b.N), "heapB/msg")
}

func msFloat(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
