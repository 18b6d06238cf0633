package session

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"mfelab/bus"
	"mfelab/bus/rpc"
	"mfelab/bus/saga"
)

// ArrowKind classifies one row of the flow diagram. The window gives every kind its own
// colour, line pattern and end marker; every front end names it with its Mark, so no kind
// is told apart by colour alone.
type ArrowKind uint8

// The kinds of arrow.
const (
	ArrowEvent        ArrowKind = iota // an event delivered to a subscriber
	ArrowRequest                       // an RPC request delivered to its server
	ArrowReply                         // an RPC reply delivered to the caller
	ArrowErrorReply                    // an RPC reply that carries the server's error
	ArrowCompensation                  // a message sent to undo a saga step
	ArrowFailed                        // the subscriber's handler failed on it
	ArrowRetry                         // it failed and is scheduled again
	ArrowDeadLetter                    // it failed for good and went to the dead-letter store
	ArrowSkipped                       // not handed to the handler (a duplicate, a cancelled subscription)
	ArrowRejected                      // the publish was refused (ACL, topic, contract)
	ArrowRateLimited                   // the publish was dropped by the app's rate limit
	ArrowTimeout                       // a request whose reply did not come in time
	ArrowPublish                       // a replayed message: its receivers were not recorded
	ArrowKinds                         // the number of kinds
)

var arrowNames = [ArrowKinds]struct{ name, mark string }{
	ArrowEvent:        {"event", ""},
	ArrowRequest:      {"request", "req "},
	ArrowReply:        {"reply", "reply "},
	ArrowErrorReply:   {"error reply", "✖ reply "},
	ArrowCompensation: {"compensation", "↺ undo "},
	ArrowFailed:       {"handler failed", "✖ "},
	ArrowRetry:        {"retry scheduled", "↻ retry "},
	ArrowDeadLetter:   {"dead letter", "☠ DLQ "},
	ArrowSkipped:      {"skipped", "skip "},
	ArrowRejected:     {"rejected", "⊘ rejected "},
	ArrowRateLimited:  {"rate-limited", "⊘ rate-limited "},
	ArrowTimeout:      {"timeout", "⏱ timeout "},
	ArrowPublish:      {"published", "pub "},
}

// String is the kind's name, as the legend shows it.
func (k ArrowKind) String() string {
	if k < ArrowKinds {
		return arrowNames[k].name
	}
	return "unknown"
}

// Mark is the prefix of the kind's labels.
func (k ArrowKind) Mark() string {
	if k < ArrowKinds {
		return arrowNames[k].mark
	}
	return ""
}

// Arrow is one row of the diagram: a delivery from one lifeline to another, or a mark on
// one lifeline (From == To).
type Arrow struct {
	Kind     ArrowKind
	From, To int // lifeline indexes into Diagram.Apps
	At       time.Duration
	Seq      uint64
	Topic    string
	Reason   string
	Attempt  int
	Event    int // the trace event it was drawn from
	Envelope uuid.UUID
}

// Label is the text the diagram writes above the arrow.
func (a Arrow) Label() string {
	var sb strings.Builder
	sb.WriteString(a.Kind.Mark())
	if a.Seq > 0 {
		fmt.Fprintf(&sb, "#%d ", a.Seq)
	}
	sb.WriteString(a.Topic)
	if a.Attempt > 1 {
		fmt.Fprintf(&sb, " (attempt %d)", a.Attempt)
	}
	if a.Reason != "" {
		sb.WriteString(": " + a.Reason)
	}
	return sb.String()
}

// row is an arrow as held: the rest is read from the trace events it points at.
type row struct {
	event  int32 // the event the arrow was drawn from
	reason int32 // the event whose reason it shows (a later failure), or -1
	from   uint16
	to     uint16
	kind   ArrowKind
}

// Diagram turns the run's trace into sequence-diagram rows as the trace grows. It is the
// one classification of what a delivery is: the window draws it, the Mermaid export
// writes it, tests compare them. It is guarded by its trace's lock.
type Diagram struct {
	t *Trace
	// publishes draws every published message as a row of its own, for replays of a
	// recorded log, where nothing subscribes and so nothing is delivered.
	publishes bool
	apps      []string
	lane      map[string]int
	rows      Chunked[row]
	requests  map[uuid.UUID]string // RPC request ID -> the topic its reply comes on
	served    map[uuid.UUID]uint16 // RPC request ID -> the lifeline that served it
}

