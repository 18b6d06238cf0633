package session

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"mfelab/bus"
	"mfelab/scenarios"
)

// fingerprint is everything a run's trace says, subscription IDs included, as text.
func fingerprint(t *testing.T, ses *Session) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, e := range ses.Trace().Events(0) {
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	for _, env := range ses.Trace().Envelopes() {
		if err := enc.Encode(env); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

// Twenty runs of each scenario at one seed give the same trace, subscription IDs and
// envelopes included: nothing depends on map order or the wall clock.
func TestEveryScenarioRunsTheSameTwentyTimes(t *testing.T) {
	for _, s := range scenarios.All() {
		t.Run(s.ID, func(t *testing.T) {
			var first string
			for i := range 20 {
				ses, err := Start(s, 42, nil)
				if err != nil {
					t.Fatal(err)
				}
				ses.RunToEnd()
				got := fingerprint(t, ses)
				if i == 0 {
					first = got
					continue
				}
				if got != first {
					gl, fl := strings.Split(got, "\n"), strings.Split(first, "\n")
					for j := range min(len(gl), len(fl)) {
						if gl[j] != fl[j] {
							t.Fatalf("run %d differs from run 1 at line %d:\n got  %s\n want %s", i+1, j+1, gl[j], fl[j])
						}
					}
					t.Fatalf("run %d differs from run 1 in length", i+1)
				}
			}
		})
	}
}

// Playing at Instant speed stops where the command line's run to the end stops: at the
// horizon, with the same trace.
func TestInstantSpeedStopsAtTheHorizonLikeTheCommandLine(t *testing.T) {
	for _, s := range scenarios.All() {
		if s.ID == "load" {
			continue // long; the rule is the same
		}
		t.Run(s.ID, func(t *testing.T) {
			cli, err := Start(s, 9, nil)
			if err != nil {
				t.Fatal(err)
			}
			cli.RunToEnd()
			win, err := Start(s, 9, nil)
			if err != nil {
				t.Fatal(err)
			}
			win.Play(bus.Instant)
			deadline := time.Now().Add(10 * time.Second)
			for !win.Settle() {
				if time.Now().After(deadline) {
					t.Fatal("the run did not finish at Instant speed")
				}
				time.Sleep(time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond) // a driver that ignored the horizon would go on
			win.Pause()
			if w, c := fingerprint(t, win), fingerprint(t, cli); w != c {
				t.Fatalf("the played run differs from the run to the end: %d against %d trace events", win.Trace().Len(), cli.Trace().Len())
			}
			if win.Elapsed() != cli.Elapsed() {
				t.Fatalf("played run stands at %v, run to the end at %v", win.Elapsed(), cli.Elapsed())
			}
		})
	}
}

// The trace holds what the bus emitted, compactly: reading it back gives the events.
func TestTheTraceGivesBackWhatTheBusEmitted(t *testing.T) {
	s, _ := scenarios.Get("versioned-contracts")
	var raw []bus.TraceEvent
	ses := &Session{speed: 1}
	r, err := scenarios.Start(s, 42, scenarios.Values{"change": "breaking", "mode": "warn"}, ses.observe(false), func(r *scenarios.Run) {
		r.Bus.Tap(func(e bus.TraceEvent) { e.Err = nil; raw = append(raw, e) })
	})
	if err != nil {
		t.Fatal(err)
	}
	ses.run = r
	ses.RunToEnd()
	got := ses.Trace().Events(0)
	if len(got) != len(raw) {
		t.Fatalf("%d events held, %d emitted", len(got), len(raw))
	}
	for i := range raw {
		if !got[i].At.Equal(raw[i].At) {
			t.Fatalf("event %d at %v, emitted at %v", i, got[i].At, raw[i].At)
		}
		got[i].At = raw[i].At
		if fmt.Sprintf("%+v", got[i]) != fmt.Sprintf("%+v", raw[i]) {
			t.Fatalf("event %d:\n got  %+v\n want %+v", i, got[i], raw[i])
		}
	}
}
