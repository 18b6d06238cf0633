package ui

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

// EnvPerf, when set, makes the app print how the UI keeps up while a run goes on: once
// every five seconds, the refreshes it managed per second (at most one a frame, and only
// when something changed), how long one took on the UI thread (median, 99th percentile
// and worst: the worst is the stutter a user sees), the messages held and the heap per
// message; and how long frames waited for the UI thread, which paints the window between
// them. It measures the real window, which benchmarks cannot.
const EnvPerf = "MFELAB_PERF"

// perMessageFrom is how many messages a run must hold before the heap is given per
// message: below it the window's own few megabytes (fonts, widgets) swamp the figure.
const perMessageFrom = 10_000

// heapFigure gives the heap per message held, or the whole heap while few are held.
func heapFigure(heap uint64, msgs int) string {
	if msgs < perMessageFrom {
		return fmt.Sprintf("%.1f MiB heap", float64(heap)/(1<<20))
	}
	return fmt.Sprintf("%d heap bytes/message", heap/uint64(msgs))
}

// perfMeter gathers those figures between reports.
type perfMeter struct {
	on     bool
	since  time.Time
	took   durations
	waited durations // from a frame's request to its start on the UI thread
}

// wait notes how long a frame waited for the UI thread: drawing the window and the
// user's own events go first, and a busy machine delays them all.
func (p *perfMeter) wait(d time.Duration) {
	if p.on {
		p.waited.add(d)
	}
}

func newPerfMeter() *perfMeter { return &perfMeter{on: os.Getenv(EnvPerf) != "", since: time.Now()} }

// measure times one refresh and reports when a period is over.
func (p *perfMeter) measure(l *lab, refresh func()) {
	if !p.on {
		refresh()
		return
	}
	start := time.Now()
	refresh()
	p.took.add(time.Since(start))
	if period := time.Since(p.since); period >= 5*time.Second {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		msgs := 0
		if l.ses != nil {
			msgs = l.ses.Trace().Messages()
		}
		fmt.Fprintf(os.Stderr, "perf: %.1f refreshes/s, %s; frames waited for the UI thread %s; %d messages held, %s\n",
			float64(p.took.len())/period.Seconds(), p.took.String(), p.waited.String(), msgs, heapFigure(m.HeapAlloc, msgs))
		*p = perfMeter{on: true, since: time.Now()}
	}
}
