package session

import (
	"slices"
	"testing"

	"mfelab/scenarios"
)

// A listener hears of changes once per batch, never waits the run, and hears nothing
// while nothing happens.
func TestTheChangeSignal(t *testing.T) {
	start := func(t *testing.T) (*Session, chan struct{}) {
		t.Helper()
		s, err := scenarios.Get("checkout-orchestrated")
		if err != nil {
			t.Fatal(err)
		}
		ses, err := Start(s, 42, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ses.Close() })
		ch := make(chan struct{}, 1)
		ses.Notify(ch)
		return ses, ch
	}
	pending := func(ch chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	tests := []struct {
		name    string
		act     func(*Session)
		signals bool
		counts  bool // Changes moves
	}{
		{"a paused run that is left alone signals nothing", func(*Session) {}, false, false},
		{"a step signals", func(s *Session) { s.Step() }, true, true},
		{"a whole run's events wait as one signal", func(s *Session) { s.RunToEnd() }, true, true},
		{"a function posted to the loop signals once it has run", func(s *Session) { s.Post(func() {}) }, true, true},
		{"a closed session signals nothing more", func(s *Session) { _ = s.Close(); s.run.Step() }, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ses, ch := start(t)
			before := ses.Changes()
			tc.act(ses)
			if got := pending(ch); got != tc.signals {
				t.Fatalf("signalled %v, want %v", got, tc.signals)
			}
			if pending(ch) {
				t.Fatal("a second signal waits: signals did not coalesce")
			}
			if moved := ses.Changes() != before; moved != tc.counts {
				t.Fatalf("Changes moved %v (%d to %d), want %v", moved, before, ses.Changes(), tc.counts)
			}
		})
	}
}

// ActiveApps names each app that acted in a stretch of the trace once, as reading every
// event would find them.
func TestActiveAppsAreTheAppsOfAStretchOfTheTrace(t *testing.T) {
	s, err := scenarios.Get("checkout-orchestrated")
	if err != nil {
		t.Fatal(err)
	}
	ses, err := Start(s, 42, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ses.Close()
	ses.RunToEnd()
	tr := ses.Trace()
	n := tr.Len()
	tests := []struct {
		name     string
		from, to int
	}{
		{"nothing", 5, 5},
		{"the first event", 0, 1},
		{"a stretch in the middle", n / 3, 2 * n / 3},
		{"the whole run", 0, n},
		{"past the end", n - 2, n + 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			seen := map[string]bool{}
			for i := tc.from; i < min(tc.to, n); i++ {
				if a := tr.Event(i).App; !seen[a] {
					seen[a] = true
					want = append(want, a)
				}
			}
			if got := tr.ActiveApps(tc.from, tc.to); !slices.Equal(got, want) {
				t.Fatalf("ActiveApps(%d, %d) = %v, want %v", tc.from, tc.to, got, want)
			}
		})
	}
}
