package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// tipDelay is how long the pointer rests on a button before its tip shows.
const tipDelay = 600 * time.Millisecond

// tipLayer draws one tooltip over the window's content. It is a plain layer, not a
// pop-up: a pop-up would take the pointer from the button it describes, which would hide
// the tip again at once.
type tipLayer struct {
	layer *fyne.Container
	box   *fyne.Container
	bg    *canvas.Rectangle
	text  *widget.Label
	owner fyne.CanvasObject // the button whose tip shows, nil for none
}

func newTipLayer() *tipLayer {
	t := &tipLayer{text: widget.NewLabel("")}
	t.bg = canvas.NewRectangle(theme.Color(theme.ColorNameOverlayBackground))
	t.bg.StrokeWidth = 1
	t.box = container.NewStack(t.bg, t.text)
	t.box.Hide()
	t.layer = container.NewWithoutLayout(t.box)
	return t
}

// show puts text under (or, at the window's bottom, over) the object o.
func (t *tipLayer) show(o fyne.CanvasObject, text string) {
	d := fyne.CurrentApp().Driver()
	c := d.CanvasForObject(o)
	if c == nil {
		return
	}
	t.owner = o
	// the colours of the theme in use now, which may have changed since the last tip
	t.bg.FillColor = theme.Color(theme.ColorNameOverlayBackground)
	t.bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
	t.bg.CornerRadius = theme.InputRadiusSize()
	t.text.SetText(text)
	size := t.box.MinSize()
	pos := d.AbsolutePositionForObject(o).Add(fyne.NewPos(0, o.Size().Height+theme.Padding()))
	area := c.Size()
	if pos.Y+size.Height > area.Height {
		pos.Y = d.AbsolutePositionForObject(o).Y - size.Height - theme.Padding()
	}
	pos.X = max(0, min(pos.X, area.Width-size.Width))
	t.box.Move(pos)
	t.box.Resize(size)
	t.box.Show()
	t.layer.Refresh()
}

// hide takes the tip of o away, if it is showing.
func (t *tipLayer) hide(o fyne.CanvasObject) {
	if t.owner == o {
		t.owner = nil
		t.box.Hide()
		t.layer.Refresh()
	}
}

// tipButton is a button that names what it does and its shortcut when the pointer
// rests on it.
type tipButton struct {
	widget.Button
	tip     string
	tips    *tipLayer
	resting *time.Timer
}

func newTipButton(label string, icon fyne.Resource, tip string, tips *tipLayer, tapped func()) *tipButton {
	b := &tipButton{tip: tip, tips: tips}
	b.Text, b.Icon, b.OnTapped = label, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

// MouseIn starts the wait before the tip shows.
func (b *tipButton) MouseIn(e *desktop.MouseEvent) {
	b.Button.MouseIn(e)
	if b.tips == nil {
		return
	}
	b.stopWaiting()
	b.resting = time.AfterFunc(tipDelay, func() { fyne.Do(b.showTip) })
}

// MouseOut takes the tip away.
func (b *tipButton) MouseOut() {
	b.Button.MouseOut()
	b.stopWaiting()
	if b.tips != nil {
		b.tips.hide(b)
	}
}

// Tapped takes the tip away and presses the button.
func (b *tipButton) Tapped(e *fyne.PointEvent) {
	b.stopWaiting()
	if b.tips != nil {
		b.tips.hide(b)
	}
	b.Button.Tapped(e)
}

func (b *tipButton) showTip() {
	if b.tips != nil && b.Visible() {
		b.tips.show(b, b.tip)
	}
}

func (b *tipButton) stopWaiting() {
	if b.resting != nil {
		b.resting.Stop()
		b.resting = nil
	}
}
