package ui

import "mfelab/bus"

// shownEvents are the trace events of the log's rows, in order.
func (l *lab) shownEvents() []bus.TraceEvent {
	var out []bus.TraceEvent
	for i := range l.log.len() {
		out = append(out, l.ses.Trace().Event(l.log.event(i)))
	}
	return out
}