// openWindow is how far back a failure looks for the delivery it concerns. A failure
// follows its delivery at once, with at most the rejected publishes of the failing
// handler drawn in between.
const openWindow = 256

func newDiagram(t *Trace, apps []string, publishes bool) *Diagram {
	d := &Diagram{t: t, publishes: publishes, lane: map[string]int{}, requests: map[uuid.UUID]string{}, served: map[uuid.UUID]uint16{}}
	for _, a := range apps {
		d.laneOf(a)
	}
	return d
}

func (d *Diagram) laneOf(app string) uint16 {
	if i, ok := d.lane[app]; ok {
		return uint16(i)
	}
	d.lane[app] = len(d.apps)
	d.apps = append(d.apps, app)
	return uint16(len(d.apps) - 1)
}

// add draws trace event e, the i-th. Caller holds the trace's lock.
func (d *Diagram) add(i int, e bus.TraceEvent) {
	env := e.Env
	switch e.Kind {
	case bus.TracePublished:
		if to := env.Meta.Headers[rpc.HeaderReplyTo]; to != "" {
			d.requests[env.ID] = to
		}
		if d.publishes {
			lane := d.laneOf(env.Meta.Source)
			d.rows.Append(row{event: int32(i), reason: -1, from: lane, to: lane, kind: ArrowPublish})
		}
	case bus.TraceDelivered, bus.TraceSkipped:
		kind := d.classify(env)
		if e.Kind == bus.TraceSkipped {
			kind = ArrowSkipped
		}
		to := d.laneOf(e.App)
		if kind == ArrowRequest {
			d.served[env.ID] = to
		}
		d.rows.Append(row{event: int32(i), reason: -1, from: d.laneOf(env.Meta.Source), to: to, kind: kind})
	case bus.TraceHandlerFailed, bus.TraceRetryScheduled, bus.TraceDeadLettered:
		if env == nil {
			return
		}
		r := d.openDelivery(env.ID, e.SubscriptionID)
		if r == nil {
			return
		}
		switch e.Kind {
		case bus.TraceHandlerFailed:
			r.kind, r.reason = ArrowFailed, int32(i)
		case bus.TraceRetryScheduled:
			r.kind = ArrowRetry
		case bus.TraceDeadLettered:
			r.kind = ArrowDeadLetter
		}
	case bus.TraceRejected, bus.TraceRateLimited:
		lane := d.laneOf(e.App)
		kind := ArrowRejected
		if e.Kind == bus.TraceRateLimited {
			kind = ArrowRateLimited
		}
		d.rows.Append(row{event: int32(i), reason: -1, from: lane, to: lane, kind: kind})
	case bus.TraceTimedOut:
		// drawn as the reply that never came: from the server back to the caller
		caller := d.laneOf(e.App)
		from, ok := d.served[env.ID]
		if !ok {
			from = caller
		}
		delete(d.served, env.ID)
		delete(d.requests, env.ID)
		d.rows.Append(row{event: int32(i), reason: -1, from: from, to: caller, kind: ArrowTimeout})
	}
}

// openDelivery finds the latest row of the delivery of envelope id to subscription sub.
func (d *Diagram) openDelivery(id uuid.UUID, sub uint64) *row {
	for r := d.rows.Len() - 1; r >= max(0, d.rows.Len()-openWindow); r-- {
		p := d.rows.Ptr(r)
		if int(p.event) < d.t.events.First() {
			return nil
		}
		ev := d.t.events.At(int(p.event))
		if ev.env != nil && ev.env.ID == id && ev.sub == sub && ev.kind != bus.TracePublished {
			if p.kind == ArrowDeadLetter {
				return nil // that delivery is over: a redelivery draws a row of its own
			}
			return p
		}
	}
	return nil
}

