package ui

import (
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// monoRow is one line of monospace text, cut with an ellipsis to the width it is given:
// a row of the log. A label cuts its text by measuring it again and again until it fits,
// each measure a shaping of the text; in monospace the cut is a division, and that
// matters when a running log shows a screenful of new rows thirty times a second.
type monoRow struct {
	widget.BaseWidget
	// Text is the whole line, whatever is shown of it.
	Text string
	cols int // characters that fit the width last laid out; 0 before any layout
	line *canvas.Text
}

func newMonoRow() *monoRow {
	r := &monoRow{line: canvas.NewText("", theme.Color(theme.ColorNameForeground))}
	r.line.TextStyle = fyne.TextStyle{Monospace: true}
	r.ExtendBaseWidget(r)
	return r
}

// SetText shows s, cut to the row's width.
func (r *monoRow) SetText(s string) {
	if s == r.Text {
		return
	}
	r.Text = s
	r.cut()
}

// cut puts as much of the text as fits into the line, and redraws it if that changed.
func (r *monoRow) cut() {
	shown := cutToColumns(r.Text, r.cols)
	if shown != r.line.Text {
		r.line.Text = shown
		r.line.Refresh()
	}
}

// cutToColumns shortens s to cols characters, the last an ellipsis, when it is longer;
// cols <= 0 (not laid out yet) leaves it whole.
func cutToColumns(s string, cols int) string {
	if cols <= 0 || utf8.RuneCountInString(s) <= cols {
		return s
	}
	if cols == 1 {
		return "…"
	}
	n := 0
	for i := range s {
		if n == cols-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// charSize is the size of one monospace character at the theme's text size.
func charSize() fyne.Size {
	return fyne.MeasureText("M", theme.TextSize(), fyne.TextStyle{Monospace: true})
}

func (r *monoRow) CreateRenderer() fyne.WidgetRenderer { return &monoRowRenderer{r: r} }

type monoRowRenderer struct{ r *monoRow }

func (m *monoRowRenderer) Layout(size fyne.Size) {
	r := m.r
	pad := theme.InnerPadding()
	ch := charSize()
	if cw := ch.Width; cw > 0 {
		if cols := int((size.Width - 2*pad) / cw); cols != r.cols {
			r.cols = max(cols, 1)
			r.cut()
		}
	}
	r.line.Move(fyne.NewPos(pad, (size.Height-ch.Height)/2))
	r.line.Resize(fyne.NewSize(size.Width-2*pad, ch.Height))
}

// MinSize is a label's height and asks for little width: the line is cut to whatever
// width the row gets.
func (m *monoRowRenderer) MinSize() fyne.Size {
	pad := theme.InnerPadding()
	return fyne.NewSize(2*pad+charSize().Width, charSize().Height+2*pad)
}

// Refresh follows a change of theme.
func (m *monoRowRenderer) Refresh() {
	m.r.line.Color = theme.Color(theme.ColorNameForeground)
	m.r.line.TextSize = theme.TextSize()
	m.r.line.Refresh()
}

func (m *monoRowRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{m.r.line} }
func (m *monoRowRenderer) Destroy()                     {}
