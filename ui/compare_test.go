package ui

import (
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mfelab/scenarios"
	"mfelab/session"
)

// compareCheckout opens the compare view of the orchestrated checkout on screen, with
// fail=ship, against a fresh run of the scenario titled other.
func compareCheckout(t *testing.T, other string) (*lab, *compareView) {
	t.Helper()
	l := newTestLab(t) // checkout-orchestrated
	l.win.Resize(fyne.NewSize(1440, 900))
	l.applyKnobs(scenarios.Values{"fail": "ship"})
	l.runToEnd()
	l.compareFresh(other, "fail=ship", "42")
	cv := l.compare
	if cv == nil {
		t.Fatalf("no compare window; the last error: %s", l.lastError)
	}
	cv.win.Resize(fyne.NewSize(1280, 800))
	return l, cv
}

// drawnGlyphs are the texts drawn in the time column of a diagram with marks.
func drawnGlyphs(v *flowView) map[string]int {
	out := map[string]int{}
	for _, o := range test.WidgetRenderer(v).Objects() {
		if txt, ok := o.(*canvas.Text); ok && txt.Position().X < flowGutter/4 {
			out[txt.Text]++
		}
	}
	return out
}

// The orchestrated and the choreographed checkout, both failing to ship, differ: the view
// says where they part, marks the arrows each has alone, opens at the first difference,
// and scrolling one diagram scrolls the other to the aligned row.
func TestCompareTheOrchestratedAndChoreographedCheckout(t *testing.T) {
	l, cv := compareCheckout(t, "Checkout saga, choreographed")
	size := l.win.Canvas().Size()
	if cv.c.Equal() || !strings.Contains(cv.verdict.Text, "differ") {
		t.Fatalf("verdict %q", cv.verdict.Text)
	}
	var texts []string
	for _, o := range test.LaidOutObjects(cv.content) {
		if lbl, ok := o.(*widget.Label); ok {
			texts = append(texts, lbl.Text)
		}
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"The flows part", cv.c.CountsText(), "Outcome checks: ", "(on screen)", "checkout-choreographed, seed 42"} {
		if !strings.Contains(all, want) {
			t.Errorf("the view lacks %q:\n%s", want, all)
		}
	}
	for _, tc := range []struct {
		name  string
		v     *flowView
		glyph string
	}{{"A marks the arrows only it has with –", cv.a, "–"}, {"B marks the arrows only it has with +", cv.b, "+"}} {
		t.Run(tc.name, func(t *testing.T) {
			if drawnGlyphs(tc.v)[tc.glyph] == 0 || !hasMark(tc.v, session.MarkOnly) {
				t.Fatalf("no row drawn with %s; glyphs %v, marks %v", tc.glyph, drawnGlyphs(tc.v), tc.v.marks)
			}
		})
	}
	if cv.at != 0 || (cv.a.selected < 0 && cv.b.selected < 0) {
		t.Fatalf("the view opens at stop %d with rows %d and %d selected", cv.at, cv.a.selected, cv.b.selected)
	}
	cv.win.Resize(fyne.NewSize(1280, 440)) // a few rows at a time, so both diagrams scroll
	cv.a.scrollTo(0)
	if cv.a.lastTop() < 4 || cv.b.lastTop() < 2 {
		t.Fatalf("the diagrams show %d and %d rows at once: nothing to scroll", cv.a.visibleRows(), cv.b.visibleRows())
	}
	for _, tc := range []struct {
		name     string
		from, to *flowView
		other    []int
		rows     int
	}{
		{"scrolling A down scrolls B to the aligned row", cv.a, cv.b, cv.ma.Other, 4},
		{"scrolling B back up scrolls A to the aligned row", cv.b, cv.a, cv.mb.Other, -2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.from.top
			tc.from.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.Delta{DY: -float32(tc.rows) * flowRow}})
			if tc.from.top == before {
				t.Fatalf("the diagram did not scroll from %d", before)
			}
			mid := min(tc.from.top+tc.from.visibleRows()/2, len(tc.other)-1)
			want := min(max(tc.other[mid]-tc.to.visibleRows()/2, 0), tc.to.lastTop())
			if tc.to.top != want {
				t.Fatalf("the other diagram is at row %d, want %d (aligned with row %d)", tc.to.top, want, mid)
			}
		})
	}
	cv.step(1)
	if len(cv.stops) > 1 && cv.at != 1 {
		t.Fatalf("Next difference stays at %d of %d", cv.at, len(cv.stops))
	}
	if l.win.Canvas().Size() != size {
		t.Fatalf("the main window went from %v to %v", size, l.win.Canvas().Size())
	}
	cv.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if l.compare != nil {
		t.Fatal("Esc left the compare window open")
	}
}

func hasMark(v *flowView, m session.Mark) bool {
	for _, x := range v.marks {
		if x == m {
			return true
		}
	}
	return false
}

// A run compared with itself, however B is chosen, shows the no-difference state: no
// marks, no differences to step through.
func TestCompareARunWithItselfShowsNoDifference(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T, l *lab)
	}{
		{"a fresh run with the same knobs and seed", func(t *testing.T, l *lab) {
			l.compareFresh(l.scenario.Title, "fail=ship", "42")
		}},
		{"the chooser's defaults, confirmed with Enter", func(t *testing.T, l *lab) {
			l.transportKey(keyCompare)
			if len(l.dialogs) != 1 {
				t.Fatalf("Ctrl+D opened %d dialogs", len(l.dialogs))
			}
			l.dialogKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		}},
		{"its own recording, picked in the History tab", func(t *testing.T, l *lab) {
			info, on := l.ses.Recording()
			if !on {
				t.Fatal("the run is not recorded")
			}
			l.showHistory()
			l.hist.ns = info.ID
			l.hist.compare()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newTestLab(t)
			l.openStore(filepath.Join(t.TempDir(), "h.db"))
			l.applyKnobs(scenarios.Values{"fail": "ship"})
			l.runToEnd()
			tc.open(t, l)
			cv := l.compare
			if cv == nil {
				t.Fatalf("no compare window; the last error: %s", l.lastError)
			}
			if !cv.c.Equal() || !strings.HasPrefix(cv.verdict.Text, "No difference") {
				t.Fatalf("verdict %q: %s", cv.verdict.Text, cv.c.Headline())
			}
			if hasMark(cv.a, session.MarkOnly) || hasMark(cv.a, session.MarkChanged) || hasMark(cv.b, session.MarkMoved) {
				t.Fatalf("marks on alike runs: %v %v", cv.a.marks, cv.b.marks)
			}
			if len(cv.stops) != 0 || !cv.next.Disabled() || !cv.prev.Disabled() {
				t.Fatalf("%d differences to step through", len(cv.stops))
			}
		})
	}
}

// Nothing is compared before the run on screen has an arrow: the window says so.
func TestCompareWaitsForTheFirstDelivery(t *testing.T) {
	l := newTestLab(t)
	l.chooseCompare()
	if l.compare != nil || len(l.dialogs) != 1 {
		t.Fatalf("compare window %v, %d dialogs", l.compare, len(l.dialogs))
	}
}
