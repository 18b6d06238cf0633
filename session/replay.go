package session

import (
	"mfelab/bus"
	"mfelab/scenarios"
)

// ReplayFrom is Replay of a log held in any form, such as a history.Log, which holds a
// million messages in tens of megabytes: the replay reads it a batch at a time as it
// goes (see scenarios.ReplayFrom).
func ReplayFrom(log scenarios.ReplayLog, upTo int, origin string) (*Session, error) {
	ses := &Session{speed: 1, origin: origin}
	r, err := scenarios.ReplayFrom(log, ses.observe(true))
	if err != nil {
		return nil, err
	}
	ses.run = r
	r.StepToMessage(upTo)
	return ses, nil
}

// RunToEndLines runs the session to its end, as RunToEnd does, and hands line the line
// of every trace event (Format), in order: first those of the events so far, then each
// as it happens. Meanwhile the trace keeps only its newest messages in memory (see
// Trace.SetKeep), so that a run of millions of messages is printed in the memory of a
// few thousand; afterwards the events let go read back as Event says. line may be nil,
// to run with the trace kept small and nothing printed.
func (s *Session) RunToEndLines(line func(string)) int {
	t := s.trace
	if line != nil {
		for i := range t.Len() {
			line(t.Format(i))
		}
	}
	t.mu.Lock()
	t.keep = 1 // the least there is: minKeep
	t.trimLocked()
	if line != nil {
		t.follow = func(_ int, e bus.TraceEvent) { line(FormatEvent(e, t.epoch)) }
	}
	t.mu.Unlock()
	n := s.RunToEnd()
	t.mu.Lock()
	t.follow = nil
	t.mu.Unlock()
	return n
}
