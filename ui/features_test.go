package ui

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mfelab/bus"
	"mfelab/history"
	"mfelab/session"
)

func TestExportTheRunAndAPictureOfTheDiagram(t *testing.T) {
	l := newTestLab(t)
	l.ses.RunToEnd()
	l.refresh()
	dir := t.TempDir()
	for _, f := range []history.Format{history.NDJSON, history.CloudEvents, history.CSV, history.Mermaid} {
		path := filepath.Join(dir, "run."+string(f))
		n, err := l.exportRun(path, f)
		want := l.ses.Trace().Messages()
		if f == history.Mermaid {
			want = l.ses.Trace().Diagram().Len() // an arrow per row of the diagram
		}
		if err != nil || n != want {
			t.Fatalf("%s: wrote %d of %d: %v", f, n, want, err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	path := filepath.Join(dir, "flow.png")
	rows, err := l.exportRun(path, pngFormat)
	if err != nil || rows != l.ses.Trace().Diagram().Len() {
		t.Fatalf("png: %d rows of %d: %v", rows, l.ses.Trace().Diagram().Len(), err)
	}
	fh, _ := os.Open(path)
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dy() < rows*flowRow || b.Dx() < 600 {
		t.Fatalf("picture is %v for %d rows", b, rows)
	}
}

func TestShowInDiagramAndTheStatusFilter(t *testing.T) {
	l := newTestLab(t)
	k, _ := l.scenario.Knob("fail")
	l.setKnob(k, "charge")
	l.ses.RunToEnd()
	l.refresh()
	row := -1
	for n, e := range l.shownEvents() {
		if e.Kind == bus.TraceDelivered && e.Topic == "inventory.release" {
			row = n
		}
	}
	if row < 0 {
		t.Fatal("no delivery of inventory.release")
	}
	l.log.list.Select(row)
	l.showInDiagram()
	a := l.ses.Trace().Diagram().Arrow(l.flow.selected)
	if a.Kind != session.ArrowCompensation || a.Topic != "inventory.release" || l.flow.follow {
		t.Fatalf("diagram shows %+v (follow %v)", a, l.flow.follow)
	}
	if l.flow.selected < l.flow.top || l.flow.selected >= l.flow.top+l.flow.visibleRows() {
		t.Fatalf("row %d is outside the window from %d", l.flow.selected, l.flow.top)
	}
	// clicking an arrow inspects its message
	l.selectArrow(0)
	if !strings.Contains(l.log.inspector.Text, l.ses.Trace().Diagram().Arrow(0).Topic) {
		t.Fatalf("inspector after clicking row 0:\n%s", l.log.inspector.Text)
	}
	all := l.log.len()
	l.log.status = bus.TraceDelivered
	l.log.apply()
	if l.log.len() == 0 || l.log.len() == all {
		t.Fatalf("the status filter kept %d of %d", l.log.len(), all)
	}
	for _, e := range l.shownEvents() {
		if e.Kind != bus.TraceDelivered {
			t.Fatalf("status filter let %s through", e.Kind)
		}
	}
}

func TestRetryOneDeadLetter(t *testing.T) {
	l := newTestLab(t)
	l.pick(t, "retry-dlq-idempotency")
	l.ses.Run().Bus.RunFor(time.Second)
	l.refresh()
	if len(l.views.deadRows) != 2 {
		t.Fatalf("dead rows %+v", l.views.deadRows)
	}
	id := l.views.deadRows[1].entry.ID
	if err := l.ses.Run().DLQ.Retry(id); err != nil {
		t.Fatal(err)
	}
	l.ses.Run().Bus.RunFor(10 * time.Millisecond)
	l.refresh()
	// the poison message fails again and comes back as a new entry
	if len(l.views.deadRows) != 2 || l.views.deadRows[1].entry.ID == id || l.views.deadRows[1].entry.Attempts != 2 {
		t.Fatalf("after retrying one: %+v", l.views.deadRows)
	}
}

func TestRunsAreRecordedAndTimeTravelRebuildsThePanels(t *testing.T) {
	l := newTestLab(t)
	l.openStore(filepath.Join(t.TempDir(), "h.db"))
	if l.store == nil {
		t.Fatalf("store did not open: %s", l.lastError)
	}
	l.stepAct()
	l.stepAct()
	l.ses.RunToEnd()
	l.refresh()
	final := l.panels.cards["inventory"].body.Text
	finalPay := l.panels.cards["payment"].body.Text
	h := l.hist
	l.lowerTabs.SelectIndex(1) // the History tab lists the run while it is still being recorded
	if len(h.runs.Options) != 1 {
		t.Fatalf("History tab of a finished run lists %v", h.runs.Options)
	}
	l.reset() // ends the recording
	if len(h.runs.Options) != 1 || !strings.Contains(h.runs.Options[0], "checkout-orchestrated seed 42") {
		t.Fatalf("recorded runs %v", h.runs.Options)
	}
	h.runs.SetSelected(h.runs.Options[0])
	if len(h.envs) < 10 {
		t.Fatalf("loaded %d messages", len(h.envs))
	}
	// travel to just after the reservation reply
	at := -1
	for i, e := range h.envs {
		if e.Topic == "inventory.reserve.reply.cart" {
			at = i
		}
	}
	h.slider.SetValue(float64(at))
	h.travel()
	if l.ses.Scenario().ID != "checkout-orchestrated" || !strings.Contains(l.statusLbl.Text, "time travel") {
		t.Fatalf("after travel: %s %q", l.ses.Scenario().ID, l.statusLbl.Text)
	}
	if got := l.ses.Trace().Messages(); got != at+1 {
		t.Fatalf("time travel to message %d shows %d messages", at+1, got)
	}
	if l.picker.Selected != l.ses.Scenario().Title || l.seedEntry.Text != "42" {
		t.Fatalf("the controls show %q seed %s", l.picker.Selected, l.seedEntry.Text)
	}
	if inv, pay := l.panels.cards["inventory"].body.Text, l.panels.cards["payment"].body.Text; !strings.Contains(inv, "reserved") || pay == finalPay {
		t.Fatalf("the panels just after the reservation:\n%s\n%s", inv, pay)
	}
	// and the run goes on from there, delivering as the original did
	l.ses.RunToEnd()
	l.refresh()
	if l.ses.Trace().Messages() != len(h.envs) {
		t.Fatalf("the run went on to %d messages of %d", l.ses.Trace().Messages(), len(h.envs))
	}
	if got, pay := l.panels.cards["inventory"].body.Text, l.panels.cards["payment"].body.Text; got != final || pay != finalPay {
		t.Fatalf("after running on, the panels show\n%s\n%s\nthe original ended with\n%s\n%s", got, pay, final, finalPay)
	}
	delivered := 0
	for _, e := range l.shownEvents() {
		if e.Kind == bus.TraceDelivered {
			delivered++
		}
	}
	if delivered == 0 {
		t.Fatal("running on after time travel shows no deliveries")
	}
	// the time range narrows the browser to the messages from 0.14s on
	h.span.SetText("140ms..")
	h.load()
	if len(h.envs) == 0 || h.envs[0].TS.Sub(l.ses.Trace().Epoch()) < 0 {
		t.Fatalf("time range kept %d", len(h.envs))
	}
	for _, e := range h.envs {
		if e.Seq < 8 {
			t.Fatalf("time range 140ms.. let #%d %s through", e.Seq, e.Topic)
		}
	}
	h.span.SetText("3s..1s")
	h.load()
	if !strings.Contains(l.lastError, "Not a time range") {
		t.Fatalf("bad range: %q", l.lastError)
	}
	h.span.SetText("")
	// the filter narrows the browser
	h.pattern.SetText("payment.#")
	h.load()
	for _, e := range h.envs {
		if !strings.HasPrefix(e.Topic, "payment.") {
			t.Fatalf("filter let %s through", e.Topic)
		}
	}
}

func TestImportOpensPausedAndReportsBadLines(t *testing.T) {
	l := newTestLab(t)
	l.ses.RunToEnd()
	path := filepath.Join(t.TempDir(), "run.ndjson")
	if _, err := l.exportRun(path, history.NDJSON); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	data = append([]byte("this is not json\n"), data...)
	l.hist.importData("run.ndjson", data)
	if l.ses.Scenario().ID != "replay" || l.ses.Trace().Messages() != 1 || !strings.Contains(l.statusLbl.Text, "paused") {
		t.Fatalf("import opened %s with %d messages: %q", l.ses.Scenario().ID, l.ses.Trace().Messages(), l.statusLbl.Text)
	}
	if l.ses.Trace().Diagram().Len() != 1 {
		t.Fatalf("diagram of an import shows %d rows", l.ses.Trace().Diagram().Len())
	}
	l.hist.importData("empty.ndjson", []byte("nope\n"))
	if !strings.Contains(l.lastError, "Cannot import empty.ndjson") || !strings.Contains(l.lastError, "line 1") {
		t.Fatalf("error for a bad file: %q", l.lastError)
	}
}

func TestALockedStoreIsReportedAndTheAppGoesOn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	held, err := history.Open(path, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	// another handle on the file, as another process would hold it
	l := newTestLab(t)
	l.openStore(path)
	if l.store != nil || !strings.Contains(l.lastError, "Cannot open the history file") || !strings.Contains(l.lastError, path) {
		t.Fatalf("store %v, error %q", l.store, l.lastError)
	}
	l.step() // runs go on without recording
	if l.ses.Trace().Len() == 0 {
		t.Fatal("the run did not step")
	}
}
