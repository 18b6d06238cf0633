package ui

import (
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mfelab/session"
)

// linePattern is how an arrow's shaft is drawn: dash and gap lengths in pixels, {0, 0}
// for a solid line.
type linePattern struct{ dash, gap float32 }

var (
	solid  = linePattern{}
	dashed = linePattern{7, 4}
	dotted = linePattern{2, 3}
	long   = linePattern{12, 4}
)

// arrowHead is the shape at the receiving end.
type arrowHead uint8

const (
	headFilled arrowHead = iota // a filled triangle
	headOpen                    // two strokes, like a reply in UML
	headCross                   // an X: it did not get through
	headNone
)

// arrowStyle is how one kind of arrow is drawn; its name and label mark come from the
// session, which classifies the arrows. The colours are the Okabe–Ito palette, chosen to
// stay apart for the common kinds of colour blindness, on light and dark backgrounds.
type arrowStyle struct {
	colour  color.NRGBA
	pattern linePattern
	head    arrowHead
}

var arrowStyles = [session.ArrowKinds]arrowStyle{
	session.ArrowEvent:        {color.NRGBA{0x00, 0x72, 0xB2, 0xff}, solid, headFilled},
	session.ArrowRequest:      {color.NRGBA{0x00, 0x9E, 0x73, 0xff}, solid, headFilled},
	session.ArrowReply:        {color.NRGBA{0x56, 0xB4, 0xE9, 0xff}, dashed, headOpen},
	session.ArrowErrorReply:   {color.NRGBA{0xD5, 0x5E, 0x00, 0xff}, dashed, headOpen},
	session.ArrowCompensation: {color.NRGBA{0xE6, 0x9F, 0x00, 0xff}, long, headFilled},
	session.ArrowFailed:       {color.NRGBA{0xD5, 0x5E, 0x00, 0xff}, solid, headCross},
	session.ArrowRetry:        {color.NRGBA{0xD5, 0x5E, 0x00, 0xff}, dashed, headCross},
	session.ArrowDeadLetter:   {color.NRGBA{0xCC, 0x79, 0xA7, 0xff}, solid, headCross},
	session.ArrowSkipped:      {color.NRGBA{0x99, 0x99, 0x99, 0xff}, dotted, headOpen},
	session.ArrowRejected:     {color.NRGBA{0xD5, 0x5E, 0x00, 0xff}, dotted, headCross},
	session.ArrowRateLimited:  {color.NRGBA{0x99, 0x88, 0x22, 0xff}, long, headCross},
	session.ArrowTimeout:      {color.NRGBA{0x99, 0x88, 0x22, 0xff}, dotted, headNone},
	session.ArrowPublish:      {color.NRGBA{0x00, 0x72, 0xB2, 0xff}, dashed, headOpen},
}

// arrowObjects draws one arrow of kind from x1 to x2 at height y. An arrow that starts and
// ends on one lifeline is drawn as a short loop out and back.
func arrowObjects(kind session.ArrowKind, x1, x2, y float32) []fyne.CanvasObject {
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
	for k := range session.ArrowKinds {
		sample := container.NewWithoutLayout(arrowObjects(k, 2, 34, 9)...)
		sample.Resize(fyne.NewSize(40, 18))
		name := widget.NewLabel(k.String())
		name.SizeName = theme.SizeNameCaptionText
		items = append(items, container.NewHBox(container.NewGridWrap(fyne.NewSize(40, 18), sample), name))
	}
	return container.NewGridWrap(fyne.NewSize(150, 28), items...)
}
