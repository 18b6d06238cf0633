package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mfelab/session"
)

// Diagram geometry, in pixels.
const (
	flowHeader = 26 // the row of app names
	flowRow    = 26 // one arrow with its label
	flowGutter = 64 // the time column on the left
	flowLane   = 48 // the narrowest a lifeline's column may get
	flowSelf   = 26 // how far a mark on one lifeline reaches out
)

// flowView draws a window of the flow model's rows as a sequence diagram: a lifeline per
// app, an arrow per row. It is virtual, drawing only the rows that fit, so a run of a
// million messages costs no more to show than one of ten. It follows the newest row
// unless the user scrubs back with the wheel or the slider.
type flowView struct {
	widget.BaseWidget

	model    *session.Diagram
	top      int  // the first row shown
	follow   bool // keep the newest row in view
	selected int  // the highlighted row, -1 for none
	wheel    float32

	// onSelect is called with the row the user clicked.
	onSelect func(row int)
	// published, when set, says how many messages the run has published, for the hint
	// an empty diagram shows.
	published func() int
	// onScroll is called when the window moves, so a slider can follow.
	onScroll func()

	// marks, when set, mark each row as a comparison with another run found it (see
	// compare.go); only is the glyph of a row the other run lacks, "–" or "+" as in a diff.
	marks []session.Mark
	only  string
	// remote names the lifelines of apps other processes serve, and the bridge's, with
	// where they run: they are drawn dashed, their names marked (remote.go).
	remote map[string]string
	// limit, when above 0, shows only the first limit rows: a compared run is shown as it
	// was compared, even if it goes on in the main window.
	limit int
}

func newFlowView(m *session.Diagram) *flowView {
	v := &flowView{model: m, follow: true, selected: -1}
	v.ExtendBaseWidget(v)
	return v
}

// visibleRows is how many rows fit the widget's height.
func (v *flowView) visibleRows() int {
	return max(1, int((v.Size().Height-flowHeader)/flowRow))
}

// lastTop is the top row that shows the newest row at the bottom.
func (v *flowView) lastTop() int { return max(0, v.rows()-v.visibleRows()) }

// rows is how many rows the diagram has.
func (v *flowView) rows() int {
	if v.model == nil {
		return 0
	}
	if v.limit > 0 {
		return min(v.model.Len(), v.limit)
	}
	return v.model.Len()
}

// apps are the lifelines.
func (v *flowView) apps() []string {
	if v.model == nil {
		return nil
	}
	return v.model.Apps()
}

// setModel shows another run's diagram from its start.
func (v *flowView) setModel(m *session.Diagram) {
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
	if row < 0 || row >= v.rows() {
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
	if row >= v.rows() {
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
	return fyne.NewSize(flowGutter+float32(len(v.apps()))*flowLane, flowHeader+3*flowRow)
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
	apps int // lifelines in the last build
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
	n := max(1, r.apps)
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
	apps := v.apps()
	r.apps = len(apps)
	for i, app := range apps {
		x := r.laneX(i)
		line := canvas.NewLine(muted)
		line.StrokeWidth = 1
		line.Position1, line.Position2 = fyne.NewPos(x, flowHeader), fyne.NewPos(x, size.Height)
		name := canvas.NewText(app, fg)
		name.TextStyle.Bold = true
		name.TextSize = theme.TextSize()
		label := app
		if _, ok := v.remote[app]; ok {
			// another process's app: a dashed lifeline in the accent colour, its name marked
			objs = append(objs, shaft(theme.Color(theme.ColorNamePrimary), dashed, x, flowHeader, x, size.Height)...)
			name.Color = theme.Color(theme.ColorNamePrimary)
			label = remoteMark + app
		} else {
			objs = append(objs, line)
		}
		name.Text = fitText(label, r.laneX(1)-r.laneX(0)-6, name.TextSize, name.TextStyle)
		w := fyne.MeasureText(name.Text, name.TextSize, name.TextStyle).Width
		name.Move(fyne.NewPos(x-w/2, 4))
		objs = append(objs, name)
	}
	rows := v.visibleRows()
	var arrows []session.Arrow
	if m != nil {
		arrows = m.Arrows(v.top, min(v.top+rows, v.rows()))
	}
	for i, a := range arrows {
		row := v.top + i
		y0 := flowHeader + float32(row-v.top)*flowRow
		if row == v.selected {
			hl := canvas.NewRectangle(theme.Color(theme.ColorNameSelection))
			hl.Move(fyne.NewPos(0, y0))
			hl.Resize(fyne.NewSize(size.Width, flowRow))
			objs = append(objs, hl)
		}
		objs = append(objs, v.markObjects(row, y0, size.Width)...)
		at := canvas.NewText(fmt.Sprintf("%.3fs", a.At.Seconds()), quiet)
		at.TextSize = small
		at.TextStyle.Monospace = true
		at.Move(fyne.NewPos(4+markWidth(v.marks), y0+flowRow-small-8))
		objs = append(objs, at)
		x1, x2 := r.laneX(a.From), r.laneX(a.To)
		y := y0 + flowRow - 6
		objs = append(objs, arrowObjects(a.Kind, x1, x2, y)...)
		label := canvas.NewText("", fg)
		label.TextSize = small
		lx := min(x1, x2) + 6
		if a.From == a.To {
			lx = x1 + flowSelf + 6
		}
		// nothing clips a split pane: the label must end inside the diagram
		text := a.Label()
		label.Text = fitText(text, size.Width-lx-4, small, label.TextStyle)
		if left := x1 - 6 - flowGutter; a.From == a.To && label.Text != text && left > size.Width-lx-4 {
			// a loop on a lifeline near the right edge: the label reads better on its left
			label.Text = fitText(text, left, small, label.TextStyle)
			lx = x1 - 6 - fyne.MeasureText(label.Text, small, label.TextStyle).Width
		}
		label.Move(fyne.NewPos(lx, y0+1))
		objs = append(objs, label)
	}
	if v.rows() == 0 {
		text := "Step or run the scenario: every delivery appears here as an arrow."
		if m != nil && m.Len() == 0 && v.published != nil && v.published() > 0 {
			text = "Messages are published; their deliveries appear here as arrows as they happen."
		}
		hint := canvas.NewText(text, quiet)
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
