package ui

import (
	"runtime"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"mfelab/scenarios"
)

// BenchmarkLabUnderLoad plays the load scenario at 10,000 messages per virtual second (four
// apps at 2,500/s) for two seconds and refreshes the window after every 100 ms of bus
// time, as the real-time driver's ticker does at 1x. It reports the UI-thread cost of one
// refresh (and how many refreshes a second that cost would allow), and the heap held per
// message: the run's trace plus the window's log rows, causal links and diagram rows.
func BenchmarkLabUnderLoad(b *testing.B) {
	a := test.NewApp()
	defer a.Quit()
	s, _ := scenarios.Get("load")
	var refresh time.Duration
	var ticks, msgs int
	var perMsg float64
	for b.Loop() {
		w := test.NewWindow(nil)
		w.Resize(fyne.NewSize(1440, 900))
		l := newLab(w, Options{})
		l.choose(s)
		l.applyKnobs(scenarios.Values{"apps": "4", "rate": "2500", "duration": "2s"})
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 20 {
			l.ses.Run().Bus.RunFor(100 * time.Millisecond)
			start := time.Now()
			l.refresh()
			refresh += time.Since(start)
			ticks++
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		msgs += l.ses.Trace().Messages()
		perMsg += float64(after.HeapAlloc-before.HeapAlloc) / float64(l.ses.Trace().Messages())
		l.close()
		w.Close()
	}
	mean := refresh / time.Duration(ticks)
	b.ReportMetric(float64(mean.Microseconds())/1000, "ms/refresh")
	b.ReportMetric(1/mean.Seconds(), "refreshes/s")
	b.ReportMetric(float64(msgs)/float64(b.N), "msgs")
	b.ReportMetric(perMsg/float64(b.N), "heapB/msg")
}
