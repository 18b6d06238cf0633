package scenarios

import (
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

// Replay makes a run that publishes a recorded log again, through a fresh bus, each
// envelope as its original source at its original offset in time, keeping its topic,
// payload, schema version, correlation and headers (causation is mapped onto the replayed
// envelopes). Nothing reacts to the messages; instead the apps' panels are rebuilt from
// them: what each app sent, the latest state of every saga and breaker, the last
// notifications. The run starts paused at the first event: step it, or run it to the end.
func Replay(envs []*bus.Envelope, observe ...func(*Run)) (*Run, error) {
	if len(envs) == 0 {
		return nil, errors.New("replay: the log holds no messages")
	}
	envs = slices.Clone(envs)
	slices.SortStableFunc(envs, func(a, b *bus.Envelope) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	first, last := envs[0].TS, envs[0].TS
	for _, e := range envs {
		if e.TS.Before(first) {
			first = e.TS
		}
		if e.TS.After(last) {
			last = e.TS
		}
	}
	if span := last.Sub(first); span >= maxReplaySpan {
		var a, b *bus.Envelope
		for _, e := range envs {
			if e.TS.Equal(first) && a == nil {
				a = e
			}
			if e.TS.Equal(last) {
				b = e
			}
		}
		return nil, fmt.Errorf("replay: #%d (%s) and #%d (%s) are %.0f years apart; a replay keeps the log's timing and cannot span more than %.0f years",
			a.Seq, a.TS.Format(time.RFC3339), b.Seq, b.TS.Format(time.RFC3339), span.Hours()/24/365, maxReplaySpan.Hours()/24/365)
	}
	s := &Scenario{ID: ReplayID, Title: "Replay of a recorded log",
		Watch:   fmt.Sprintf("%d recorded messages published again in their original order and timing.", len(envs)),
		Horizon: last.Sub(first) + time.Second}
	s.Setup = func(r *Run) error { return setupReplay(r, envs, first) }
	return Start(s, 0, nil, observe...)
}

func setupReplay(r *Run, envs []*bus.Envelope, first time.Time) error {
	w := r.World
	apps := map[string]*bus.App{}
	for _, a := range w.Apps() {
		apps[a.Name] = a.Conn
	}
	// a recorded app that is not one of the microfrontends joins without an ACL
	for _, e := range envs {
		src := e.Meta.Source
		if _, ok := apps[src]; !ok {
			a, err := r.Bus.Register(bus.AppConfig{Name: src})
			if err != nil {
				return fmt.Errorf("replay: app %q: %w", src, err)
			}
			apps[src] = a
		}
	}
	newID := map[uuid.UUID]uuid.UUID{}
	var failed []string
	for _, e := range envs {
		r.Bus.After(e.TS.Sub(first), func() {
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
			if out != nil {
				newID[e.ID] = out.ID
			}
		})
	}
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
		return expectEq(r.Published(), len(envs))
	})
	return nil
}

// StepToMessage steps the run until n messages have been published in it, or until
// nothing is left to run; it returns how many have been. Time travel uses it to stop a
// replay just after a chosen message.
func (r *Run) StepToMessage(n int) int {
	for r.Published() < n && r.Bus.Step() {
	}
	return r.Published()
}
