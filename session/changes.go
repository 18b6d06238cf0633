package session

import (
	"sync/atomic"

	"mfelab/bus"
)

// changeSignal counts a session's changes and tells one listener of them, so that a
// window can redraw when something happened instead of polling a run that may be idle.
// Bumping is an atomic add and a send that never blocks: it runs on the bus loop, under
// the bus lock, for every trace event.
type changeSignal struct {
	n      atomic.Uint64
	notify atomic.Pointer[chan<- struct{}]
}

func (c *changeSignal) bump() {
	c.n.Add(1)
	if p := c.notify.Load(); p != nil {
		select {
		case *p <- struct{}{}:
		default: // a signal is waiting already: it stands for this change too
		}
	}
}

// Notify makes the session signal ch each time its run changes: a trace event, or a
// function given to Post has run. The session never waits on ch: give it a buffer of
// one, and a signal waiting there stands for every change since the listener last took
// one, so that a thousand events in a millisecond wake it once. nil stops the signals.
func (s *Session) Notify(ch chan<- struct{}) {
	if ch == nil {
		s.signal.notify.Store(nil)
		return
	}
	s.signal.notify.Store(&ch)
}

// Changes counts the changes so far (as Notify signals them). A reader that keeps the
// count it last drew knows whether anything moved since, without reading the trace.
func (s *Session) Changes() uint64 { return s.signal.n.Load() }

// observed is the session's tap on the bus: the trace takes the event, then the listener
// hears of it.
func (s *Session) observed(e bus.TraceEvent) {
	s.trace.add(e)
	s.signal.bump()
}

// ActiveApps names the apps of events from up to to, each once, in the order they first
// acted: what a window marks as busy since it last looked. It reads them under one lock,
// however many events there are, where reading each event would take the lock once an
// event, in a race with the bus adding more. Events no longer held in memory are left out.
func (t *Trace) ActiveApps(from, to int) []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []string
	seen := make([]bool, len(t.apps))
	for i := max(from, t.events.First()); i < min(to, t.events.Len()); i++ {
		if a := t.events.At(i).app; !seen[a] {
			seen[a] = true
			out = append(out, t.apps[a])
		}
	}
	return out
}
