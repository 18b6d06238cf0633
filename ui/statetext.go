package ui

import (
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mfelab/scenarios"
)

// stateText is a card's state: key/value lines in small monospace with the values
// aligned, wrapped to the card's width rather than cut off, since the value cut off is
// often the very result a scenario is about ("status complete in 180ms").
type stateText struct {
	widget.BaseWidget
	// Text is the state unwrapped, one field a line: what the card says, for tests.
	Text   string
	fields []scenarios.Field
	cols   int // characters a line holds at the width last laid out; 0 before any
	label  *widget.Label
}

func newStateText() *stateText {
	t := &stateText{label: widget.NewLabel("(idle)"), Text: "(idle)"}
	t.label.TextStyle = fyne.TextStyle{Monospace: true}
	t.label.SizeName = theme.SizeNameCaptionText
	t.ExtendBaseWidget(t)
	return t
}

// set shows fields, wrapped at the current width.
func (t *stateText) set(fields []scenarios.Field) {
	t.fields = fields
	lines := make([]string, 0, len(fields))
	for _, f := range fields {
		lines = append(lines, f.Key+" "+f.Value)
	}
	if len(lines) == 0 {
		lines = []string{"(idle)"}
	}
	t.Text = strings.Join(lines, "\n")
	t.rewrap()
}

func (t *stateText) rewrap() {
	text := strings.Join(wrapFields(t.fields, t.cols), "\n")
	if t.label.Text != text {
		t.label.SetText(text)
	}
}

// lineCount is how many lines the state takes at the current width.
func (t *stateText) lineCount() int { return strings.Count(t.label.Text, "\n") + 1 }

// columnsFor is how many monospace characters fit a width.
func (t *stateText) columnsFor(width float32) int {
	cw := fyne.MeasureText("M", theme.Size(theme.SizeNameCaptionText), fyne.TextStyle{Monospace: true}).Width
	if cw <= 0 {
		return 0
	}
	return int((width - 2*theme.InnerPadding()) / cw)
}

func (t *stateText) CreateRenderer() fyne.WidgetRenderer {
	return &stateTextRenderer{t: t}
}

type stateTextRenderer struct{ t *stateText }

func (r *stateTextRenderer) Layout(size fyne.Size) {
	if cols := r.t.columnsFor(size.Width); cols != r.t.cols {
		r.t.cols = cols
		r.t.rewrap()
	}
	r.t.label.Resize(size)
}

// MinSize is as tall as the wrapped lines and asks for little width: the text wraps to
// whatever width the card gets.
func (r *stateTextRenderer) MinSize() fyne.Size {
	return fyne.NewSize(8*theme.InnerPadding(), r.t.label.MinSize().Height)
}

func (r *stateTextRenderer) Refresh()                     { r.t.label.Refresh() }
func (r *stateTextRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.t.label} }
func (r *stateTextRenderer) Destroy()                     {}

// minValueColumns is the narrowest a value column gets beside its keys; below it, each
// value goes under its key instead.
const minValueColumns = 14

// wrapFields lays fields out in cols characters a line: keys in one column, values
// beside them wrapped at spaces (or mid-word when a word is longer than the line), the
// continuation lines indented to the value column. With no room for a value column each
// value goes, indented, under its key. cols <= 0 means no limit.
func wrapFields(fields []scenarios.Field, cols int) []string {
	if len(fields) == 0 {
		return []string{"(idle)"}
	}
	keyW := 0
	for _, f := range fields {
		keyW = max(keyW, utf8.RuneCountInString(f.Key))
	}
	unlimited := cols <= 0
	beside := unlimited || cols-keyW-1 >= minValueColumns
	var out []string
	for _, f := range fields {
		if beside {
			indent := strings.Repeat(" ", keyW+1)
			width := cols - keyW - 1
			if unlimited {
				width = 0
			}
			for i, part := range wrapText(f.Value, width) {
				if i == 0 {
					out = append(out, f.Key+strings.Repeat(" ", keyW-utf8.RuneCountInString(f.Key)+1)+part)
				} else {
					out = append(out, indent+part)
				}
			}
			continue
		}
		out = append(out, wrapText(f.Key, cols)...)
		for _, part := range wrapText(f.Value, cols-2) {
			out = append(out, "  "+part)
		}
	}
	return out
}

// wrapText breaks s into lines of at most width runes, at spaces where it can. A width
// of 0 or less leaves each line of s whole.
func wrapText(s string, width int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		if width <= 0 || utf8.RuneCountInString(para) <= width {
			out = append(out, para)
			continue
		}
		line := []rune{}
		for _, word := range strings.Fields(para) {
			w := []rune(word)
			if len(line) > 0 && len(line)+1+len(w) <= width {
				line = append(append(line, ' '), w...)
				continue
			}
			if len(line) > 0 {
				out = append(out, string(line))
				line = line[:0]
			}
			for len(w) > width { // a word longer than the line is broken where it must be
				out = append(out, string(w[:width]))
				w = w[width:]
			}
			line = append(line, w...)
		}
		out = append(out, string(line))
	}
	return out
}
