package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A run of a scenario file, recorded and picked in the History tab, is time travelled by
// running the file again to that moment, as a built-in scenario is: the session is a live
// run of the file, not a replay, and it runs on to the original's end. A file changed since
// so that the run parts from the recording is replayed instead, with a word why.
func TestTimeTravelRerunsARecordedScenarioFileRun(t *testing.T) {
	l := newTestLab(t)
	l.openStore(filepath.Join(t.TempDir(), "h.db"))
	path := exampleFile(t, "search-suggestions.yaml")
	if !l.openScenarioFile(path) {
		t.Fatalf("the file did not open: %s", l.lastError)
	}
	l.stepAct()
	l.ses.RunToEnd()
	l.refresh()
	total := l.ses.Trace().Messages()
	l.reset() // ends the recording
	h := l.hist
	if len(h.runs.Options) != 1 {
		t.Fatalf("recorded runs %v", h.runs.Options)
	}
	h.runs.SetSelected(h.runs.Options[0])
	at := len(h.envs) / 2
	h.slider.SetValue(float64(at))
	h.travel()
	if l.ses.IsReplay() || l.ses.Scenario().Source != path {
		t.Fatalf("time travel of a file run gave a replay %v of %q (%s)", l.ses.IsReplay(), l.ses.Scenario().Source, l.lastError)
	}
	if !strings.Contains(l.picker.Selected, "search-suggestions.yaml") {
		t.Fatalf("the picker shows %q", l.picker.Selected)
	}
	if got := l.ses.Trace().Messages(); got < at+1 || got > at+3 {
		t.Fatalf("time travel to message %d shows %d messages", at+1, got)
	}
	l.ses.RunToEnd()
	if got := l.ses.Trace().Messages(); got != total {
		t.Fatalf("running on ends with %d messages, the original with %d", got, total)
	}
	l.reset()

	// the file changes what the run does: the recording cannot be retraced
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(data), "word: keyboard", "word: keybored", 1)
	if changed == string(data) {
		t.Fatal("the example no longer types keyboard; change another line")
	}
	if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	h.runs.SetSelected(h.runs.Options[len(h.runs.Options)-1])
	h.slider.SetValue(float64(at))
	h.travel()
	if !l.ses.IsReplay() || !strings.Contains(l.lastInfo, "replays the log") {
		t.Fatalf("after the file changed: replay %v, said %q", l.ses.IsReplay(), l.lastInfo)
	}
}
