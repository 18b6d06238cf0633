package ui

import (
	"fmt"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mfelab/session"
)

// compareView shows two runs' diagrams side by side, A (the run on screen) on the left
// and B on the right, with the arrows that differ marked, the report's headline and
// counts above them, and the two scrolled together: whatever row one shows, the other
// shows the row aligned with it. It draws what session.Compare found and decides nothing.
// It lives in a window of its own, so the main window keeps its size and its run.
type compareView struct {
	win     fyne.Window
	c       session.Comparison
	a, b    *flowView
	ma, mb  session.DiagramMarks
	slider  *widget.Slider
	verdict *widget.Label
	where   *widget.Label
	prev    *widget.Button
	next    *widget.Button
	content fyne.CanvasObject

	stops   []compareStop // the first row of every place where the flows part
	at      int           // the stop shown, -1 before the first
	syncing bool          // a scroll that follows the other diagram does not echo back
}

// compareStop is a place where the flows part, by the diagram row that starts it.
type compareStop struct {
	b   bool // the row is B's (a delivery B has and A lacks)
	row int
}

// markStyle is how a compared row is marked: a colour band and a glyph, so the marks
// read without telling colours apart.
var markStyle = map[session.Mark]struct {
	colour fyne.ThemeColorName
	glyph  string
}{
	session.MarkChanged: {theme.ColorNameWarning, "~"},
	session.MarkOnly:    {theme.ColorNameError, ""},    // the side's glyph: – in A, + in B
	session.MarkMoved:   {theme.ColorNamePrimary, "⇅"}, // not ↕, which fonts draw as an emoji
}

// markWidth is how far a diagram with marks moves its times right, to leave the glyph room.
func markWidth(marks []session.Mark) float32 {
	if marks == nil {
		return 0
	}
	return 14
}

// markObjects draws row's mark: a tint across the row, a band at its left edge and the
// glyph in the time column. Colours come from the theme, so both themes read.
func (v *flowView) markObjects(row int, y0, width float32) []fyne.CanvasObject {
	if row >= len(v.marks) || v.marks[row] == session.MarkSame {
		return nil
	}
	st := markStyle[v.marks[row]]
	c := color.NRGBAModel.Convert(theme.Color(st.colour)).(color.NRGBA)
	tint := c
	tint.A = 0x2c
	bg := canvas.NewRectangle(tint)
	bg.Move(fyne.NewPos(0, y0))
	bg.Resize(fyne.NewSize(width, flowRow))
	band := canvas.NewRectangle(c)
	band.Move(fyne.NewPos(0, y0))
	band.Resize(fyne.NewSize(4, flowRow))
	glyph := st.glyph
	if glyph == "" {
		glyph = v.only
	}
	g := canvas.NewText(glyph, c)
	g.TextStyle.Bold = true
	g.TextSize = theme.TextSize()
	// centred on the row's time, which sits low in the row under the arrow's label
	small := theme.CaptionTextSize()
	h := fyne.MeasureText("0", small, fyne.TextStyle{Monospace: true}).Height
	g.Move(fyne.NewPos(5, y0+flowRow-small-8+(h-fyne.MeasureText(glyph, g.TextSize, g.TextStyle).Height)/2))
	return []fyne.CanvasObject{bg, band, g}
}

