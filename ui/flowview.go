package ui

import (
	"fmt"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Diagram geometry, in pixels.
const (
	flowHeader = 26 // the row of app names
	flowRow    = 26 // one arrow with its label
	flowGutter = 64 // the time column on the left
	flowLane   = 56 // the narrowest a lifeline's column may get
	flowSelf   = 26 // how far a mark on one lifeline reaches out
)

// flowView draws a window of the flow model's rows as a sequence diagram: a lifeline per
// app, an arrow per row. It is virtual, drawing only the rows that fit, so a run of a
// million messages costs no more to show than one of ten. It follows the newest row
// unless the user scrubs back with the wheel or the slider.
type flowView struct {
	widget.BaseWidget

	model    *flowModel
	top      int  // the first row shown
	follow   bool // keep the newest row in view
	selected int  // the highlighted row, -1 for none
	wheel    float32

	// onSelect is called with the row the user clicked.
	onSelect func(row int)
	// onScroll is called when the window moves, so a slider can follow.
	onScroll func()
}

func newFlowView(m *flowModel) *flowView {
	v := &flowView{model: m, follow: true, selected: -1}
	v.ExtendBaseWidget(v)
	return v
}

// visibleRows is how many rows fit the widget's height.
func (v *flowView) visibleRows() int {
	return max(1, int((v.Size().Height-flowHeader)/flowRow))
}

// lastTop is the top row that shows the newest row at the bottom.
func (v *flowView) lastTop() int { return max(0, v.model.arrows.Len()-v.visibleRows()) }

// setModel shows another run's diagram from its start.
func (v *flowView) setModel(m *flowModel) {
	v.model, v.top, v.follow, v.selected = m, 0, true, -1
	v.Refresh()
}

// update follows the newest row if following, then redraws.
func (v *flowView) update() {
	if v.follow {
		v.top = v.lastTop()
	}
	v.Refresh()
}

// scrollTo puts row top first; reaching the newest row turns following back on.
func (v *flowView) scrollTo(top int) {
	top = min(max(top, 0), v.lastTop())
	v.top, v.follow = top, top >= v.lastTop()
	v.Refresh()
	if v.onScroll != nil {
		v.onScroll()
	}
}

// reveal selects row and scrolls it into the middle of the view.
func (v *flowView) reveal(row int) {
	if row < 0 || row >= v.model.arrows.Len() {
		return
	}
	v.selected = row
	v.scrollTo(row - v.visibleRows()/2)
	v.follow = false
}

// Scrolled scrubs with the mouse wheel or touchpad.
func (v *flowView) Scrolled(e *fyne.ScrollEvent) {
	v.wheel -= e.Scrolled.DY
	rows := int(v.wheel / flowRow)
	if rows == 0 {
		return
	}
	v.wheel -= float32(rows) * flowRow
	v.scrollTo(v.top + rows)
}

// Tapped selects the row under the pointer.
func (v *flowView) Tapped(e *fyne.PointEvent) {
	if e.Position.Y < flowHeader {
		return
	}
	row := v.top + int((e.Position.Y-flowHeader)/flowRow)
	if row >= v.model.arrows.Len() {
		return
	}
	v.selected = row
	v.Refresh()
	if v.onSelect != nil {
		v.onSelect(row)
	}
}

// MinSize leaves every lifeline its narrowest column. Wider, the columns share the width.
func (v *flowView) MinSize() fyne.Size {
	return fyne.NewSize(flowGutter+float32(len(v.model.apps))*flowLane, flowHeader+3*flowRow)
}

func (v *flowView) CreateRenderer() fyne.WidgetRenderer {
	r := &flowRenderer{v: v}
	r.build()
	return r
}

// flowRenderer rebuilds its few hundred canvas objects on every refresh: the visible window
// is small, and rebuilding keeps it obviously in step with the model.
type flowRenderer struct {
	v    *flowView
	objs []fyne.CanvasObject
}

func (r *flowRenderer) Layout(fyne.Size)             { r.build() }
func (r *flowRenderer) MinSize() fyne.Size           { return r.v.MinSize() }
func (r *flowRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *flowRenderer) Destroy()                     {}
func (r *flowRenderer) Refresh() {
	r.build()
	canvas.Refresh(r.v)
}

// laneX is the centre of lifeline i.
func (r *flowRenderer) laneX(i int) float32 {
	n := max(1, len(r.v.model.apps))
	w := max(flowLane, (r.v.Size().Width-flowGutter-8)/float32(n))
	return flowGutter + w*(float32(i)+0.5)
}

func (r *flowRenderer) build() {
	v := r.v
	m := v.model
	size := v.Size()
	fg := theme.Color(theme.ColorNameForeground)
	muted := theme.Color(theme.ColorNameDisabled)
	quiet := theme.Color(theme.ColorNamePlaceHolder)
	small := theme.CaptionTextSize()
	objs := []fyne.CanvasObject{}
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.Resize(size)
	objs = append(objs, bg)
	for i, app := range m.apps {
		x := r.laneX(i)
		line := canvas.NewLine(muted)
		line.StrokeWidth = 1
		line.Position1, line.Position2 = fyne.NewPos(x, flowHeader), fyne.NewPos(x, size.Height)
		name := canvas.NewText(app, fg)
		name.TextStyle.Bold = true
		name.TextSize = theme.TextSize()
		name.Text = fitText(app, r.laneX(1)-r.laneX(0)-6, name.TextSize, name.TextStyle)
		w := fyne.MeasureText(name.Text, name.TextSize, name.TextStyle).Width
		name.Move(fyne.NewPos(x-w/2, 4))
		objs = append(objs, line, name)
	}
	rows := v.visibleRows()
	for row := v.top; row < min(m.arrows.Len(), v.top+rows); row++ {
		a := m.arrows.At(row)
		y0 := flowHeader + float32(row-v.top)*flowRow
		if row == v.selected {
			hl := canvas.NewRectangle(theme.Color(theme.ColorNameSelection))
			hl.Move(fyne.NewPos(0, y0))
			hl.Resize(fyne.NewSize(size.Width, flowRow))
			objs = append(objs, hl)
		}
		at := canvas.NewText(fmt.Sprintf("%.3fs", a.at.Seconds()), quiet)
		at.TextSize = small
		at.TextStyle.Monospace = true
		at.Move(fyne.NewPos(4, y0+flowRow-small-8))
		objs = append(objs, at)
		x1, x2 := r.laneX(a.from), r.laneX(a.to)
		y := y0 + flowRow - 6
		objs = append(objs, arrowObjects(a.kind, x1, x2, y)...)
		label := canvas.NewText("", fg)
		label.TextSize = small
		lx := min(x1, x2) + 6
		if a.from == a.to {
			lx = x1 + flowSelf + 6
		}
		// nothing clips a split pane: the label must end inside the diagram
		text := a.label()
		label.Text = fitText(text, size.Width-lx-4, small, label.TextStyle)
		if left := x1 - 6 - flowGutter; a.from == a.to && label.Text != text && left > size.Width-lx-4 {
			// a loop on a lifeline near the right edge: the label reads better on its left
			label.Text = fitText(text, left, small, label.TextStyle)
			lx = x1 - 6 - fyne.MeasureText(label.Text, small, label.TextStyle).Width
		}
		label.Move(fyne.NewPos(lx, y0+1))
		objs = append(objs, label)
	}
	if m.arrows.Len() == 0 {
		hint := canvas.NewText("Step or run the scenario: every delivery appears here as an arrow.", quiet)
		hint.Move(fyne.NewPos(flowGutter, flowHeader+8))
		objs = append(objs, hint)
	}
	r.objs = objs
}

// fitText shortens s with an ellipsis until it fits width, searching the cut by halves
// because it runs for every visible row on every refresh.
func fitText(s string, width, size float32, style fyne.TextStyle) string {
	if fyne.MeasureText(s, size, style).Width <= width {
		return s
	}
	r := []rune(s)
	lo, hi := 0, len(r) // r[:lo]+"…" fits; r[:hi]+"…" does not, or hi is the whole
	for lo < hi-1 {
		mid := (lo + hi) / 2
		if fyne.MeasureText(string(r[:mid])+"…", size, style).Width <= width {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return ""
	}
	return string(r[:lo]) + "…"
}

// arrowObjects draws one arrow of kind from x1 to x2 at height y. An arrow that starts and
// ends on one lifeline is drawn as a short loop out and back.
func arrowObjects(kind arrowKind, x1, x2, y float32) []fyne.CanvasObject {
	st := arrowStyles[kind]
	c := st.colour
	var out []fyne.CanvasObject
	if x1 == x2 {
		out = append(out, shaft(c, st.pattern, x1, y-8, x1+flowSelf, y-8)...)
		out = append(out, shaft(c, st.pattern, x1+flowSelf, y-8, x1+flowSelf, y)...)
		out = append(out, shaft(c, st.pattern, x1+flowSelf, y, x1+4, y)...)
		return append(out, head(st.head, c, x1+4, y, -1)...)
	}
	dir := float32(1)
	if x2 < x1 {
		dir = -1
	}
	end := x2 - dir*2 // stop short of the lifeline, so the head reads against it
	out = append(out, shaft(c, st.pattern, x1, y, end, y)...)
	return append(out, head(st.head, c, end, y, dir)...)
}

// shaft draws a straight line in a pattern as dashes.
func shaft(c color.Color, p linePattern, x1, y1, x2, y2 float32) []fyne.CanvasObject {
	line := func(ax, ay, bx, by float32) fyne.CanvasObject {
		l := canvas.NewLine(c)
		l.StrokeWidth = 2
		l.Position1, l.Position2 = fyne.NewPos(ax, ay), fyne.NewPos(bx, by)
		return l
	}
	if p.dash == 0 {
		return []fyne.CanvasObject{line(x1, y1, x2, y2)}
	}
	dx, dy := x2-x1, y2-y1
	length := float32(math.Hypot(float64(dx), float64(dy)))
	if length == 0 {
		return nil
	}
	ux, uy := dx/length, dy/length
	var out []fyne.CanvasObject
	for s := float32(0); s < length; s += p.dash + p.gap {
		e := min(s+p.dash, length)
		out = append(out, line(x1+ux*s, y1+uy*s, x1+ux*e, y1+uy*e))
	}
	return out
}

// head draws the end marker at (x, y) for an arrow pointing in dir (+1 right, -1 left).
func head(h arrowHead, c color.Color, x, y, dir float32) []fyne.CanvasObject {
	const size = 7
	stroke := func(ax, ay, bx, by float32) fyne.CanvasObject {
		l := canvas.NewLine(c)
		l.StrokeWidth = 2
		l.Position1, l.Position2 = fyne.NewPos(ax, ay), fyne.NewPos(bx, by)
		return l
	}
	switch h {
	case headFilled:
		tri := canvas.NewArbitraryPolygon([]fyne.Position{
			{X: 0, Y: 0}, {X: size, Y: size / 2}, {X: 0, Y: size},
		}, c)
		if dir < 0 {
			tri.Points = []fyne.Position{{X: size, Y: 0}, {X: size, Y: size}, {X: 0, Y: size / 2}}
			tri.Move(fyne.NewPos(x, y-size/2))
		} else {
			tri.Move(fyne.NewPos(x-size, y-size/2))
		}
		tri.Resize(fyne.NewSize(size, size))
		return []fyne.CanvasObject{tri}
	case headOpen:
		return []fyne.CanvasObject{stroke(x, y, x-dir*size, y-size/2-1), stroke(x, y, x-dir*size, y+size/2+1)}
	case headCross:
		return []fyne.CanvasObject{stroke(x-5, y-5, x+5, y+5), stroke(x-5, y+5, x+5, y-5)}
	}
	return nil
}

// flowLegend shows every arrow kind as drawn, with its name, so the diagram reads without
// telling colours apart.
func flowLegend() fyne.CanvasObject {
	var items []fyne.CanvasObject
	for k := arrowKind(0); k < arrowKinds; k++ {
		sample := container.NewWithoutLayout(arrowObjects(k, 2, 34, 9)...)
		sample.Resize(fyne.NewSize(40, 18))
		name := widget.NewLabel(arrowStyles[k].name)
		name.SizeName = theme.SizeNameCaptionText
		items = append(items, container.NewHBox(container.NewGridWrap(fyne.NewSize(40, 18), sample), name))
	}
	return container.NewGridWrap(fyne.NewSize(150, 28), items...)
}
