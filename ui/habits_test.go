package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mfelab/bus"
)

// Resting the pointer on a transport button shows what it does and its shortcut; leaving
// it takes the tip away.
func TestTransportButtonsNameTheirShortcuts(t *testing.T) {
	l := newTestLab(t)
	l.win.Resize(fyne.NewSize(1440, 900))
	buttons := []*tipButton{l.runBtn}
	for _, o := range test.LaidOutObjects(l.win.Content()) {
		if b, ok := o.(*tipButton); ok && b != l.runBtn {
			buttons = append(buttons, b)
		}
	}
	for _, want := range []string{"Ctrl+Space", "Ctrl+Right", "Ctrl+Down", "Ctrl+R"} {
		found := false
		for _, b := range buttons {
			found = found || strings.Contains(b.tip, want)
		}
		if !found {
			t.Errorf("no button's tip names %s", want)
		}
	}
	l.runBtn.showTip()
	if !l.tips.box.Visible() || !strings.Contains(l.tips.text.Text, "Ctrl+Space") {
		t.Fatalf("the Run button's tip: shown %v, %q", l.tips.box.Visible(), l.tips.text.Text)
	}
	if p := l.tips.box.Position(); p.Y < l.runBtn.Position().Y {
		t.Fatalf("the tip is at %v, above the button", p)
	}
	l.runBtn.MouseOut()
	if l.tips.box.Visible() {
		t.Fatal("the tip stays after the pointer left")
	}
}

// Esc closes a dialog as Cancel or Close would; Enter presses its default button.
func TestDialogsAnswerEscAndEnter(t *testing.T) {
	l := newTestLab(t)
	yes := false
	l.ask("Retry?", "It is delivered again.", func() { yes = true })
	if !l.dialogKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) || !yes || len(l.dialogs) != 0 {
		t.Fatalf("Enter: confirmed %v, %d dialogs open", yes, len(l.dialogs))
	}
	yes = false
	l.ask("Purge?", "Gone for good.", func() { yes = true })
	l.info("Exported", "Wrote 3 messages")
	l.dialogKey(&fyne.KeyEvent{Name: fyne.KeyEscape}) // the newest first
	if len(l.dialogs) != 1 {
		t.Fatalf("Esc closed %d dialogs", 2-len(l.dialogs))
	}
	l.dialogKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if yes || len(l.dialogs) != 0 || l.win.Canvas().Overlays().Top() != nil {
		t.Fatalf("Esc: confirmed %v, %d dialogs open", yes, len(l.dialogs))
	}
	if l.dialogKey(&fyne.KeyEvent{Name: fyne.KeyEscape}) {
		t.Fatal("Esc with no dialog open was taken")
	}
	l.showError("Cannot open", os.ErrNotExist)
	l.dialogKey(&fyne.KeyEvent{Name: fyne.KeyEnter})
	if len(l.dialogs) != 0 {
		t.Fatal("Enter did not close the error")
	}
}

// A first launch says where to start, until the first step; a later launch does not.
func TestTheFirstLaunchSaysWhereToStart(t *testing.T) {
	l := newTestLab(t)
	if !l.hint.Visible() || !strings.Contains(l.hint.Text, "Step") {
		t.Fatalf("first launch: hint shown %v", l.hint.Visible())
	}
	l.step()
	if l.hint.Visible() {
		t.Fatal("the hint stays after the first step")
	}
	again := newLab(test.NewWindow(nil), Options{Version: "test"})
	t.Cleanup(again.close)
	if again.hint.Visible() {
		t.Fatal("the hint shows on a later launch")
	}
}

// Exporting a run with no messages says so and writes no file.
func TestExportingAnEmptyRunWritesNothing(t *testing.T) {
	l := newTestLab(t)
	if l.ses.Trace().Messages() != 0 {
		t.Skip("the scenario publishes at its start")
	}
	l.showExport()
	if len(l.dialogs) != 1 {
		t.Fatalf("%d dialogs open", len(l.dialogs))
	}
	l.dialogKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if len(l.dialogs) != 0 {
		t.Fatal("the note did not close")
	}
	path := filepath.Join(t.TempDir(), "empty.csv")
	if err := os.WriteFile(path, nil, 0o644); err != nil { // as the file dialog leaves it
		t.Fatal(err)
	}
	removeIfEmpty(path)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the empty file stays: %v", err)
	}
}

