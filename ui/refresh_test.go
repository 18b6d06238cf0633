package ui

import (
	"sync/atomic"
	"testing"
	"time"

	"mfelab/bus"
	"mfelab/scenarios"
	"mfelab/session"
)

// startCounting runs a refresher whose frames only count, touching no widget, so that
// it may run beside the test's own goroutine.
func startCounting(t *testing.T, playing func() bool) *refresher {
	t.Helper()
	r := newRefresher(playing)
	go r.run()
	t.Cleanup(func() { close(r.stop) })
	return r
}

// framesAtMost is how many frames a refresher may draw in d: one a frame, and one more
// for a frame begun as d began.
func framesAtMost(d time.Duration) int64 { return int64(d/frameBudget) + 1 }

// A burst of changes, however many, is drawn at most once a frame, and at least once.
func TestABurstOfChangesIsDrawnAtMostOnceAFrame(t *testing.T) {
	tests := []struct {
		name    string
		signals int
		spread  time.Duration
	}{
		{"a thousand at once", 1000, 0},
		{"a hundred thousand over a third of a second", 100_000, time.Second / 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := startCounting(t, func() bool { return false })
			start := time.Now()
			for i := range tc.signals {
				r.signal()
				if tc.spread > 0 && i%1000 == 0 {
					time.Sleep(tc.spread / time.Duration(tc.signals/1000))
				}
			}
			elapsed := time.Since(start)
			time.Sleep(2 * frameBudget) // the last frame is drawn
			elapsed += 2 * frameBudget
			got := r.frames.Load()
			if got < 1 || got > framesAtMost(elapsed) {
				t.Fatalf("%d signals in %v drew %d frames, want 1 to %d", tc.signals, elapsed, got, framesAtMost(elapsed))
			}
		})
	}
}

// A run's own events, signalled by its session as they happen, are drawn at most once a
// frame: the load scenario at 20,000 messages a second, played at full speed.
func TestARunUnderLoadIsDrawnAtMostOnceAFrame(t *testing.T) {
	s, err := scenarios.Get("load")
	if err != nil {
		t.Fatal(err)
	}
	ses, err := session.Start(s, 42, scenarios.Values{"apps": "8", "rate": "2500", "duration": "2s"})
	if err != nil {
		t.Fatal(err)
	}
	defer ses.Close()
	var ended atomic.Bool
	r := startCounting(t, func() bool {
		if ses.Settle() {
			ended.Store(true)
			return false
		}
		return true
	})
	ses.Notify(r.wake)
	start := time.Now()
	ses.Play(bus.Instant)
	for !ended.Load() {
		if time.Since(start) > time.Minute {
			t.Fatal("the run did not end within a minute")
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	if got := r.frames.Load(); got > framesAtMost(elapsed) {
		t.Fatalf("%d messages in %v drew %d frames, want at most %d", ses.Trace().Messages(), elapsed, got, framesAtMost(elapsed))
	}
	// over: nothing changes, so nothing is drawn, not even for the clock (once a change
	// signalled while the last frame was drawn has had its frame)
	time.Sleep(3 * frameBudget)
	before := r.frames.Load()
	time.Sleep(5 * clockBeat)
	if got := r.frames.Load(); got != before {
		t.Fatalf("a finished run drew %d more frames", got-before)
	}
}

// A window whose run does not move, paused midway or finished, schedules no refresh at
// all: no frame, no beat of the clock.
func TestAnIdleRunSchedulesNoRefresh(t *testing.T) {
	tests := []struct {
		name string
		do   func(*lab)
	}{
		{"paused after a few steps", func(l *lab) {
			for range 5 {
				l.step()
			}
		}},
		{"finished", func(l *lab) { l.runToEnd() }},
		{"played, then paused", func(l *lab) {
			l.ses.Play(1)
			time.Sleep(50 * time.Millisecond)
			l.pause()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newTestLab(t)
			tc.do(l)
			// Started only now: the test driver runs the UI's work on whatever goroutine
			// asks for it, so a frame drawn beside this goroutine would be a data race.
			l.startRefresher()
			time.Sleep(5 * clockBeat)
			if got := l.refresher.frames.Load(); got != 0 {
				t.Fatalf("an idle window drew %d frames", got)
			}
		})
	}
}

// A frame refreshes the window only when the run changed since the last refresh, and
// brings a run that has come to its end to a stop.
func TestAFrameRefreshesOnlyWhatChanged(t *testing.T) {
	l := newTestLab(t)
	l.pick(t, "rpc-pricing")
	const sentinel = "not refreshed"
	refreshed := func() bool {
		was := l.statusLbl.Text != sentinel
		l.statusLbl.SetText(sentinel)
		return was
	}
	l.step()
	refreshed()
	if l.frame(); refreshed() {
		t.Fatal("a frame with nothing new refreshed the window")
	}
	l.ses.Run().StepAct() // events the window has not taken
	seen := l.seen
	if l.frame(); !refreshed() || l.seen == seen {
		t.Fatalf("a frame after new events did not take them (%d events seen, %d held)", l.seen, l.ses.Trace().Len())
	}
	l.ses.Play(bus.Instant)
	l.setRunButton(true)
	deadline := time.Now().Add(time.Minute)
	for l.frame() {
		if time.Now().After(deadline) {
			t.Fatal("the run did not end within a minute")
		}
		time.Sleep(frameBudget)
	}
	if !l.ses.Finished() || l.runBtn.Text != "Run" || l.seen != l.ses.Trace().Len() {
		t.Fatalf("after the last frame: finished %v, button %q, %d of %d events seen", l.ses.Finished(), l.runBtn.Text, l.seen, l.ses.Trace().Len())
	}
	if !refreshed() {
		t.Fatal("the end of the run was not refreshed")
	}
}
