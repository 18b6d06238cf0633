package ui

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mfelab/history"
	"mfelab/scenarios"
	"mfelab/session"
)

// loadExport writes the NDJSON export of a run of the load scenario with n messages (a
// multiple of 80): eight apps ticking 10,000 times a second for n/80 ms.
func loadExport(t *testing.T, n int) string {
	t.Helper()
	s, _ := scenarios.Get("load")
	ses, err := session.Start(s, 42, scenarios.Values{"apps": "8", "rate": "10000", "duration": strconv.Itoa(n/80) + "ms"})
	if err != nil {
		t.Fatal(err)
	}
	defer ses.Close()
	ses.RunToEnd()
	path := filepath.Join(t.TempDir(), "load.ndjson")
	if got, err := ses.Export(path, history.NDJSON); err != nil || got != n {
		t.Fatalf("exported %d of %d: %v", got, n, err)
	}
	return path
}

// gatedFile reads a file, stopping once past half of it until released: an import
// caught in the middle.
type gatedFile struct {
	f        *os.File
	half     int64
	read     int64
	stopped  bool
	reached  chan struct{}
	released chan struct{}
}

func (g *gatedFile) Read(p []byte) (int, error) {
	if g.read >= g.half && !g.stopped {
		g.stopped = true
		close(g.reached)
		<-g.released
	}
	n, err := g.f.Read(p)
	g.read += int64(n)
	return n, err
}

func (g *gatedFile) Close() error { return g.f.Close() }

func TestCancellingAnImportMidwayLeavesTheRunOnScreen(t *testing.T) {
	l := newTestLab(t)
	l.openStore(filepath.Join(t.TempDir(), "history.db"))
	path := loadExport(t, 50_000)
	l.ses.RunToEnd()
	l.refresh()
	before, status := l.ses, l.statusLbl.Text
	runs, _ := l.store.Runs()

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := f.Stat()
	g := &gatedFile{f: f, half: info.Size() / 2, reached: make(chan struct{}), released: make(chan struct{})}
	j := l.hist.startImport("load.ndjson", g, info.Size())
	if j == nil {
		t.Fatal("the import did not start")
	}
	<-g.reached // the import is half way, and the window is not waiting for it
	if j.bar.Value <= 0 || j.bar.Value >= 1 || !strings.Contains(j.what.Text, "messages so far") {
		t.Fatalf("half way, the dialog shows %.2f and %q", j.bar.Value, j.what.Text)
	}
	if again := l.hist.startImport("other.ndjson", io.NopCloser(strings.NewReader("")), 0); again != nil {
		t.Fatal("a second import started beside the first")
	}
	test.Tap(j.stopB)
	if j.what.Text != "Stopping…" || !j.stopB.Disabled() {
		t.Fatalf("after Cancel the dialog says %q", j.what.Text)
	}
	close(g.released)
	j.wait()

	if l.ses != before || l.statusLbl.Text != status || l.hist.importing != nil {
		t.Fatalf("after a cancelled import the window shows %s: %q", l.ses.Scenario().ID, l.statusLbl.Text)
	}
	if !strings.Contains(l.lastError, "An import is running") && l.lastError != "" {
		t.Fatalf("a cancelled import reported %q", l.lastError)
	}
	if after, _ := l.store.Runs(); len(after) != len(runs) {
		t.Fatalf("%d runs recorded before and %d after an import cancelled while reading", len(runs), len(after))
	}
	for _, d := range l.dialogs {
		if d.d == j.dlg {
			t.Fatal("the progress dialog is still open")
		}
	}

	// the same file, let through, opens paused at its first message and is stored
	f, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	j = l.hist.startImport("load.ndjson", f, info.Size())
	j.wait()
	if !l.ses.IsReplay() || l.ses.Trace().Messages() != 1 || !strings.Contains(l.statusLbl.Text, "49999 pending") {
		t.Fatalf("the import opened %s with %d messages: %q", l.ses.Scenario().ID, l.ses.Trace().Messages(), l.statusLbl.Text)
	}
	stored, err := l.store.Run(l.hist.ns)
	if err != nil || stored.Messages != 50_000 || stored.Outcome != history.OutcomeImported {
		t.Fatalf("stored %+v: %v", stored, err)
	}
}

// cancelAfter is a context that reads as cancelled from its n-th look on: an import
// cancelled while it stores, at a batch boundary the test chooses.
type cancelAfter struct {
	context.Context
	looks, n int
}

func (c *cancelAfter) Err() error {
	if c.looks++; c.looks >= c.n {
		return context.Canceled
	}
	return nil
}

// An import cancelled while it stores its messages removes what it stored: Cancel leaves
// the history file as it was, with no partial run to find later.
func TestCancellingAnImportWhileStoringLeavesNoRun(t *testing.T) {
	l := newTestLab(t)
	l.openStore(filepath.Join(t.TempDir(), "history.db"))
	path := loadExport(t, 20_000)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	log, err := history.ReadLog(context.Background(), "load.ndjson", bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := l.store.Runs()
	j := &importJob{h: l.hist, name: "load.ndjson", what: widget.NewLabel(""), bar: widget.NewProgressBar(),
		stopB: widget.NewButton("Cancel", nil)}
	ctx := &cancelAfter{Context: context.Background(), n: 3} // after two batches of 4,096
	if _, err := j.store(ctx, l.store, log); err != nil {
		t.Fatalf("a cancelled store: %v", err)
	}
	after, _ := l.store.Runs()
	if len(after) != len(before) {
		t.Fatalf("%d runs before and %d after an import cancelled while storing: %+v", len(before), len(after), after)
	}
	nss, _ := l.store.Namespaces()
	for _, ns := range nss {
		if ns.Messages > 0 {
			t.Fatalf("namespace %s still holds %d messages", ns.Name, ns.Messages)
		}
	}
}

// While an imported log is on screen the left column describes it, not the scenario
// picked before: its text says it is a replay and there are no knobs to turn. Reset puts
// the scenario's text and knobs back with a run of it.
func TestTheLeftColumnDescribesAnImportedLog(t *testing.T) {
	l := newTestLab(t)
	data, err := os.ReadFile(loadExport(t, 8000))
	if err != nil {
		t.Fatal(err)
	}
	scenarioWatch, knobs := l.watch.Text, len(l.knobBox.Objects)
	l.hist.importData("load.ndjson", data)
	if !l.ses.IsReplay() || !strings.Contains(l.watch.Text, "recorded messages") || !strings.Contains(l.watch.Text, "Reset runs "+l.scenario.Title) {
		t.Fatalf("with the import on screen the left column says %q", l.watch.Text)
	}
	if len(l.knobBox.Objects) != 1 || l.knobBox.Objects[0].(*widget.Label).Text != "A replay has no knobs." {
		t.Fatalf("with the import on screen the knobs show %d objects", len(l.knobBox.Objects))
	}
	l.reset()
	if l.ses.IsReplay() || l.watch.Text != scenarioWatch || len(l.knobBox.Objects) != knobs {
		t.Fatalf("after Reset: replay %v, %q, %d knob editors", l.ses.IsReplay(), l.watch.Text, len(l.knobBox.Objects))
	}
}
