package session

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"mfelab/bus"
	"mfelab/history"
	"mfelab/scenarios"
)

func openStore(t *testing.T) *history.Store {
	t.Helper()
	st, err := history.Open(filepath.Join(t.TempDir(), "history.db"), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// recordRun runs a scenario to its end, recording it into st as the window does.
func recordRun(t *testing.T, st *history.Store, s *scenarios.Scenario, seed uint64, knobs scenarios.Values) (*Session, history.RunInfo) {
	t.Helper()
	ses, err := Start(s, seed, knobs)
	if err != nil {
		t.Fatal(err)
	}
	ses.Step() // the window records a run from its first move: setup events must come along
	if _, err := ses.Record(st); err != nil {
		t.Fatal(err)
	}
	ses.RunToEnd()
	if err := ses.Close(); err != nil {
		t.Fatal(err)
	}
	info, _ := ses.Recording()
	return ses, info
}

// Every scenario at one seed, twice over, recorded into one file: every message of every
// run reads back, and each run's record says what it was.
func TestRunsRecordedIntoOneFileKeepEveryMessage(t *testing.T) {
	st := openStore(t)
	want := map[string]int{}
	for range 2 {
		for _, s := range scenarios.All() {
			ses, info := recordRun(t, st, s, 42, nil)
			want[info.ID] = ses.Trace().Messages()
			if info.Scenario != s.ID || info.Seed != 42 || info.Outcome != history.OutcomePassed {
				t.Fatalf("run record %+v", info)
			}
		}
	}
	runs, err := st.Runs()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2*len(scenarios.All()) {
		t.Fatalf("%d runs listed, want %d", len(runs), 2*len(scenarios.All()))
	}
	total := 0
	for i, r := range runs {
		if i > 0 && r.ID >= runs[i-1].ID {
			t.Fatalf("runs not newest first: %s after %s", r.ID, runs[i-1].ID)
		}
		ns, err := st.In(r.ID)
		if err != nil {
			t.Fatal(err)
		}
		envs, err := ns.Query(history.Query{})
		ns.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(envs) != want[r.ID] || int(r.Messages) != want[r.ID] {
			t.Errorf("%s (%s): %d messages read back, %d in its record, %d published", r.ID, r.Scenario, len(envs), r.Messages, want[r.ID])
		}
		total += len(envs)
	}
	if total == 0 {
		t.Fatal("nothing recorded")
	}
}

// failureKnobs are the knob settings that make each scenario go wrong in its own way.
func failureKnobs(s *scenarios.Scenario) []scenarios.Values {
	out := []scenarios.Values{nil}
	for _, k := range s.Knobs {
		if k.Kind != scenarios.Choice {
			continue
		}
		for _, c := range k.Choices {
			if c != k.Default {
				out = append(out, scenarios.Values{k.Name: c})
			}
		}
	}
	return out
}

func mermaidOf(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// What the window draws is what the Mermaid export writes, arrow for arrow: for the run
// on screen, and for the same run read back from the history file, as the command line
// exports it.
func TestTheWindowsArrowsAreTheMermaidExportsArrows(t *testing.T) {
	st := openStore(t)
	dir := t.TempDir()
	for _, s := range scenarios.All() {
		if s.ID == "load" {
			continue // thousands of plain events: nothing to classify that others lack
		}
		for _, knobs := range failureKnobs(s) {
			t.Run(s.ID+" "+knobs.String(), func(t *testing.T) {
				ses, info := recordRun(t, st, s, 42, knobs)
				d := ses.Trace().Diagram()
				screen := []string{"sequenceDiagram"}
				for i, app := range d.Apps() {
					screen = append(screen, "    participant p"+strconv.Itoa(i+1)+" as "+app)
				}
				for _, a := range d.Arrows(0, d.Len()) {
					screen = append(screen, MermaidLine(a))
				}
				live := filepath.Join(dir, info.ID+"-live.mmd")
				if _, err := ses.Export(live, history.Mermaid); err != nil {
					t.Fatal(err)
				}
				stored := filepath.Join(dir, info.ID+"-stored.mmd")
				if _, _, err := ExportRun(st, info.ID, stored, history.Mermaid, history.Query{}); err != nil {
					t.Fatal(err)
				}
				for name, got := range map[string][]string{"export of the run on screen": mermaidOf(t, live), "export of the recorded run": mermaidOf(t, stored)} {
					if strings.Join(got, "\n") != strings.Join(screen, "\n") {
						for i := range min(len(got), len(screen)) {
							if got[i] != screen[i] {
								t.Fatalf("%s differs from the screen at line %d:\n got  %s\n want %s", name, i+1, got[i], screen[i])
							}
						}
						t.Fatalf("%s has %d lines, the screen %d", name, len(got), len(screen))
					}
				}
				if d.Len() == 0 {
					t.Fatal("no arrows")
				}
			})
		}
	}
}

// Time travel to message k of a recorded run gives the panels and trace of the original
// at that moment, and running on gives the original's end, deliveries and all.
func TestRewindRetracesARecordedRun(t *testing.T) {
	st := openStore(t)
	s, _ := scenarios.Get("checkout-orchestrated")
	knobs := scenarios.Values{"fail": "ship"}
	orig, info := recordRun(t, st, s, 42, knobs)
	ns, _ := st.In(info.ID)
	recorded, err := ns.Query(history.Query{})
	ns.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{0, 1, 9, len(recorded)} {
		ses, err := Rewind(s, info.Seed, scenarios.Values(info.Knobs), recorded, k, "")
		if err != nil {
			t.Fatal(err)
		}
		// one event can publish several messages: it stops after the one that publishes k
		if n := ses.Trace().Messages(); n < k || n > k+2 {
			t.Fatalf("rewound to %d messages, holds %d", k, n)
		}
		ses.RunToEnd()
		if a, b := fingerprint(t, ses), fingerprint(t, orig); a != b {
			t.Fatalf("running on from message %d does not end as the original did", k)
		}
		if orig.Run().World.App(scenarios.Inventory).Get("stock keyboard") != ses.Run().World.App(scenarios.Inventory).Get("stock keyboard") {
			t.Fatal("the panels differ")
		}
	}
	// a run changed by hand cannot be retraced
	other := append([]*bus.Envelope(nil), recorded...)
	changed := *other[3]
	changed.ID[15] ^= 1
	other[3] = &changed
	if _, err := Rewind(s, info.Seed, scenarios.Values(info.Knobs), other, 5, ""); !errors.Is(err, ErrDiverged) {
		t.Fatalf("a diverging recording rewound: %v", err)
	}
}
