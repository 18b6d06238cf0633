package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mfelab/scenarios"
)

// panels are the microfrontends' cards: each shows its app's state and a switch that
// takes it down.
type panels struct {
	grid  *fyne.Container
	cards map[string]*panel
}

// panel is one microfrontend's card: its name and "down" switch on one line, its role or
// condition under it, then its state in small monospace, so that all eight fit a
// 1440x900 window in two rows with their state readable.
type panel struct {
	role   string
	sub    *widget.Label
	body   *widget.Label
	faults *widget.Check
}

// panelColumns is how many cards a row holds.
const panelColumns = 4

func newPanels() *panels {
	return &panels{grid: container.NewGridWithColumns(panelColumns), cards: map[string]*panel{}}
}

// reset makes a card for every app of world; toggled is told when the user takes an app
// down or brings it back.
func (p *panels) reset(world *scenarios.World, toggled func(app string, down bool)) {
	p.grid.RemoveAll()
	p.cards = map[string]*panel{}
	for _, a := range world.Apps() {
		body := widget.NewLabel("")
		body.TextStyle = fyne.TextStyle{Monospace: true}
		body.SizeName = theme.SizeNameCaptionText
		body.Truncation = fyne.TextTruncateEllipsis
		faults, name := a.Faults, a.Name
		chk := widget.NewCheck("down", func(down bool) {
			if faults.State().Down != down { // not the refresh showing a scripted outage
				faults.SetDown(down)
				toggled(name, down)
			}
		})
		chk.SetChecked(faults.State().Down)
		title := widget.NewLabelWithStyle(a.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		title.Truncation = fyne.TextTruncateEllipsis
		sub := widget.NewLabel(a.Role)
		sub.SizeName = theme.SizeNameCaptionText
		sub.Truncation = fyne.TextTruncateEllipsis
		head := container.NewBorder(nil, nil, nil, chk, title)
		card := widget.NewCard("", "", container.NewBorder(container.NewVBox(head, sub), nil, nil, nil, body))
		p.cards[a.Name] = &panel{role: a.Role, sub: sub, body: body, faults: chk}
		p.grid.Add(card)
	}
}

// refresh shows every app's state; active names the apps that did something since the
// last refresh.
func (p *panels) refresh(world *scenarios.World, active map[string]bool) {
	for _, s := range world.Snapshots() {
		c := p.cards[s.Name]
		if c == nil {
			continue
		}
		width := 0
		for _, f := range s.Fields {
			width = max(width, len(f.Key))
		}
		var lines []string
		for _, f := range s.Fields {
			lines = append(lines, fmt.Sprintf("%-*s %s", width, f.Key, f.Value))
		}
		if len(lines) == 0 {
			lines = []string{"(idle)"}
		}
		c.body.SetText(strings.Join(lines, "\n"))
		sub := c.role
		if active[s.Name] {
			sub = "● active · " + c.role
		}
		if s.Faults.Down {
			sub = "✖ DOWN · " + c.role
		}
		c.faults.SetChecked(s.Faults.Down) // a scripted outage shows on the switch too
		c.sub.SetText(sub)
	}
}
