package ui

import (
	"fmt"
	"image/color"
	"strings"
	"time"

	"github.com/google/uuid"

	"mfelab/bus"
	"mfelab/bus/rpc"
	"mfelab/bus/saga"
	"mfelab/scenarios"
)

// arrowKind classifies one row of the flow diagram. Every kind has its own colour, line
// pattern and end marker, and says what it is in its label, so no kind is told apart by
// colour alone.
type arrowKind uint8

const (
	arrowEvent        arrowKind = iota // an event delivered to a subscriber
	arrowRequest                       // an RPC request delivered to its server
	arrowReply                         // an RPC reply delivered to the caller
	arrowErrorReply                    // an RPC reply that carries the server's error
	arrowCompensation                  // a message sent to undo a saga step
	arrowFailed                        // the subscriber's handler failed on it
	arrowRetry                         // it failed and is scheduled again
	arrowDeadLetter                    // it failed for good and went to the dead-letter store
	arrowSkipped                       // it was not handed to the handler (a duplicate, a cancelled subscription)
	arrowRejected                      // the publish was refused (ACL, topic, contract, rate limit)
	arrowTimeout                       // a request whose reply did not come in time
	arrowPublish                       // a replayed message: its receivers were not recorded
	arrowKinds
)

// linePattern is how an arrow's shaft is drawn: dash and gap lengths in pixels, {0, 0}
// for a solid line.
type linePattern struct{ dash, gap float32 }

var (
	solid  = linePattern{}
	dashed = linePattern{7, 4}
	dotted = linePattern{2, 3}
	long   = linePattern{12, 4}
)

// arrowHead is the shape at the receiving end.
type arrowHead uint8

const (
	headFilled arrowHead = iota // a filled triangle
	headOpen                    // two strokes, like a reply in UML
	headCross                   // an X: it did not get through
	headNone
)

// arrowStyle is how one kind is drawn. The colours are the Okabe–Ito palette, chosen to
// stay apart for the common kinds of colour blindness, on light and dark backgrounds.
type arrowStyle struct {
	name    string // the legend's word
	mark    string // the label's prefix
	colour  color.NRGBA
	pattern linePattern
	head    arrowHead
}

var arrowStyles = [arrowKinds]arrowStyle{
	arrowEvent:        {"event", "", color.NRGBA{0x00, 0x72, 0xB2, 0xff}, solid, headFilled},
	arrowRequest:      {"request", "req ", color.NRGBA{0x00, 0x9E, 0x73, 0xff}, solid, headFilled},
	arrowReply:        {"reply", "reply ", color.NRGBA{0x56, 0xB4, 0xE9, 0xff}, dashed, headOpen},
	arrowErrorReply:   {"error reply", "✖ reply ", color.NRGBA{0xD5, 0x5E, 0x00, 0xff}, dashed, headOpen},
	arrowCompensation: {"compensation", "↺ undo ", color.NRGBA{0xE6, 0x9F, 0x00, 0xff}, long, headFilled},
	arrowFailed:       {"handler failed", "✖ ", color.NRGBA{0xD5, 0x5E, 0x00, 0xff}, solid, headCross},
	arrowRetry:        {"retry scheduled", "↻ retry ", color.NRGBA{0xD5, 0x5E, 0x00, 0xff}, dashed, headCross},
	arrowDeadLetter:   {"dead letter", "☠ DLQ ", color.NRGBA{0xCC, 0x79, 0xA7, 0xff}, solid, headCross},
	arrowSkipped:      {"skipped", "skip ", color.NRGBA{0x99, 0x99, 0x99, 0xff}, dotted, headOpen},
	arrowRejected:     {"rejected", "⊘ rejected ", color.NRGBA{0xD5, 0x5E, 0x00, 0xff}, dotted, headCross},
	arrowTimeout:      {"timeout", "⏱ timeout ", color.NRGBA{0x99, 0x88, 0x22, 0xff}, dotted, headNone},
	arrowPublish:      {"published", "pub ", color.NRGBA{0x00, 0x72, 0xB2, 0xff}, dashed, headOpen},
}

// arrow is one row of the diagram.
type arrow struct {
	kind     arrowKind
	from, to int // lifeline indexes; equal for a mark on one lifeline
	at       time.Duration
	seq      uint64
	topic    string
	reason   string
	attempt  int
	event    int // the trace event it was drawn from, an index into the lab's log
	envelope uuid.UUID
}

// label is the text above the arrow.
func (a arrow) label() string {
	var sb strings.Builder
	sb.WriteString(arrowStyles[a.kind].mark)
	if a.seq > 0 {
		fmt.Fprintf(&sb, "#%d ", a.seq)
	}
	sb.WriteString(a.topic)
	if a.attempt > 1 {
		fmt.Fprintf(&sb, " (attempt %d)", a.attempt)
	}
	if a.reason != "" {
		sb.WriteString(": " + a.reason)
	}
	return sb.String()
}

// deliveryKey names one delivery: an envelope to one subscription.
type deliveryKey struct {
	env uuid.UUID
	sub uint64
}

