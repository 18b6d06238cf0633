package scenarios

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"mfelab/bus"
)

// maxReplaySpan is the longest stretch of time a replay can keep: bus time counts
// nanoseconds in an int64, and the horizon must fit beside it.
const maxReplaySpan = 100 * 365 * 24 * time.Hour

// ReplayID is the scenario ID of runs made by Replay.
const ReplayID = "replay"

// ReplayLog is a recorded log as a replay reads it: its messages in the order recorded,
// each expanded when asked for. history.Log holds one compactly; Envelopes is a slice
// as one.
type ReplayLog interface {
	Len() int
	Envelope(i int) *bus.Envelope
}

// Envelopes is a slice of envelopes as a ReplayLog.
type Envelopes []*bus.Envelope

// Len is the number of envelopes.
func (e Envelopes) Len() int { return len(e) }

// Envelope is envelope i.
func (e Envelopes) Envelope(i int) *bus.Envelope { return e[i] }

// Replay makes a run that publishes a recorded log again, through a fresh bus, each
// envelope as its original source at its original offset in time, keeping its topic,
// payload, schema version, correlation and headers (causation is mapped onto the replayed
// envelopes). Nothing reacts to the messages; instead the apps' panels are rebuilt from
// them: what each app sent, the latest state of every saga and breaker, the last
// notifications. The run starts paused at the first event: step it, or run it to the end.
func Replay(envs []*bus.Envelope, observe ...func(*Run)) (*Run, error) {
	return ReplayFrom(Envelopes(envs), observe...)
}

// ReplayFrom is Replay of a log held in any form. The messages are published in the
// order of their sequence numbers (a stable sort), each at its offset in time; the log
// is read again as they go, a batch at a time, so that neither the bus's queue nor the
// run holds every message at once.
func ReplayFrom(log ReplayLog, observe ...func(*Run)) (*Run, error) {
	n := log.Len()
	if n == 0 {
		return nil, errors.New("replay: the log holds no messages")
	}
	p := planReplay(log)
	if span := p.last.Sub(p.first); span >= maxReplaySpan {
		a, b := log.Envelope(p.firstAt), log.Envelope(p.lastAt)
		return nil, fmt.Errorf("replay: #%d (%s) and #%d (%s) are %.0f years apart; a replay keeps the log's timing and cannot span more than %.0f years",
			a.Seq, a.TS.Format(time.RFC3339), b.Seq, b.TS.Format(time.RFC3339), span.Hours()/24/365, maxReplaySpan.Hours()/24/365)
	}
	s := &Scenario{ID: ReplayID, Title: "Replay of a recorded log",
		Watch:   fmt.Sprintf("%d recorded messages published again in their original order and timing.", n),
		Horizon: p.last.Sub(p.first) + time.Second}
	s.Setup = func(r *Run) error { return setupReplay(r, log, p) }
	return Start(s, 0, nil, observe...)
}

// replayPlan is what a replay learns of its log before it starts.
type replayPlan struct {
	first, last     time.Time // the earliest and latest times
	firstAt, lastAt int       // messages at those times: the first and the last in sequence order
	// order lists the messages in the order they are published: by time, then by
	// sequence number, then as recorded; nil when that is the order recorded
	order   []int32
	sources []string               // the apps that publish, in the order they first do
	causes  map[uuid.UUID]struct{} // the IDs other messages name as their cause
}

// at is the index in the log of the k-th message published.
func (p *replayPlan) at(k int) int {
	if p.order == nil {
		return k
	}
	return int(p.order[k])
}

// planReplay reads the log once (twice when it is not in sequence order) to plan the
// replay: the order of publishing, the time span, the sources and the causes.
func planReplay(log ReplayLog) *replayPlan {
	n := log.Len()
	p := &replayPlan{causes: map[uuid.UUID]struct{}{}}
	seqs, times := make([]uint64, n), make([]time.Time, n)
	inOrder := true
	seen := map[string]bool{}
	for i := range n {
		e := log.Envelope(i)
		seqs[i], times[i] = e.Seq, e.TS
		if i > 0 && seqs[i] < seqs[i-1] {
			inOrder = false
		}
		if inOrder && !seen[e.Meta.Source] {
			seen[e.Meta.Source] = true
			p.sources = append(p.sources, e.Meta.Source)
		}
		if c := e.Meta.CausationID; c != (uuid.UUID{}) {
			p.causes[c] = struct{}{}
		}
	}
	var order []int32
	if !inOrder {
		order = make([]int32, n)
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(seqs[a], seqs[b]) })
		clear(seen)
		p.sources = p.sources[:0]
		for _, i := range order {
			if src := log.Envelope(int(i)).Meta.Source; !seen[src] {
				seen[src] = true
				p.sources = append(p.sources, src)
			}
		}
	}
	byIndex := func(k int) int {
		if order == nil {
			return k
		}
		return int(order[k])
	}
	p.first, p.last = times[byIndex(0)], times[byIndex(0)]
	sorted := true
	for k := range n {
		t := times[byIndex(k)]
		if k > 0 && t.Before(times[byIndex(k-1)]) {
			sorted = false
		}
		if t.Before(p.first) {
			p.first = t
		}
		if t.After(p.last) {
			p.last = t
		}
	}
	p.firstAt, p.lastAt = -1, -1
	for k := range n {
		i := byIndex(k)
		if times[i].Equal(p.first) && p.firstAt < 0 {
			p.firstAt = i
		}
		if times[i].Equal(p.last) {
			p.lastAt = i
		}
	}
	if !sorted {
		if order == nil {
			order = make([]int32, n)
			for i := range order {
				order[i] = int32(i)
			}
		}
		slices.SortStableFunc(order, func(a, b int32) int { return times[a].Compare(times[b]) })
	}
	p.order = order
	return p
}

