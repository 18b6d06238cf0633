package scenarios

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"mfelab/bus"
)

// Log keeps a run's trace: every trace event, in order. The UI's message log and flow
// diagram, the CLI's printout and the exports all read it.
type Log struct {
	b      *bus.Bus
	mu     sync.Mutex
	events Chunked[bus.TraceEvent] // chunked: the tap appends with the bus locked, so it must not pause
	after  []func()
}

func newLog(b *bus.Bus) *Log {
	l := &Log{b: b}
	b.Tap(func(e bus.TraceEvent) {
		l.mu.Lock()
		l.events.Append(e)
		l.mu.Unlock()
	})
	b.Use(func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, d bus.Delivery) error {
			err := next(ctx, d)
			for _, fn := range l.after {
				fn()
			}
			return err
		}
	})
	return l
}

// watch calls fn on the loop after every handler, for figures that follow the run (a
// projection's lag). Taps cannot do this: they must not call back into the bus.
func (l *Log) watch(fn func()) { l.after = append(l.after, fn) }

// Len is the number of events so far.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.events.Len()
}

// Events returns the events from index from on.
func (l *Log) Events(from int) []bus.TraceEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.events.From(from)
}

// Envelopes returns every published envelope, in Seq order.
func (l *Log) Envelopes() []*bus.Envelope {
	var out []*bus.Envelope
	for _, e := range l.Events(0) {
		if e.Kind == bus.TracePublished {
			out = append(out, e.Env)
		}
	}
	return out
}

// Format renders one trace event as a readable line:
//
//	+0.120s  #12 delivered    inventory <- cart  inventory.reserve
func (l *Log) Format(e bus.TraceEvent) string {
	at := e.At.Sub(l.b.Epoch())
	var sb strings.Builder
	fmt.Fprintf(&sb, "+%7.3fs ", at.Seconds())
	if e.Env != nil {
		fmt.Fprintf(&sb, "#%-5d ", e.Env.Seq)
	} else {
		sb.WriteString("       ")
	}
	fmt.Fprintf(&sb, "%-16s ", e.Kind)
	switch e.Kind {
	case bus.TracePublished, bus.TraceRejected, bus.TraceRateLimited, bus.TraceContractWarning:
		fmt.Fprintf(&sb, "%-13s -> %s", e.App, e.Topic)
	case bus.TraceTimedOut:
		fmt.Fprintf(&sb, "%-13s .. %s", e.App, e.Topic)
	default:
		from := ""
		if e.Env != nil {
			from = e.Env.Meta.Source
		}
		fmt.Fprintf(&sb, "%-13s <- %-13s %s", e.App, from, e.Topic)
	}
	if e.Attempt > 1 {
		fmt.Fprintf(&sb, " (attempt %d)", e.Attempt)
	}
	if e.UpcastFrom != "" {
		fmt.Fprintf(&sb, " (upcast from %s)", e.UpcastFrom)
	}
	if e.Reason != "" {
		fmt.Fprintf(&sb, "  [%s]", e.Reason)
	}
	return sb.String()
}

// Lines formats every event.
func (l *Log) Lines() []string {
	evs := l.Events(0)
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = l.Format(e)
	}
	return out
}

// Elapsed formats a bus time as an offset from the epoch.
func Elapsed(b *bus.Bus, t time.Time) string {
	return fmt.Sprintf("+%.3fs", t.Sub(b.Epoch()).Seconds())
}
