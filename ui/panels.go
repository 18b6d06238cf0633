package ui

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mfelab/scenarios"
)

// panels are the microfrontends' cards: each shows its app's state and a switch that
// takes it down.
type panels struct {
	grid   *fyne.Container
	layout *cardGrid
	cards  map[string]*panel
}

// panel is one microfrontend's card: its name and "down" switch on one line, its role or
// condition under it, then its state in small monospace, wrapped to the card's width so
// that no value is ever cut off.
type panel struct {
	role   string
	sub    *widget.Label
	body   *stateText
	faults *widget.Check
	shown  []scenarios.Field // the state the body shows
	card   fyne.CanvasObject
	height float32 // the card's height as its contents last asked
}

func newPanels() *panels {
	g := &cardGrid{}
	return &panels{grid: container.New(g), layout: g, cards: map[string]*panel{}}
}

// reset makes a card for every app of world; toggled is told when the user takes an app
// down or brings it back.
func (p *panels) reset(world *scenarios.World, toggled func(app string, down bool)) {
	p.grid.RemoveAll()
	p.cards = map[string]*panel{}
	for _, a := range world.Apps() {
		body := newStateText()
		faults, name := a.Faults, a.Name
		chk := widget.NewCheck("down", func(down bool) {
			if faults.State().Down != down { // not the refresh showing a scripted outage
				faults.SetDown(down)
				toggled(name, down)
			}
		})
		chk.SetChecked(faults.State().Down)
		title := widget.NewLabelWithStyle(a.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		if a.Remote() {
			// its process is the one to stop; here it is only a stand-in
			chk.Disable()
			title.SetText(remoteMark + a.Title)
			title.Importance = widget.HighImportance
		}
		// The title is never wrapped or cut: its width with the switch is the narrowest the
		// card may get, which the grid keeps to (cardGrid, shareRow).
		sub := widget.NewLabel(a.Role)
		sub.SizeName = theme.SizeNameCaptionText
		sub.Wrapping = fyne.TextWrapWord
		head := container.NewBorder(nil, nil, nil, chk, title)
		// The labels' own inner padding already parts the lines; the stack takes back
		// the rest so that two rows of cards with their state fit a 1440x900 window.
		tight := layout.NewCustomPaddedVBoxLayout(-theme.InnerPadding() - theme.Padding())
		card := widget.NewCard("", "", container.New(tight, head, sub, body))
		p.cards[a.Name] = &panel{role: a.Role, sub: sub, body: body, faults: chk, card: card}
		p.grid.Add(card)
	}
}

// refresh shows every app's state; active names the apps that did something since the
// last refresh.
func (p *panels) refresh(world *scenarios.World, active map[string]bool) {
	relayout := false
	for _, s := range world.Snapshots() {
		c := p.cards[s.Name]
		if c == nil {
			continue
		}
		lines, was := c.body.lineCount(), c.sub.Text
		if !slices.Equal(s.Fields, c.shown) { // most cards stand still while one app is busy
			c.body.set(s.Fields)
			c.shown = s.Fields
		}
		sub := c.role
		if s.Origin != "" {
			sub = "in another process, at " + s.Origin
		}
		if active[s.Name] {
			sub = "● active · " + sub
		}
		if s.Faults.Down {
			sub = "✖ DOWN · " + c.role
		}
		c.faults.SetChecked(s.Faults.Down) // a scripted outage shows on the switch too
		if c.sub.Text != sub {
			c.sub.SetText(sub)
		}
		// a card grows with a line of state, or with its role wrapping once marked active
		if c.body.lineCount() != lines || c.sub.Text != was {
			if h := c.card.MinSize().Height; h != c.height {
				c.height, relayout = h, true
			}
		}
	}
	if relayout {
		p.grid.Refresh() // rows fit their tallest card again
	}
}

// remoteMark marks an app that another process serves, on its card and its lifeline.
const remoteMark = "⇄ "

// minCardWidth is the narrowest a card gets before the grid takes a column away: the
// widest title ("Cart / Checkout") beside its "down" switch.
const minCardWidth = 232

// maxCardColumns keeps the cards readable in a wide window: past four, a row of eight
// narrow cards would cut titles and wrap every value.
const maxCardColumns = 4

// cardGrid lays the cards out in as many columns as fit (at most four), each row as tall
// as its tallest card, so that a card with eight lines of state does not make every card
// eight lines tall.
type cardGrid struct {
	// width is the width last laid out: how tall the cards are depends on it; height is
	// how tall they were there.
	width, height float32
}

func (g *cardGrid) columns(width float32, n int) int {
	pad := theme.Padding()
	cols := int((width + pad) / (minCardWidth + pad))
	return max(1, min(cols, maxCardColumns, n))
}

func (g *cardGrid) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	g.width = size.Width
	g.height = g.place(objects, size.Width)
}

