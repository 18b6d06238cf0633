package ui

import (
	"os"
	"strings"
	"testing"
	"time"

	"mfelab/scenarios"
)

// edit rewrites the file at path with old replaced by new, and moves its time on so that
// a change is seen even where the clock is coarse.
func edit(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

// A file changed on disk while it is chosen is reloaded: the new content is what runs,
// with the run's seed and the knob values the user set, and the status line says so.
func TestAChangedScenarioFileIsReloadedKeepingSeedAndKnobs(t *testing.T) {
	l := newTestLab(t)
	path := exampleFile(t, "search-suggestions.yaml")
	l.openScenarioFile(path)
	l.seed = 7
	l.seedEntry.reset("7")
	k, _ := l.scenario.Knob("latency")
	l.setKnob(k, "200ms")
	l.step()
	before := l.ses

	l.checkScenarioFile()
	if l.ses != before {
		t.Fatal("an unchanged file restarted the run")
	}
	edit(t, path, "default: 150ms", "default: 40ms")             // a knob's default
	edit(t, path, "wrist rest', '", "wrist rest', 'sleeve for ") // a payload
	l.checkScenarioFile()
	if l.ses == before {
		t.Fatalf("the changed file was not reloaded (%s)", l.lastError)
	}
	knobs := l.ses.Run().Knobs
	if l.seed != 7 || l.ses.Run().Seed != 7 || knobs.Str("latency") != "200ms" || knobs.Str("debounce") != "40ms" {
		t.Fatalf("after the reload: seed %d, knobs %v", l.ses.Run().Seed, knobs)
	}
	if !strings.Contains(l.statusLbl.Text, "reloaded search-suggestions.yaml") {
		t.Fatalf("status %q", l.statusLbl.Text)
	}
	if l.knobEntries[1].Text != "200ms" || l.knobEntries[0].Text != "40ms" {
		t.Fatalf("knob fields show %q and %q", l.knobEntries[0].Text, l.knobEntries[1].Text)
	}
	l.runToEnd()
	if body := l.panels.cards["searchbox"].body.Text; !strings.Contains(body, "sleeve for keyboards") {
		t.Fatalf("the new payload is not in the search box panel:\n%s", body)
	}
	if !scenarios.Passed(l.ses.Checks()) {
		t.Fatalf("checks:\n%s", l.checks.Text)
	}
	// a knob value the new content no longer accepts is dropped for its default
	edit(t, path, "max: 500ms", "max: 150ms")
	edit(t, path, "samples: [200ms]", "samples: [100ms]")
	l.checkScenarioFile()
	if got := l.ses.Run().Knobs.Str("latency"); got != "30ms" {
		t.Fatalf("latency %s after its maximum fell below it", got)
	}
}

// A file that no longer loads is refused with one dialog naming each mistake by
// file:line:col, once it has stayed so for a second look; the run goes on as it was.
func TestAnInvalidScenarioFileIsRefusedAndTheRunKept(t *testing.T) {
	l := newTestLab(t)
	path := exampleFile(t, "search-suggestions.yaml")
	l.openScenarioFile(path)
	l.step()
	before, seen := l.ses, l.ses.Trace().Len()
	edit(t, path, "kind: duration", "kind: durations")
	l.checkScenarioFile() // it may be half written: no dialog yet
	if len(l.dialogs) != 0 {
		t.Fatalf("a dialog at the first look: %s", l.lastError)
	}
	l.checkScenarioFile()
	l.checkScenarioFile()
	if len(l.dialogs) != 1 {
		t.Fatalf("%d dialogs, want one", len(l.dialogs))
	}
	if !strings.Contains(l.lastError, "was not reloaded") || !strings.Contains(l.lastError, `search-suggestions.yaml:20:5: knob debounce: kind "durations"`) {
		t.Fatalf("dialog: %s", l.lastError)
	}
	if l.ses != before || l.ses.Trace().Len() != seen || l.scenario.Source != path {
		t.Fatal("the refused file changed the run")
	}
	l.dialogs[0].d.Hide()
	// fixed, it is reloaded at the next look
	edit(t, path, "kind: durations", "kind: duration")
	l.checkScenarioFile()
	if l.ses == before || len(l.dialogs) != 0 {
		t.Fatalf("the fixed file was not reloaded (%d dialogs)", len(l.dialogs))
	}
}
