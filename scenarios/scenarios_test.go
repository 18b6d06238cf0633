package scenarios_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mfelab/bus"
	. "mfelab/scenarios"
	"mfelab/session"
)

var update = flag.Bool("update", false, "rewrite the golden event logs under testdata")

const testSeed = 42

// Every scenario under every declared knob combination must meet its expected outcomes.
func TestEveryScenarioUnderEveryKnobCombination(t *testing.T) {
	for _, s := range All() {
		for _, knobs := range s.Combinations() {
			t.Run(s.ID+"/"+strings.ReplaceAll(knobs.String(), " ", ","), func(t *testing.T) {
				ses, err := session.Start(s, testSeed, knobs)
				if err != nil {
					t.Fatal(err)
				}
				ses.RunToEnd()
				checks := ses.Checks()
				if len(checks) == 0 {
					t.Fatal("the scenario declares no expected outcome")
				}
				if !Passed(checks) {
					t.Fatalf("checks:\n%s", FormatChecks(checks))
				}
				// the apps' ACLs must allow everything the scenarios mean to do
				for i, e := range ses.Trace().Events(0) {
					if e.Kind == bus.TraceRejected && strings.Contains(e.Reason, "ACL") {
						t.Errorf("ACL violation: %s", ses.Trace().Format(i))
					}
				}
			})
		}
	}
}

func ndjson(t *testing.T, ses *session.Session) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, env := range ses.Trace().Envelopes() {
		if err := enc.Encode(env); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// The default run of each scenario is pinned as a golden NDJSON event log; a change to
// it must be looked at (go test ./scenarios -update, then read the diff).
func TestGoldenEventLogs(t *testing.T) {
	for _, s := range All() {
		t.Run(s.ID, func(t *testing.T) {
			ses, err := session.Start(s, testSeed, nil)
			if err != nil {
				t.Fatal(err)
			}
			ses.RunToEnd()
			got := ndjson(t, ses)
			path := filepath.Join("testdata", s.ID+".ndjson")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./scenarios -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := range min(len(gl), len(wl)) {
					if gl[i] != wl[i] {
						t.Fatalf("event log differs from %s at line %d:\n got  %s\n want %s", path, i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("event log differs from %s in length: %d lines, want %d", path, len(gl), len(wl))
			}
		})
	}
}

// Same scenario, seed and knobs: the same log, byte for byte, trace lines included.
func TestRunsAreDeterministic(t *testing.T) {
	for _, s := range All() {
		t.Run(s.ID, func(t *testing.T) {
			var logs [2]string
			for i := range logs {
				ses, err := session.Start(s, 7, nil)
				if err != nil {
					t.Fatal(err)
				}
				ses.RunToEnd()
				logs[i] = string(ndjson(t, ses)) + strings.Join(ses.Trace().Lines(), "\n")
			}
			if logs[0] != logs[1] {
				t.Fatal("two runs with one seed differ")
			}
		})
	}
}

// A recorded run replays into the same sequence of topics and sources, and rebuilds the
// saga state on the dashboard panel.
func TestReplayRebuildsState(t *testing.T) {
	s, _ := Get("checkout-orchestrated")
	orig, err := session.Start(s, 3, Values{"fail": "ship"})
	if err != nil {
		t.Fatal(err)
	}
	orig.RunToEnd()
	rec := orig.Trace().Envelopes()
	ses, err := session.Replay(rec, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if !ses.Step() {
		t.Fatal("the replay has nothing to step")
	}
	ses.RunToEnd()
	r := ses.Run()
	if !Passed(r.Checks()) {
		t.Fatalf("checks:\n%s", FormatChecks(r.Checks()))
	}
	got := ses.Trace().Envelopes()
	for i := range rec {
		if got[i].Topic != rec[i].Topic || got[i].Meta.Source != rec[i].Meta.Source || !got[i].TS.Equal(rec[i].TS) {
			t.Fatalf("message %d: %s from %s at %v, recorded %s from %s at %v", i, got[i].Topic, got[i].Meta.Source, got[i].TS,
				rec[i].Topic, rec[i].Meta.Source, rec[i].TS)
		}
	}
	if st := r.World.App(Dashboard).Get("saga order-1"); st != "failed, done: reserve charge, undone: charge reserve" {
		t.Fatalf("rebuilt saga state %q", st)
	}
	if _, err := session.Replay(nil, 0, ""); err == nil {
		t.Fatal("an empty log replayed")
	}
}

func TestUnknownScenarioAndKnobErrorsListTheValidOnes(t *testing.T) {
	if _, err := Get("nope"); err == nil || !strings.Contains(err.Error(), "checkout-orchestrated") {
		t.Fatalf("unknown scenario: %v", err)
	}
	s, _ := Get("rpc-pricing")
	tests := []struct {
		name string
		set  Values
		want string
	}{
		{"an unknown knob lists the knobs", Values{"speed": "1"}, `has no knob "speed"; its knobs: latency (0s..2s, default 50ms)`},
		{"a duration out of range", Values{"latency": "1h"}, "want 0s to 2s"},
		{"a bad boolean", Values{"error": "maybe"}, "want true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Start(s, 1, tt.set); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestAReplayCannotSpanCenturiesAndSaysWhichMessages(t *testing.T) {
	s, _ := Get("rpc-pricing")
	ses, _ := session.Start(s, 1, nil)
	ses.RunToEnd()
	envs := ses.Trace().Envelopes()
	far := *envs[len(envs)-1]
	far.TS = far.TS.AddDate(250, 0, 0)
	_, err := session.Replay(append(envs[:len(envs)-1:len(envs)-1], &far), 0, "")
	if err == nil || !strings.Contains(err.Error(), "years apart") || !strings.Contains(err.Error(), "#1 ") {
		t.Fatalf("replay of a log spanning 250 years: %v", err)
	}
}

// The Dashboard shows the breaker state the breaker last announced, at every step.
func TestTheDashboardFollowsTheBreaker(t *testing.T) {
	s, _ := Get("circuit-breaker")
	ses, _ := session.Start(s, 42, nil)
	dash := ses.Run().World.App(Dashboard)
	want, seen := "", 0
	for ses.Step() {
		for _, e := range ses.Trace().Events(seen) {
			seen++
			if e.Kind == bus.TraceDelivered && e.App == Dashboard && e.Topic == "breaker.inventory.state" {
				var tr struct{ To string }
				_ = json.Unmarshal(e.Env.Payload, &tr)
				want = tr.To
			}
		}
		if got := dash.Get("breaker inventory"); want != "" && got != want {
			t.Fatalf("at +%v the Dashboard says %q, the breaker announced %q", ses.Elapsed(), got, want)
		}
	}
	if want == "" {
		t.Fatal("the breaker announced nothing")
	}
}