// newCompareView lays out comparison c; the window it goes in is set by openCompare.
func newCompareView(c session.Comparison, close func()) *compareView {
	cv := &compareView{c: c, at: -1}
	cv.ma, cv.mb = c.Diagrams(c.A.Trace.Diagram().Len(), c.B.Trace.Diagram().Len())
	side := func(d session.DiagramMarks, t *session.Trace, only string) *flowView {
		v := newFlowView(t.Diagram())
		v.follow, v.marks, v.only, v.limit = false, d.Marks, only, max(len(d.Marks), 1)
		return v
	}
	cv.a, cv.b = side(cv.ma, c.A.Trace, "–"), side(cv.mb, c.B.Trace, "+")
	cv.a.onScroll = func() { cv.follow(cv.a, cv.b, cv.ma.Other); cv.syncSlider() }
	cv.b.onScroll = func() { cv.follow(cv.b, cv.a, cv.mb.Other) }
	cv.a.onSelect = func(row int) { cv.pair(cv.a, cv.b, cv.ma, row) }
	cv.b.onSelect = func(row int) { cv.pair(cv.b, cv.a, cv.mb, row) }
	cv.slider = widget.NewSlider(0, 1)
	cv.slider.OnChanged = func(f float64) {
		if int(f) != cv.a.top {
			cv.a.scrollTo(int(f))
		}
	}
	for _, h := range c.Hunks(0) {
		op := c.Ops[h.From]
		if op.A >= 0 && c.FlowA.Rows[op.A].Row >= 0 {
			cv.stops = append(cv.stops, compareStop{row: c.FlowA.Rows[op.A].Row})
		} else if op.B >= 0 && c.FlowB.Rows[op.B].Row >= 0 {
			cv.stops = append(cv.stops, compareStop{b: true, row: c.FlowB.Rows[op.B].Row})
		}
	}

	cv.verdict = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	if c.Equal() {
		cv.verdict.SetText("No difference: B does what A does, delivery for delivery, and the checks agree")
		cv.verdict.Importance = widget.SuccessImportance
	} else {
		parts := "once"
		if n := len(cv.stops); n > 1 {
			parts = fmt.Sprintf("in %d places", n)
		}
		cv.verdict.SetText("The runs differ: their flows part " + parts)
		cv.verdict.Importance = widget.WarningImportance
	}
	text := func(s string) *widget.Label {
		l := widget.NewLabel(s)
		l.Wrapping = fyne.TextWrapWord
		return l
	}
	summary := c.CountsText()
	if hub := c.HubText(); hub != "" {
		summary += "\n" + hub
	}
	cv.where = widget.NewLabel("")
	cv.prev = widget.NewButtonWithIcon("Previous difference", theme.NavigateBackIcon(), func() { cv.step(-1) })
	cv.next = widget.NewButtonWithIcon("Next difference", theme.NavigateNextIcon(), func() { cv.step(1) })
	cv.next.IconPlacement = widget.ButtonIconTrailingText
	shut := widget.NewButtonWithIcon("Close (Esc)", theme.CancelIcon(), close)
	bar := container.NewHBox(cv.prev, cv.next, cv.where, layout.NewSpacer(), markLegend(), shut)
	top := container.NewVBox(cv.verdict, text(c.Headline()), text(summary), text("Outcome checks: "+c.ChecksText()), bar)
	column := func(letter string, s session.Side, b bool, v *flowView) fyne.CanvasObject {
		name := widget.NewLabelWithStyle(letter+"  "+s.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		name.Truncation = fyne.TextTruncateEllipsis
		about := widget.NewLabel(c.SideText(b))
		about.Truncation = fyne.TextTruncateEllipsis
		return container.NewBorder(container.NewVBox(name, about), nil, nil, nil, v)
	}
	diagrams := container.New(&watchedLayout{inner: layout.NewGridLayoutWithColumns(2), fn: cv.laidOut},
		column("A", c.A, false, cv.a), column("B", c.B, true, cv.b))
	cv.content = container.NewBorder(top, cv.slider, nil, nil, diagrams)
	cv.updateStops()
	return cv
}

// laidOut shows the first place where the flows part once the diagrams know their
// height, and after every layout fits the slider to what is left to scroll.
func (cv *compareView) laidOut(first bool) {
	if first && len(cv.stops) > 0 {
		cv.step(1)
	}
	cv.syncSlider()
}

// follow scrolls to so that the row aligned with the middle row of from is in its middle.
func (cv *compareView) follow(from, to *flowView, other []int) {
	if cv.syncing || len(other) == 0 {
		return
	}
	mid := min(from.top+from.visibleRows()/2, len(other)-1)
	if other[mid] < 0 {
		return
	}
	cv.syncing = true
	to.scrollTo(other[mid] - to.visibleRows()/2)
	cv.syncing = false
}

// pair highlights, beside the row tapped in one diagram, the same delivery in the other,
// when the other run has it at that point (alike or changed).
func (cv *compareView) pair(from, to *flowView, d session.DiagramMarks, row int) {
	to.selected = -1
	if row < len(d.Marks) && (d.Marks[row] == session.MarkSame || d.Marks[row] == session.MarkChanged) {
		to.selected = d.Other[row]
	}
	to.Refresh()
	cv.follow(from, to, d.Other)
}

// step shows the next (+1) or previous (-1) place where the flows part, selected and in
// the middle of its diagram, with the other diagram beside it.
func (cv *compareView) step(dir int) {
	at := min(max(cv.at+dir, 0), len(cv.stops)-1)
	if at < 0 {
		return
	}
	cv.at = at
	s := cv.stops[at]
	v, o := cv.a, cv.b
	if s.b {
		v, o = cv.b, cv.a
	}
	o.selected = -1
	o.Refresh()
	v.reveal(s.row)
	cv.updateStops()
}

// updateStops names the place shown and enables the buttons that lead somewhere.
func (cv *compareView) updateStops() {
	n := len(cv.stops)
	switch {
	case n == 0:
		cv.where.SetText("")
	case cv.at < 0:
		cv.where.SetText(plural(n, "difference"))
	default:
		cv.where.SetText(fmt.Sprintf("%d of %d", cv.at+1, n))
	}
	enable := func(b *widget.Button, on bool) {
		if on {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	enable(cv.prev, cv.at > 0)
	enable(cv.next, cv.at < n-1)
}

// syncSlider puts the slider where diagram A is, and hides it when A fits.
func (cv *compareView) syncSlider() {
	if cv.a.lastTop() == 0 {
		cv.slider.Hide()
	} else {
		cv.slider.Show()
	}
	cv.slider.Max = max(float64(cv.a.lastTop()), 1)
	cv.slider.Value = float64(cv.a.top)
	cv.slider.Refresh()
}

// markLegend says what the marks mean, each drawn as the diagrams draw it.
func markLegend() fyne.CanvasObject {
	item := func(m session.Mark, glyph, what string) fyne.CanvasObject {
		g := canvas.NewText(glyph, theme.Color(markStyle[m].colour))
		g.TextStyle.Bold = true
		l := widget.NewLabel(what)
		return container.NewHBox(container.NewCenter(g), l)
	}
	return container.NewHBox(
		item(session.MarkChanged, "~", "changed"),
		item(session.MarkOnly, "– +", "only in A, only in B"),
		item(session.MarkMoved, "⇅", "moved"),
	)
}

// watchedLayout is a layout that calls fn after laying out at a real size, saying whether
// it is the first time: what a view shows first may depend on how many rows fit.
type watchedLayout struct {
	inner fyne.Layout
	fn    func(first bool)
	done  bool
}

func (f *watchedLayout) MinSize(objs []fyne.CanvasObject) fyne.Size { return f.inner.MinSize(objs) }

func (f *watchedLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	f.inner.Layout(objs, size)
	if size.Height > 0 {
		first := !f.done
		f.done = true
		f.fn(first)
	}
}
