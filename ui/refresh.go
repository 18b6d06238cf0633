package ui

import (
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// frameBudget is the least time between two refreshes of the window: thirty a second at
// most, which is what a diagram needs to move smoothly, whatever the rate of messages.
const frameBudget = time.Second / 30

// clockBeat is how often a playing run that emits nothing is refreshed anyway: its bus
// clock moves (the status line says where the run stands) and it may come to its end
// without a last event to say so.
const clockBeat = 100 * time.Millisecond

// refresher redraws the window when the run changes, and only then: the session signals
// wake (see session.Notify), the refresher waits out the rest of the frame so that every
// change of the frame is drawn at once, and asks the UI thread for one refresh. A run
// that does nothing, paused or finished, costs nothing: the refresher sleeps on wake,
// with no timer. While a run plays it also beats at clockBeat, for the clock.
type refresher struct {
	wake  chan struct{} // a buffer of one: a waiting signal stands for every change since
	stop  chan struct{}
	frame time.Duration
	beat  time.Duration
	// draw runs one turn on the UI thread and waits for it; it reports whether the run
	// still plays, so that the clock keeps beating.
	draw func() (playing bool)
	// frames counts the turns drawn, for the tests that hold the refresher to its word.
	frames atomic.Int64
}

func newRefresher(draw func() bool) *refresher {
	return &refresher{wake: make(chan struct{}, 1), stop: make(chan struct{}), frame: frameBudget, beat: clockBeat, draw: draw}
}

// signal asks for a frame without waiting: the window's own way to say that something
// changed (a run was started) when no event says so yet.
func (r *refresher) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// run is the refresher's goroutine, until stop is closed.
func (r *refresher) run() {
	beat := time.NewTimer(r.beat)
	beat.Stop()
	defer beat.Stop()
	var last time.Time // when the last frame began
	playing := false
	for {
		var tick <-chan time.Time
		if playing {
			beat.Reset(r.beat)
			tick = beat.C
		}
		select {
		case <-r.stop:
			return
		case <-r.wake:
		case <-tick:
		}
		beat.Stop()
		if wait := r.frame - time.Since(last); wait > 0 {
			pause := time.NewTimer(wait)
			select {
			case <-r.stop:
				pause.Stop()
				return
			case <-pause.C:
			}
		}
		select {
		case <-r.wake: // a change of the wait: this frame draws it
		default:
		}
		last = time.Now()
		r.frames.Add(1)
		playing = r.draw()
	}
}

// startRefresher starts the window's refresher the first time a run plays; it lives
// until the window closes. Until then, every change comes from the user's own gestures
// (a step, a reset), which refresh the window themselves.
func (l *lab) startRefresher() {
	if l.refresher != nil {
		return
	}
	r := newRefresher(nil)
	r.draw = func() bool {
		playing := false
		asked := time.Now()
		fyne.DoAndWait(func() {
			select {
			case <-r.stop: // the window closed while this frame waited for the UI thread
			default:
				l.perf.wait(time.Since(asked))
				playing = l.frame()
			}
		})
		return playing
	}
	l.refresher = r
	if l.ses != nil {
		l.ses.Notify(r.wake)
	}
	go r.run()
}

// stopRefresher ends the refresher's goroutine.
func (l *lab) stopRefresher() {
	if l.refresher != nil {
		close(l.refresher.stop)
		l.refresher = nil
	}
}

// drawn is what the window showed at its last refresh, for a frame to tell whether
// anything moved since.
type drawn struct {
	changes uint64
	elapsed time.Duration
}

// frame is one turn of the refresher on the UI thread: it settles a run that has come to
// its end, and refreshes the window if the run changed since the last refresh. It
// reports whether the run still plays.
func (l *lab) frame() bool {
	if l.ses == nil {
		return false
	}
	playing := l.ses.Playing()
	ended := playing && l.ses.Settle()
	if ended || l.drawn != (drawn{l.ses.Changes(), l.ses.Elapsed()}) {
		l.perf.measure(l, l.refresh)
	}
	if ended {
		l.setRunButton(false)
		l.log.list.ScrollToBottom() // the last rows came in with the end
	}
	return playing && !ended
}

// setText changes a label's text only when it differs: SetText lays the label out and
// redraws it even for the same text, and a refresh sets most of its labels to what they
// already say.
func setText(l *widget.Label, s string) {
	if l.Text != s {
		l.SetText(s)
	}
}