// The picture of the diagram is the same whatever row is selected in the window.
func TestThePictureOfTheDiagramLeavesOutTheSelection(t *testing.T) {
	l := newTestLab(t)
	l.ses.RunToEnd()
	l.refresh()
	dir := t.TempDir()
	plain, picked := filepath.Join(dir, "plain.png"), filepath.Join(dir, "picked.png")
	if _, err := l.exportRun(plain, pngFormat); err != nil {
		t.Fatal(err)
	}
	l.selectArrow(2)
	if l.flow.selected != 2 {
		t.Fatalf("selected %d", l.flow.selected)
	}
	if _, err := l.exportRun(picked, pngFormat); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(plain)
	b, _ := os.ReadFile(picked)
	if !bytes.Equal(a, b) {
		t.Fatal("the picture shows the selected row")
	}
}

// The perf line gives heap per message only once enough messages are held for it to
// mean something.
func TestThePerfLineGivesHeapPerMessageOnlyWhenItMeansSomething(t *testing.T) {
	if got := heapFigure(65_075_007, 3); got != "62.1 MiB heap" {
		t.Fatalf("3 messages: %q", got)
	}
	if got := heapFigure(300_000_000, 1_000_000); got != "300 heap bytes/message" {
		t.Fatalf("a million messages: %q", got)
	}
}

// Retrying a dead letter in a finished run delivers it at once: the log shows the new
// attempt without pressing Run.
func TestRetryingADeadLetterDeliversItAtOnce(t *testing.T) {
	l := newTestLab(t)
	l.pick(t, "retry-dlq-idempotency")
	l.runToEnd()
	l.refresh()
	if !l.ses.Finished() {
		t.Fatal("the run did not finish")
	}
	held := l.ses.Run().DLQ.List()
	if len(held) == 0 {
		t.Fatal("no dead letters")
	}
	before := l.ses.Trace().Len()
	e := held[0]
	if err := l.ses.Run().DLQ.Retry(e.ID); err != nil {
		t.Fatal(err)
	}
	l.deliverRetried([]string{e.Envelope.ID.String()})
	delivered := false
	tr := l.ses.Trace()
	for i := before; i < tr.Len(); i++ {
		ev := tr.Event(i)
		delivered = delivered || ev.Kind == bus.TraceDelivered && ev.Env != nil && ev.Env.ID == e.Envelope.ID
	}
	if !delivered {
		t.Fatalf("the retry of #%d was not delivered; %d events since", e.Envelope.Seq, tr.Len()-before)
	}
	if l.seen != tr.Len() {
		t.Fatal("the log does not show the retry")
	}
}

// The inspector wraps between words, breaking a word only when it is longer than a line
// (an ID), so "inspect it" never reads "inspec t it".
func TestTheInspectorWrapsBetweenWords(t *testing.T) {
	l := newTestLab(t)
	if l.log.inspector.Wrapping != fyne.TextWrapWord {
		t.Fatalf("the inspector wraps with %v", l.log.inspector.Wrapping)
	}
}

// Travel here waits for a run to be picked, and until then the tab says how it is used.
func TestTravelHereWaitsForARun(t *testing.T) {
	l := newTestLab(t)
	l.openStore(filepath.Join(t.TempDir(), "h.db"))
	l.runToEnd()
	l.reset() // the run is recorded and listed
	l.showHistory()
	h := l.hist
	if !h.travelB.Disabled() || h.at.Text != pickHint {
		t.Fatalf("before a pick: travel disabled %v, %q", h.travelB.Disabled(), h.at.Text)
	}
	if len(h.runs.Options) == 0 {
		t.Fatal("no run listed")
	}
	h.runs.SetSelected(h.runs.Options[0])
	if h.travelB.Disabled() || !strings.Contains(h.at.Text, "at #") {
		t.Fatalf("after a pick: travel disabled %v, %q", h.travelB.Disabled(), h.at.Text)
	}
	h.pattern.SetText("no.such.topic")
	h.load()
	if !h.travelB.Disabled() || !strings.Contains(h.at.Text, "passes the filter") {
		t.Fatalf("with nothing shown: travel disabled %v, %q", h.travelB.Disabled(), h.at.Text)
	}
}

// A value typed out of its knob's range says what is wrong under the field, not only
// with a red mark, and the note goes once the value is valid again.
func TestAnOutOfRangeKnobValueSaysWhy(t *testing.T) {
	l := newTestLab(t) // checkout-orchestrated: latency 0s..1s
	note := func() string {
		for _, o := range test.LaidOutObjects(l.knobBox) {
			if lbl, ok := o.(*widget.Label); ok && lbl.Importance == widget.DangerImportance && lbl.Visible() {
				return lbl.Text
			}
		}
		return ""
	}
	l.knobEntries[0].SetText("5s")
	if got := note(); !strings.Contains(got, "1s") {
		t.Fatalf("the note under an out-of-range value reads %q", got)
	}
	l.knobEntries[0].SetText("300ms")
	if got := note(); got != "" {
		t.Fatalf("a valid value still has the note %q", got)
	}
}
