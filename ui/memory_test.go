package ui

import (
	"os"
	"path/filepath"
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
	return rss()
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
	l.keep = 0 // every message in memory: what one costs
	setMemoryLimit(0)
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

// BenchmarkWindowStaysFlatOverFiveMillion runs 4.8 million messages (eight apps at
// 10,000/s for 60 s of bus time) through the window while recording them, keeping the
// default newest 500,000 in memory, and reports the peak resident memory of the process
// and where it ended: flat, because older rows are read back from the history file.
func BenchmarkWindowStaysFlatOverFiveMillion(b *testing.B) {
	a := test.NewApp()
	defer a.Quit()
	l := loadLab()
	defer l.close()
	l.openStore(filepath.Join(b.TempDir(), "history.db"))
	if l.store == nil {
		b.Fatal(l.lastError)
	}
	for b.Loop() {
		l.set = scenarios.Values{}
		l.applyKnobs(scenarios.Values{"apps": "8", "rate": "10000", "duration": "60s"})
		l.startRecording()
		peak, peakAnon := uint64(0), uint64(0)
		for step := 0; !l.ses.Finished(); step++ {
			l.ses.RunFor(250 * time.Millisecond) // paced, as the real-time driver is
			l.refresh()
			if step%10 == 0 {
				peak, peakAnon = max(peak, rss()), max(peakAnon, anon())
			}
		}
		if err := l.ses.FlushRecording(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(l.ses.Trace().Messages()), "msgs")
		b.ReportMetric(float64(peak)/(1<<20), "peak-resident-MiB")
		b.ReportMetric(float64(peakAnon)/(1<<20), "peak-anon-MiB")
		b.ReportMetric(float64(rss())/(1<<20), "end-resident-MiB")
		b.ReportMetric(float64(heap())/(1<<20), "end-heap-MiB")
		b.ReportMetric(float64(l.ses.Trace().Held()), "events-let-go")
		l.reset()
	}
}

// rss is the resident memory now, without collecting first.
func rss() uint64 { return status("VmRSS:") }

// anon is the resident memory that is the process's own, without the pages of files it
// maps (the history file), which the kernel takes back as it needs.
func anon() uint64 { return status("RssAnon:") }

// status reads a size in kB from /proc/self/status (0 where there is none).
func status(key string) uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
