package ui

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"mfelab/scenarios"
)

// windowSizes are the window sizes every scenario is laid out at: a small laptop, the
// size the lab is designed for, and a full-HD screen.
var windowSizes = []fyne.Size{{Width: 1024, Height: 700}, {Width: 1440, Height: 900}, {Width: 1920, Height: 1080}}

// shownText is a piece of text drawn on the canvas, with the box it is drawn in.
type shownText struct {
	text *canvas.Text
	pos  fyne.Position
}

// visibleTexts walks o as the window draws it (containers and widgets' renderers, skipping
// what is hidden) and returns every text with its absolute position.
func visibleTexts(o fyne.CanvasObject, at fyne.Position, out *[]shownText) {
	if o == nil || !o.Visible() {
		return
	}
	pos := at.Add(o.Position())
	switch v := o.(type) {
	case *canvas.Text:
		*out = append(*out, shownText{text: v, pos: pos})
	case *fyne.Container:
		for _, c := range v.Objects {
			visibleTexts(c, pos, out)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(v).Objects() {
			visibleTexts(c, pos, out)
		}
	}
}

// cutOff says why a drawn text does not show all of itself, or "".
func cutOff(t *canvas.Text) string {
	if strings.HasSuffix(t.Text, "…") {
		return "ends in an ellipsis"
	}
	need := fyne.MeasureText(t.Text, t.TextSize, t.TextStyle).Width
	if need > t.Size().Width+1 && utf8.RuneCountInString(t.Text) > 0 {
		return fmt.Sprintf("needs %.0f px, has %.0f", need, t.Size().Width)
	}
	return ""
}

// Every scenario, run to its end, is laid out at the three window sizes with nothing a
// learner needs cut off or hidden: the window does not grow past its size, no panel's
// title, role or state is cut, every side tab shows its label, and at 1440x900 and above
// all eight panels with their switches fit without scrolling. The example scenario files,
// opened as the File menu opens them, are laid out too.
func TestEveryScenarioFitsTheWindowAtThreeSizes(t *testing.T) {
	l := newTestLab(t)
	laidOut := scenarios.All()
	files, _ := filepath.Glob(filepath.Join("..", "scenarios", "files", "*.yaml"))
	for _, path := range files {
		if !l.openScenarioFile(path) {
			t.Fatalf("%s did not open: %s", path, l.lastError)
		}
		laidOut = append(laidOut, l.scenario)
	}
	for _, size := range windowSizes {
		l.win.Resize(size)
		for _, s := range laidOut {
			name := s.ID
			if s.Source != "" {
				name = "file " + filepath.Base(s.Source)
			}
			t.Run(fmt.Sprintf("%s at %.0fx%.0f", name, size.Width, size.Height), func(t *testing.T) {
				l.picker.SetSelected(fileLabel(s))
				if l.scenario != s {
					t.Fatalf("the picker chose %q", l.scenario.ID)
				}
				l.runToEnd()
				l.refresh()
				l.win.Content().Refresh()
				if min := l.win.Content().MinSize(); min.Width > size.Width || min.Height > size.Height {
					t.Errorf("the window needs %v, more than its %v: it would grow past the screen", min, size)
				}
				var texts []shownText
				visibleTexts(l.panels.grid, fyne.Position{}, &texts)
				for _, st := range texts {
					if why := cutOff(st.text); why != "" {
						t.Errorf("panel text %q is cut off: %s", st.text.Text, why)
					}
				}
				for i, b := range l.sideTabs.buttons {
					bar := b.Position().X + b.Size().Width
					if !b.Visible() || b.Size().Width < b.MinSize().Width || bar > l.sideTabs.content.Size().Width+1 {
						t.Errorf("the %q tab is hidden or cut (at x %.0f..%.0f of %.0f)", l.sideTabs.titles[i], b.Position().X, bar, l.sideTabs.content.Size().Width)
					}
				}
				// the transport is above the fold, whatever the scenario's description takes
				d := fyne.CurrentApp().Driver()
				if bottom := d.AbsolutePositionForObject(l.runBtn).Y + l.runBtn.Size().Height; bottom > size.Height {
					t.Errorf("the Run button ends at y %.0f, below the window's %.0f", bottom, size.Height)
				}
				if size.Width >= 1440 {
					scroll := panelScroll(t, l)
					if need := l.panels.grid.MinSize().Height; need > scroll.Size().Height+1 {
						t.Errorf("the panels need %.0f px of height and have %.0f: some are scrolled out of view", need, scroll.Size().Height)
					}
				}
			})
		}
	}
}

// panelScroll finds the scroll container that holds the panels.
func panelScroll(t *testing.T, l *lab) *container.Scroll {
	t.Helper()
	var found *container.Scroll
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *container.Scroll:
			if v.Content == l.panels.grid {
				found = v
				return
			}
			walk(v.Content)
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				walk(c)
			}
		}
	}
	walk(l.win.Content())
	if found == nil {
		t.Fatal("no scroll container holds the panels")
	}
	return found
}

// A card's state wraps within its width, keeps every word of every value, and keeps the
// values in one column beside the keys while there is room for one.
func TestStateTextWrapsWithoutLosingAWord(t *testing.T) {
	fields := []scenarios.Field{
		{Key: "stale add", Value: "conflict: stream order-7: expected version 2, but it is at 3"},
		{Key: "summary", Value: `{"order-7":"shipped","lines":2,"paid":"89.70"}`},
		{Key: "a key longer than most", Value: "x"},
		{Key: "empty", Value: ""},
		{Key: "multi", Value: "first line\nsecond line"},
	}
	for cols := 4; cols <= 120; cols++ {
		lines := wrapFields(fields, cols)
		for _, line := range lines {
			if n := utf8.RuneCountInString(line); n > cols {
				t.Fatalf("at %d columns the line %q has %d", cols, line, n)
			}
		}
		var want, got strings.Builder
		for _, f := range fields {
			want.WriteString(strings.Join(strings.Fields(f.Key+" "+f.Value), ""))
		}
		for _, line := range lines {
			got.WriteString(strings.Join(strings.Fields(line), ""))
		}
		if want.String() != got.String() {
			t.Fatalf("at %d columns the text changed:\n%s", cols, strings.Join(lines, "\n"))
		}
	}
	if got := wrapFields(fields[:1], 0); len(got) != 1 {
		t.Fatalf("with no limit a field takes one line: %q", got)
	}
	if got := wrapFields(nil, 40); len(got) != 1 || got[0] != "(idle)" {
		t.Fatalf("no fields read %q", got)
	}
}
