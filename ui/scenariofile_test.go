package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"mfelab/scenarios"
)

// exampleFile copies the example scenario file name into a fresh directory, where a test
// may change it, and returns its path.
func exampleFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "scenarios", "files", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A scenario file opened as the File menu opens it joins the picker beside the built-in
// scenarios, marked as a file, shows its knobs, runs to its end and passes its checks.
func TestAnOpenedScenarioFileRunsAndPassesItsChecks(t *testing.T) {
	l := newTestLab(t)
	path := exampleFile(t, "search-suggestions.yaml")
	if !l.openScenarioFile(path) {
		t.Fatalf("the file did not open: %s", l.lastError)
	}
	label := "Search with debounced queries and recommendations behind a breaker (file search-suggestions.yaml)"
	if l.picker.Selected != label || !slices.Contains(l.picker.Options, label) {
		t.Fatalf("picker shows %q of %q", l.picker.Selected, l.picker.Options)
	}
	if n := len(l.picker.Options); n != len(scenarios.All())+1 {
		t.Fatalf("the picker has %d entries, want the %d built-in scenarios and the file", n, len(scenarios.All()))
	}
	if l.scenario.Source != path || len(l.knobBox.Objects) != 3 || len(l.set) != 0 {
		t.Fatalf("scenario from %q with %d knob editors and knobs %v", l.scenario.Source, len(l.knobBox.Objects), l.set)
	}
	if !strings.Contains(l.watch.Text, "debounce") {
		t.Fatalf("what to watch: %q", l.watch.Text)
	}
	l.runToEnd()
	if !scenarios.Passed(l.ses.Checks()) || !strings.Contains(l.checks.Text, "[ok]") || strings.Contains(l.checks.Text, "FAIL") {
		t.Fatalf("checks:\n%s", l.checks.Text)
	}
	if body := l.panels.cards["searchbox"].body.Text; !strings.Contains(body, "27 hits for keyboards") {
		t.Fatalf("search box panel:\n%s", body)
	}
	// picking a built-in scenario and the file again goes back and forth
	l.pick(t, "circuit-breaker")
	l.picker.SetSelected(label)
	if l.scenario.Source != path {
		t.Fatalf("picking the file again chose %q", l.scenario.ID)
	}
}

// A dialog lists the first ten mistakes and counts the rest.
func TestAFileWithManyMistakesListsTenAndCountsTheRest(t *testing.T) {
	l := newTestLab(t)
	var errs scenarios.FileErrors
	for i := range 14 {
		errs = append(errs, &scenarios.FileError{File: "/tmp/x/bad.yaml", Line: i + 1, Col: 3, Msg: fmt.Sprintf("mistake %d", i)})
	}
	l.showFileErrors("Cannot open bad.yaml", "/tmp/x/bad.yaml", errs, "The run goes on.")
	if !strings.Contains(l.lastError, "bad.yaml:10:3: mistake 9\n… and 4 more") || strings.Contains(l.lastError, "mistake 10") {
		t.Fatalf("dialog: %s", l.lastError)
	}
}

// The files opened last come back in the picker at the next start; one that no longer
// loads is left out with a note, and the file chosen last is chosen again.
func TestOpenedScenarioFilesAreRememberedForTheNextStart(t *testing.T) {
	a := test.NewApp()
	t.Cleanup(a.Quit)
	search := exampleFile(t, "search-suggestions.yaml")
	breaker := exampleFile(t, "circuit-breaker.yaml")
	l := newLab(test.NewWindow(nil), Options{})
	l.openScenarioFile(breaker)
	l.openScenarioFile(search)
	l.close()
	if err := os.WriteFile(breaker, []byte("id: [broken\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	next := newLab(test.NewWindow(nil), Options{Scenario: a.Preferences().String(prefScenario)})
	t.Cleanup(next.close)
	if next.scenario.Source != search {
		t.Fatalf("the new lab opened %q, not the file chosen last", next.scenario.ID)
	}
	var files []string
	for _, o := range next.picker.Options {
		if strings.Contains(o, "(file ") {
			files = append(files, o)
		}
	}
	if len(files) != 1 || !strings.HasSuffix(files[0], "(file search-suggestions.yaml)") {
		t.Fatalf("files in the picker: %q", files)
	}
	if !strings.Contains(next.statusLbl.Text, "circuit-breaker.yaml no longer loaded") || len(next.dialogs) != 0 {
		t.Fatalf("status %q, %d dialogs", next.statusLbl.Text, len(next.dialogs))
	}
	if got := a.Preferences().StringList(prefScenarioFiles); !slices.Equal(got, []string{search}) {
		t.Fatalf("remembered %q", got)
	}
}

// The command line's -scenario with a file's path opens it with the knobs given.
func TestTheScenarioOptionOpensAFile(t *testing.T) {
	a := test.NewApp()
	t.Cleanup(a.Quit)
	path := exampleFile(t, "search-suggestions.yaml")
	l := newLab(test.NewWindow(nil), Options{Scenario: path, Knobs: scenarios.Values{"recommendations": "down"}})
	t.Cleanup(l.close)
	if l.scenario.Source != path || l.ses.Run().Knobs.Str("recommendations") != "down" {
		t.Fatalf("opened %q with %v", l.scenario.Source, l.ses.Run().Knobs)
	}
	l.runToEnd()
	if !scenarios.Passed(l.ses.Checks()) {
		t.Fatalf("checks:\n%s", l.checks.Text)
	}
}

// A file scenario on screen can be compared with a fresh run of itself under other knobs:
// the compare dialog offers the picker's files too.
func TestAFileScenarioComparesWithItselfUnderOtherKnobs(t *testing.T) {
	l := newTestLab(t)
	path := exampleFile(t, "search-suggestions.yaml")
	l.openScenarioFile(path)
	l.runToEnd()
	l.compareFresh(fileLabel(l.scenario), "recommendations=down", "42")
	if l.compare == nil {
		t.Fatalf("no compare window; the last error: %s", l.lastError)
	}
	if b := l.compare.c.B.Name; !strings.Contains(b, "search-suggestions") || !strings.Contains(b, "recommendations=down") {
		t.Fatalf("run B is %q", b)
	}
	if l.compare.c.Alike == 0 || l.compare.c.OnlyA+l.compare.c.OnlyB+l.compare.c.Changed == 0 {
		c := l.compare.c
		t.Fatalf("the runs compare as %d alike, %d changed, %d in A only, %d in B only", c.Alike, c.Changed, c.OnlyA, c.OnlyB)
	}
}
