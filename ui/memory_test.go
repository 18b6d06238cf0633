package ui

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"mfelab/scenarios"
)

// heap is the live heap after a full collection.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// resident is the process's resident memory, in bytes, after a collection has handed
// what it freed back to the system (0 where /proc is not there to read).
func resident() uint64 {
	debug.FreeOSMemory()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// loadLab opens the window on the load scenario, shows a short run once (so fonts and
// widget caches are in place before anything is measured) and resets.
func loadLab() *lab {
	w := test.NewWindow(nil)
	w.Resize(fyne.NewSize(1440, 900))
	l := newLab(w, Options{})
	s, _ := scenarios.Get("load")
	l.choose(s)
	playLoad(l, scenarios.Values{"duration": "100ms"})
	l.reset()
	return l
}

// playLoad runs the load scenario with knobs through the window, refreshing as the ticker
// would.
func playLoad(l *lab, knobs scenarios.Values) {
	l.set = scenarios.Values{}
	l.applyKnobs(knobs)
	for !l.ses.Finished() {
		l.ses.Run().Bus.RunFor(500 * time.Millisecond)
		l.refresh()
	}
}

// BenchmarkWindowHoldsAMillionMessages runs a million messages through the window (eight
// apps at 2,500/s for 50 s of bus time, each delivered to the dashboard) and reports the
// heap the window holds per message, then what is left once Reset has let the run go.
func BenchmarkWindowHoldsAMillionMessages(b *testing.B) {
	a := test.NewApp()
	defer a.Quit()
	l := loadLab()
	defer l.close()
	for b.Loop() {
		base, baseRSS := heap(), resident()
		playLoad(l, scenarios.Values{"apps": "8", "rate": "2500", "duration": "50s"})
		msgs := l.ses.Trace().Messages()
		held, heldRSS := heap(), resident()
		l.reset()
		after := heap()
		b.ReportMetric(float64(msgs), "msgs")
		b.ReportMetric(float64(held-base)/float64(msgs), "heapB/msg")
		b.ReportMetric(float64(int64(heldRSS)-int64(baseRSS))/float64(msgs), "residentB/msg")
		b.ReportMetric(float64(int64(after)-int64(base))/(1<<20), "MiB-after-reset")
	}
}

// Reset lets the run go: the heap comes back to what it was before the run, give or take
// the fresh run's own setup.
func TestResetGivesTheMemoryBack(t *testing.T) {
	a := test.NewApp()
	defer a.Quit()
	l := loadLab()
	defer l.close()
	base := heap()
	playLoad(l, scenarios.Values{"apps": "8", "rate": "2500", "duration": "5s"})
	msgs := l.ses.Trace().Messages()
	held := heap()
	if msgs < 90_000 || held-base < 10<<20 {
		t.Fatalf("%d messages held in %d bytes: the run is too small to tell", msgs, held-base)
	}
	l.reset()
	after := heap()
	if int64(after)-int64(base) > 4<<20 {
		t.Fatalf("after Reset the heap is %.1f MiB above where it started (the run held %.1f MiB)",
			float64(int64(after)-int64(base))/(1<<20), float64(held-base)/(1<<20))
	}
}