// replayBatch is how many messages of a replay wait on the bus's queue at a time, at
// most twice over.
const replayBatch = 4096

func setupReplay(r *Run, log ReplayLog, p *replayPlan) error {
	w := r.World
	apps := map[string]*bus.App{}
	for _, a := range w.Apps() {
		apps[a.Name] = a.Conn
	}
	// a recorded app that is not one of the microfrontends joins without an ACL
	for _, src := range p.sources {
		if _, ok := apps[src]; !ok {
			a, err := r.Bus.Register(bus.AppConfig{Name: src})
			if err != nil {
				return fmt.Errorf("replay: app %q: %w", src, err)
			}
			apps[src] = a
		}
	}
	// the replayed IDs of the messages that others name as their cause
	newID := make(map[uuid.UUID]uuid.UUID, len(p.causes))
	var failed []string
	send := func(e *bus.Envelope) {
		m := bus.Msg{Topic: e.Topic, Payload: json.RawMessage(e.Payload), SchemaVersion: e.SchemaVersion,
			CorrelationID: e.Meta.CorrelationID, Headers: maps.Clone(e.Meta.Headers)}
		if id, ok := newID[e.Meta.CausationID]; ok {
			m.CausationID = id
		} else {
			m.CausationID = e.Meta.CausationID
		}
		if m.CorrelationID == "" && m.CausationID == (uuid.UUID{}) {
			m.CorrelationID = e.ID.String() // keep the conversation the original started
		}
		out, err := apps[e.Meta.Source].Send(m)
		if err != nil {
			failed = append(failed, fmt.Sprintf("seq %d %s: %v", e.Seq, e.Topic, err))
			return
		}
		if _, ok := p.causes[e.ID]; ok && out != nil {
			newID[e.ID] = out.ID
		}
	}
	// Every message is a timer of its own, so that stepping publishes one at a time.
	// They are scheduled a batch ahead: a timer of the first message of a batch schedules
	// the batch after next. Nothing else is ever on the replay's queue (nothing reacts to
	// the messages), and each batch is scheduled in publishing order at times no earlier
	// than any before it, so the timers run in exactly the order they would have had they
	// all been scheduled at the start.
	n := log.Len()
	first := p.first
	var schedule func(from int)
	schedule = func(from int) {
		to := min(from+replayBatch, n)
		for k := from; k < to; k++ {
			e := log.Envelope(p.at(k))
			refill := k%replayBatch == 0 && k > 0
			r.Bus.After(e.TS.Sub(first)-r.Bus.Elapsed(), func() {
				if refill {
					schedule(k + replayBatch)
				}
				send(e)
			})
		}
		r.unfed.Store(int64(n - to))
	}
	r.unfed.Store(int64(n))
	schedule(0)
	schedule(replayBatch)
	dash := w.App(Dashboard)
	r.Bus.Tap(func(t bus.TraceEvent) {
		if t.Kind != bus.TracePublished {
			return
		}
		e := t.Env
		if a := w.App(e.Meta.Source); a != nil {
			a.Add("sent", 1)
			a.Set("last sent", e.Topic)
		}
		switch {
		case strings.HasPrefix(e.Topic, "saga.") && strings.HasSuffix(e.Topic, ".state"):
			var st struct {
				ID, Status        string
				Done, Compensated []string
			}
			if json.Unmarshal(e.Payload, &st) == nil && st.ID != "" {
				line := st.Status + ", done: " + orNone(strings.Join(st.Done, " "))
				if len(st.Compensated) > 0 {
					line += ", undone: " + strings.Join(st.Compensated, " ")
				}
				dash.Set("saga "+st.ID, line)
			}
		case strings.HasPrefix(e.Topic, "breaker.") && strings.HasSuffix(e.Topic, ".state"):
			var tr struct{ Name, To string }
			if json.Unmarshal(e.Payload, &tr) == nil && tr.Name != "" {
				dash.Set("breaker "+tr.Name, tr.To)
			}
		case strings.HasPrefix(e.Topic, "notify."):
			var n struct{ Message string }
			if json.Unmarshal(e.Payload, &n) == nil && n.Message != "" {
				w.App(Notifications).Set("last", n.Message)
			}
		}
	})
	r.Expect("every recorded message was published again", func() (bool, string) {
		if len(failed) > 0 {
			return false, strings.Join(failed, "; ")
		}
		return expectEq(r.Published(), n)
	})
	return nil
}

// Pending is the number of events the run has still to run: those on the bus's queue,
// and the messages of a replay not yet scheduled on it.
func (r *Run) Pending() int { return r.Bus.Pending() + int(r.unfed.Load()) }

// StepToMessage steps the run until n messages have been published in it, or until
// nothing is left to run; it returns how many have been. Time travel uses it to stop a
// replay just after a chosen message.
func (r *Run) StepToMessage(n int) int {
	for r.Published() < n && r.Bus.Step() {
	}
	return r.Published()
}