// place positions the cards for a width and returns the height they take. A card's
// height depends on its width (its text wraps), so each card is given its width first,
// then asked its height.
func (g *cardGrid) place(objects []fyne.CanvasObject, width float32) float32 {
	if len(objects) == 0 {
		return 0
	}
	pad := theme.Padding()
	cols := g.columns(width, len(objects))
	colW := (width - pad*float32(cols-1)) / float32(cols)
	y := float32(0)
	for start := 0; start < len(objects); start += cols {
		row := objects[start:min(start+cols, len(objects))]
		widths := shareRow(row, colW*float32(len(row)))
		rowH := float32(0)
		for _, o := range row {
			rowH = max(rowH, o.MinSize().Height)
		}
		x := float32(0)
		for i, o := range row {
			o.Move(fyne.NewPos(x, y))
			o.Resize(fyne.NewSize(widths[i], rowH))
			relayout(o)
			x += widths[i] + pad
		}
		y += rowH + pad
	}
	return y - pad
}

// relayout lays a card's lines out again at the card's final size. Trying widths left
// its wrapped labels measured at another width, and a Resize to an unchanged size does
// not lay the card out again, which would leave a gap where a line wrapped before.
func relayout(o fyne.CanvasObject) {
	if card, ok := o.(*widget.Card); ok {
		if inner, ok := card.Content.(*fyne.Container); ok {
			inner.Refresh()
		}
	}
}

// shareStep is how much width shareRow moves from one card to another at a time.
const shareStep = 24

// shareRow divides a row's width among its cards so that the row is as short as it can
// be: starting from equal widths, it moves width a step at a time to the tallest card
// from the card that can best spare it (never narrower than its title and switch, and
// shorter than the row), and keeps the widths that made the row shortest. Each card is
// left resized to its width, so its MinSize is its height there.
func shareRow(row []fyne.CanvasObject, total float32) []float32 {
	n := len(row)
	widths := make([]float32, n)
	heights := make([]float32, n)
	measure := func(i int) {
		row[i].Resize(fyne.NewSize(widths[i], row[i].Size().Height)) // wrapped text learns its width
		heights[i] = row[i].MinSize().Height
	}
	tallest := func() (int, float32) {
		t := 0
		for i := range heights {
			if heights[i] > heights[t] {
				t = i
			}
		}
		return t, heights[t]
	}
	for i := range row {
		widths[i] = total / float32(n)
		measure(i)
	}
	_, bestH := tallest()
	best := append([]float32(nil), widths...)
	for range 48 {
		tall, rowH := tallest()
		donor := -1
		for i := range row {
			spare := widths[i] - shareStep - row[i].MinSize().Width
			if i != tall && spare >= 0 && (donor < 0 || spare > widths[donor]-row[donor].MinSize().Width) {
				donor = i
			}
		}
		if donor < 0 {
			break
		}
		widths[tall] += shareStep
		widths[donor] -= shareStep
		measure(tall)
		measure(donor)
		if heights[donor] >= rowH { // the donor would become the tallest: nothing gained
			break
		}
		if _, h := tallest(); h < bestH {
			bestH = h
			copy(best, widths)
		}
	}
	if !slices.Equal(best, widths) {
		copy(widths, best)
		for i := range row {
			measure(i)
		}
	}
	return widths
}

func (g *cardGrid) MinSize(objects []fyne.CanvasObject) fyne.Size {
	if len(objects) == 0 {
		return fyne.Size{}
	}
	// The height is the one the cards took at the width last laid out (their text has
	// wrapped to it since); before any layout, a guess from their own minimum sizes.
	// Placing them again here would resize and refresh every card each time the window
	// checks its minimum size, which it does before every paint: the refreshes ask for
	// another paint, and the window would repaint without end, idle or not. A card that
	// grows refreshes the grid (panels.refresh), which lays it out again.
	if g.width > 0 {
		return fyne.NewSize(minCardWidth, g.height)
	}
	{
		h := float32(0)
		for _, o := range objects {
			h = max(h, o.MinSize().Height)
		}
		return fyne.NewSize(minCardWidth, h*float32(len(objects)))
	}
}