// classify says what a delivered envelope is: a compensation by its saga header, a
// request by its reply-to header, a reply by answering a request on the topic it named.
func (d *Diagram) classify(env *bus.Envelope) ArrowKind {
	switch {
	case env.Meta.Headers[saga.HeaderCompensates] != "":
		return ArrowCompensation
	case env.Meta.Headers[rpc.HeaderReplyTo] != "":
		return ArrowRequest
	}
	if topic, ok := d.requests[env.Meta.CausationID]; ok && topic == env.Topic {
		if rpc.ReplyError(env.Payload) != nil {
			return ArrowErrorReply
		}
		return ArrowReply
	}
	return ArrowEvent
}

// Len is the number of rows.
func (d *Diagram) Len() int {
	d.t.mu.RLock()
	defer d.t.mu.RUnlock()
	return d.rows.Len()
}

// Apps are the lifelines, left to right.
func (d *Diagram) Apps() []string {
	d.t.mu.RLock()
	defer d.t.mu.RUnlock()
	return append([]string(nil), d.apps...)
}

// Arrow returns row i.
func (d *Diagram) Arrow(i int) Arrow {
	if a := d.Arrows(i, i+1); len(a) == 1 {
		return a[0]
	}
	return Arrow{}
}

// Arrows returns rows from..to (to exclusive, clamped). Rows drawn from events no longer
// in memory read them back as Trace.Event does.
func (d *Diagram) Arrows(from, to int) []Arrow {
	d.t.mu.RLock()
	from, to = max(from, 0), min(to, d.rows.Len())
	out := make([]Arrow, max(to-from, 0))
	var old []int // positions in out whose events were let go
	for i := from; i < to; i++ {
		r := d.rows.At(i)
		if int(r.event) < d.t.events.First() || int(r.reason) >= 0 && int(r.reason) < d.t.events.First() {
			old = append(old, i-from)
			continue
		}
		reason := ""
		if r.reason >= 0 {
			reason = d.t.eventLocked(int(r.reason)).Reason
		}
		out[i-from] = d.arrow(r, d.t.eventLocked(int(r.event)), reason)
	}
	rows := make([]row, len(old))
	for k, j := range old {
		rows[k] = d.rows.At(from + j)
	}
	d.t.mu.RUnlock()
	for k, j := range old { // read back outside the lock: the bus must not wait on a file
		r := rows[k]
		reason := ""
		if r.reason >= 0 {
			reason = d.t.Event(int(r.reason)).Reason
		}
		out[j] = d.arrow(r, d.t.Event(int(r.event)), reason)
	}
	return out
}

// arrow makes row r, drawn from event e, into an Arrow; reason is that of the failure
// that changed its kind, if one did.
func (d *Diagram) arrow(r row, e bus.TraceEvent, reason string) Arrow {
	a := Arrow{Kind: r.kind, From: int(r.from), To: int(r.to), At: e.At.Sub(d.t.epoch), Topic: e.Topic,
		Reason: e.Reason, Attempt: e.Attempt, Event: int(r.event)}
	if e.Kind == Gone {
		a.At, a.Topic = 0, goneTopic
	}
	if e.Env != nil {
		a.Seq, a.Envelope = e.Env.Seq, e.Env.ID
	}
	switch {
	case r.reason >= 0:
		a.Reason = reason
	case r.kind == ArrowErrorReply && e.Env != nil:
		if err := rpc.ReplyError(e.Env.Payload); err != nil {
			a.Reason = err.Error()
		}
	case r.kind == ArrowRateLimited && a.Reason == "":
		a.Reason = "rate limited"
	}
	return a
}

// RowOfEvent finds the row drawn for trace event i, or else for the envelope it
// concerns (a published message is drawn as its first delivery); -1 when there is none.
func (d *Diagram) RowOfEvent(i int, env uuid.UUID) int {
	d.t.mu.RLock()
	defer d.t.mu.RUnlock()
	n := d.rows.Len()
	// rows are in event order: search for the first row drawn from event i or later
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int(d.rows.At(mid).event) < i {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < n && int(d.rows.At(lo).event) == i {
		return lo
	}
	if env == (uuid.UUID{}) {
		return -1
	}
	for r := lo; r < n; r++ {
		if i := int(d.rows.At(r).event); i >= d.t.events.First() {
			if ev := d.t.events.At(i); ev.env != nil && ev.env.ID == env {
				return r
			}
		}
	}
	return -1
}

// goneTopic is the topic of an arrow whose event was let go from memory and cannot be
// read back.
const goneTopic = "(let go from memory)"
