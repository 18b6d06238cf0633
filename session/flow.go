package session

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"mfelab/bus"
)

// Delivery is one arrow of a run's flow as two runs of it are compared: the topic, who sent
// it to whom and what kind of arrow the diagram draws, without the IDs, sequence numbers
// and times that differ from run to run. A generated Go test keeps a run's flow as a
// table of these.
type Delivery struct {
	Topic    string
	From, To string // app names; the same app for a mark on one lifeline
	Kind     ArrowKind
}

// String renders the delivery as one line: "inventory.reserve  cart -> inventory  request".
func (d Delivery) String() string {
	return fmt.Sprintf("%s  %s -> %s  %s", d.Topic, d.From, d.To, d.Kind)
}

// FlowRow is one arrow of a run's flow and where it stands in the run: the diagram row it
// was drawn as and its place in the causal tree of the run's messages.
type FlowRow struct {
	Delivery
	// Row is the diagram row the arrow is drawn as, -1 when the diagram draws none (a
	// published message in a flow of publishes, when nothing received it).
	Row    int
	Seq    uint64
	At     time.Duration
	Reason string
	// Depth is how many messages led to this one, each published while handling the one
	// before: 0 for a message published by a scripted act.
	Depth int
	// Cause is the topic of the message whose handling published this one, "" at depth 0.
	Cause string
}

// Flow is a run's flow: its diagram's rows in order, or, for a flow of publishes, one
// row per published message.
type Flow struct {
	Rows []FlowRow
	// Publishes says the rows are published messages, not deliveries: the flow of a log,
	// which does not say who received each message.
	Publishes bool
}

// Deliveries returns the flow's rows without their places in the run.
func (f Flow) Deliveries() []Delivery {
	out := make([]Delivery, len(f.Rows))
	for i, r := range f.Rows {
		out[i] = r.Delivery
	}
	return out
}

// ErrIncomplete means a run's flow cannot be read whole: its oldest events were let go
// from memory and it was not recorded.
var ErrIncomplete = errors.New("the run's oldest events were let go from memory and it was not recorded: keep more in memory, or record it to a history file, and run it again")

// Flow returns the run's flow, row for row as its diagram draws it: a replayed log's
// rows are its published messages (Publishes is then set), since nothing received them.
func (t *Trace) Flow() (Flow, error) {
	d := t.Diagram()
	apps := d.Apps()
	arrows := d.Arrows(0, d.Len())
	c := newCauses(t)
	f := Flow{Rows: make([]FlowRow, len(arrows)), Publishes: d.publishes}
	for i, a := range arrows {
		if a.Topic == goneTopic && a.Seq == 0 {
			return Flow{}, fmt.Errorf("flow row %d: %w", i+1, ErrIncomplete)
		}
		depth, cause := c.of(a.Envelope)
		f.Rows[i] = FlowRow{Delivery: Delivery{Topic: a.Topic, From: lane(apps, a.From), To: lane(apps, a.To), Kind: a.Kind},
			Row: i, Seq: a.Seq, At: a.At, Reason: a.Reason, Depth: depth, Cause: cause}
	}
	return f, nil
}

// PublishedFlow returns the run's published messages as a flow, one row per message on
// its sender's lifeline, as a replay of the run's log draws them: what a run can be
// compared with a log by. Row is the diagram row of the message's first delivery.
func (t *Trace) PublishedFlow() (Flow, error) {
	if !t.Complete() {
		return Flow{}, ErrIncomplete
	}
	c := newCauses(t)
	d := t.Diagram()
	envs := t.Envelopes()
	f := Flow{Rows: make([]FlowRow, len(envs)), Publishes: true}
	for i, env := range envs {
		depth, cause := c.of(env.ID)
		ev := t.Published(env.ID)
		f.Rows[i] = FlowRow{Delivery: Delivery{Topic: env.Topic, From: env.Meta.Source, To: env.Meta.Source, Kind: ArrowPublish},
			Row: d.RowOfEvent(ev, env.ID), Seq: env.Seq, At: t.Event(ev).At.Sub(t.epoch), Depth: depth, Cause: cause}
	}
	return f, nil
}

func lane(apps []string, i int) string {
	if i >= 0 && i < len(apps) {
		return apps[i]
	}
	return "?"
}

// causes finds where messages stand in a run's causal tree, remembering what it found.
type causes struct {
	t     *Trace
	known map[uuid.UUID]causeOf
}

type causeOf struct {
	depth        int
	cause, topic string // the topic of its cause, and its own
}

func newCauses(t *Trace) *causes { return &causes{t: t, known: map[uuid.UUID]causeOf{}} }

// maxDepth bounds the walk up a causal chain: only a doctored log could hold a cycle.
const maxDepth = 1 << 16

// of returns how many messages led to message id, and the topic of the one that caused
// it. A message whose cause is not in the trace (a log cut short) counts as a root, and
// so does one that was never published (a rejected publish).
func (c *causes) of(id uuid.UUID) (int, string) {
	var chain []*bus.Envelope // from id up towards the root, none of them known yet
	parent, found := causeOf{}, false
	for at := id; at != (uuid.UUID{}) && len(chain) < maxDepth; {
		if k, ok := c.known[at]; ok {
			parent, found = k, true
			break
		}
		i := c.t.Published(at)
		if i < 0 {
			break
		}
		env := c.t.Event(i).Env
		if env == nil {
			break
		}
		chain = append(chain, env)
		at = env.Meta.CausationID
	}
	for k := len(chain) - 1; k >= 0; k-- {
		env := chain[k]
		me := causeOf{topic: env.Topic}
		if found {
			me.depth, me.cause = parent.depth+1, parent.topic
		}
		c.known[env.ID] = me
		parent, found = me, true
	}
	k := c.known[id]
	return k.depth, k.cause
}