// flowModel turns the run's trace into diagram rows, one event at a time. It is plain data
// with no Fyne in it, so the classification is tested on its own.
type flowModel struct {
	// publishes draws every published message as a row of its own, for replays of a
	// recorded log, where nothing subscribes and so nothing is delivered.
	publishes bool
	apps      []string
	lane      map[string]int
	arrows    scenarios.Chunked[arrow]    // chunked, so a long run grows without pauses
	open      map[deliveryKey]int         // the latest row of each delivery, for failures that follow it
	requests  map[uuid.UUID]*bus.Envelope // RPC requests by ID, to recognise their replies
	served    map[uuid.UUID]int           // the lifeline each request was delivered to
}

func newFlowModel(apps []string) *flowModel {
	m := &flowModel{lane: map[string]int{}, open: map[deliveryKey]int{}, requests: map[uuid.UUID]*bus.Envelope{}, served: map[uuid.UUID]int{}}
	for _, a := range apps {
		m.laneOf(a)
	}
	return m
}

// laneOf returns an app's lifeline, adding one for an app not seen before.
func (m *flowModel) laneOf(app string) int {
	if i, ok := m.lane[app]; ok {
		return i
	}
	m.lane[app] = len(m.apps)
	m.apps = append(m.apps, app)
	return len(m.apps) - 1
}

// add draws trace event e, the i-th of the log, whose time is at since the run's start.
// It reports whether the diagram changed.
func (m *flowModel) add(i int, e bus.TraceEvent, at time.Duration) bool {
	env := e.Env
	switch e.Kind {
	case bus.TracePublished:
		if env.Meta.Headers[rpc.HeaderReplyTo] != "" {
			m.requests[env.ID] = env
		}
		if !m.publishes {
			return false
		}
		lane := m.laneOf(env.Meta.Source)
		m.arrows.Append(arrow{kind: arrowPublish, from: lane, to: lane, at: at, seq: env.Seq, topic: e.Topic, event: i, envelope: env.ID})
		return true
	case bus.TraceDelivered, bus.TraceSkipped:
		kind, reason := m.classify(env), e.Reason
		if kind == arrowReply {
			if err := rpc.ReplyError(env.Payload); err != nil {
				kind, reason = arrowErrorReply, err.Error()
			}
		}
		if e.Kind == bus.TraceSkipped {
			kind = arrowSkipped
		}
		to := m.laneOf(e.App)
		if kind == arrowRequest {
			m.served[env.ID] = to
		}
		m.open[deliveryKey{env.ID, e.SubscriptionID}] = m.arrows.Len()
		m.arrows.Append(arrow{kind: kind, from: m.laneOf(env.Meta.Source), to: to, at: at, seq: env.Seq,
			topic: e.Topic, reason: reason, attempt: e.Attempt, event: i, envelope: env.ID})
		return true
	case bus.TraceHandlerFailed, bus.TraceRetryScheduled, bus.TraceDeadLettered:
		if env == nil {
			return false
		}
		row, ok := m.open[deliveryKey{env.ID, e.SubscriptionID}]
		if !ok {
			return false
		}
		a := m.arrows.Ptr(row)
		switch e.Kind {
		case bus.TraceHandlerFailed:
			a.kind, a.reason = arrowFailed, e.Reason
		case bus.TraceRetryScheduled:
			a.kind = arrowRetry
		case bus.TraceDeadLettered:
			a.kind = arrowDeadLetter
			delete(m.open, deliveryKey{env.ID, e.SubscriptionID})
		}
		return true
	case bus.TraceRejected, bus.TraceRateLimited:
		lane := m.laneOf(e.App)
		a := arrow{kind: arrowRejected, from: lane, to: lane, at: at, topic: e.Topic, reason: e.Reason, event: i}
		if e.Kind == bus.TraceRateLimited && a.reason == "" {
			a.reason = "rate limited"
		}
		if env != nil {
			a.seq, a.envelope = env.Seq, env.ID
		}
		m.arrows.Append(a)
		return true
	case bus.TraceTimedOut:
		// drawn as the reply that never came: from the server back to the caller
		caller := m.laneOf(e.App)
		from, ok := m.served[env.ID]
		if !ok {
			from = caller
		}
		m.arrows.Append(arrow{kind: arrowTimeout, from: from, to: caller, at: at, seq: env.Seq,
			topic: e.Topic, reason: e.Reason, event: i, envelope: env.ID})
		return true
	}
	return false
}

// classify says what a delivered envelope is: a compensation by its saga header, a
// request by its reply-to header, a reply by answering a request on the topic it named.
func (m *flowModel) classify(env *bus.Envelope) arrowKind {
	switch {
	case env.Meta.Headers[saga.HeaderCompensates] != "":
		return arrowCompensation
	case env.Meta.Headers[rpc.HeaderReplyTo] != "":
		return arrowRequest
	}
	if req, ok := m.requests[env.Meta.CausationID]; ok && req.Meta.Headers[rpc.HeaderReplyTo] == env.Topic {
		return arrowReply
	}
	return arrowEvent
}

// rowOfEvent finds the row drawn for log event i, or for the envelope it concerns (a
// published message is drawn as its first delivery). It returns -1 when there is none.
func (m *flowModel) rowOfEvent(i int, env uuid.UUID) int {
	for r, a := range m.arrows.Backward() {
		if a.event == i {
			return r
		}
	}
	if env == (uuid.UUID{}) {
		return -1
	}
	for r, a := range m.arrows.All() {
		if a.envelope == env {
			return r
		}
	}
	return -1
}
