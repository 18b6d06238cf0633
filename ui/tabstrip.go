package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// tabStrip is a row of tab buttons over their pages. Unlike AppTabs, which hides the
// tabs that do not fit behind a "…" menu, its buttons wrap onto a second line in a
// narrow pane, so every tab keeps its visible label at any window size.
type tabStrip struct {
	content  fyne.CanvasObject
	buttons  []*widget.Button
	pages    []fyne.CanvasObject
	titles   []string
	selected int
	// OnSelected is told the index of a tab the user or the program selects.
	OnSelected func(int)
}

func newTabStrip(items ...*container.TabItem) *tabStrip {
	t := &tabStrip{}
	wrap := &wrapLayout{}
	bar := container.New(wrap)
	stack := container.NewStack()
	for i, it := range items {
		b := widget.NewButton(it.Text, func() { t.SelectIndex(i) })
		t.buttons = append(t.buttons, b)
		t.pages = append(t.pages, it.Content)
		t.titles = append(t.titles, it.Text)
		bar.Add(b)
		stack.Add(it.Content)
	}
	t.content = container.New(&stripLayout{wrap: wrap}, bar, stack)
	t.SelectIndex(0)
	return t
}

// SelectIndex shows page i.
func (t *tabStrip) SelectIndex(i int) {
	if i < 0 || i >= len(t.pages) {
		return
	}
	t.selected = i
	for j, p := range t.pages {
		imp := widget.LowImportance
		if j == i {
			imp = widget.HighImportance
			p.Show()
		} else {
			p.Hide()
		}
		if t.buttons[j].Importance != imp {
			t.buttons[j].Importance = imp
			t.buttons[j].Refresh()
		}
	}
	if t.OnSelected != nil {
		t.OnSelected(i)
	}
}

// Selected is the index of the page shown.
func (t *tabStrip) Selected() int { return t.selected }

// wrapLayout places objects left to right at their minimum size and starts a new line
// when the next one does not fit.
type wrapLayout struct {
	width float32 // the width last laid out, which decides the lines
}

func (w *wrapLayout) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	w.width = size.Width
	w.place(objects, size.Width, true)
}

func (w *wrapLayout) place(objects []fyne.CanvasObject, width float32, move bool) fyne.Size {
	pad := theme.Padding()
	var x, y, lineH, widest float32
	for _, o := range objects {
		if !o.Visible() {
			continue
		}
		m := o.MinSize()
		if x > 0 && x+m.Width > width {
			x, y = 0, y+lineH+pad
			lineH = 0
		}
		if move {
			o.Move(fyne.NewPos(x, y))
			o.Resize(m)
		}
		x += m.Width + pad
		lineH = max(lineH, m.Height)
		widest = max(widest, m.Width)
	}
	return fyne.NewSize(widest, y+lineH)
}

// MinSize is as wide as the widest object and as tall as the lines take at the width
// last laid out.
func (w *wrapLayout) MinSize(objects []fyne.CanvasObject) fyne.Size {
	width := w.width
	if width == 0 {
		width = 1 << 20 // one line until the first layout
	}
	return w.place(objects, width, false)
}

// stripLayout puts the tab bar on top, as tall as its buttons take at the strip's width,
// and the pages under it: the bar's height is worked out for the width it is given, not
// the width it had before.
type stripLayout struct{ wrap *wrapLayout }

func (s *stripLayout) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	bar, stack := objects[0].(*fyne.Container), objects[1]
	h := s.wrap.place(bar.Objects, size.Width, false).Height
	bar.Move(fyne.NewPos(0, 0))
	bar.Resize(fyne.NewSize(size.Width, h))
	top := h + theme.Padding()
	stack.Move(fyne.NewPos(0, top))
	stack.Resize(fyne.NewSize(size.Width, size.Height-top))
}

func (s *stripLayout) MinSize(objects []fyne.CanvasObject) fyne.Size {
	bar, stack := objects[0].MinSize(), objects[1].MinSize()
	return fyne.NewSize(max(bar.Width, stack.Width), bar.Height+theme.Padding()+stack.Height)
}
