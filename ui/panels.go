package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"mfelab/scenarios"
)

// panels are the microfrontends' cards: each shows its app's state and a switch that
// takes it down.
type panels struct {
	grid  *fyne.Container
	cards map[string]*panel
}

// panel is one microfrontend's card.
type panel struct {
	role   string
	card   *widget.Card
	body   *widget.Label
	faults *widget.Check
}

func newPanels() *panels {
	return &panels{grid: container.NewGridWrap(fyne.NewSize(236, 196)), cards: map[string]*panel{}}
}

// reset makes a card for every app of world; toggled is told when the user takes an app
// down or brings it back.
func (p *panels) reset(world *scenarios.World, toggled func(app string, down bool)) {
	p.grid.RemoveAll()
	p.cards = map[string]*panel{}
	for _, a := range world.Apps() {
		body := widget.NewLabel("")
		body.TextStyle = fyne.TextStyle{Monospace: true}
		body.Truncation = fyne.TextTruncateEllipsis
		faults, name := a.Faults, a.Name
		chk := widget.NewCheck("down", func(down bool) {
			if faults.State().Down != down { // not the refresh showing a scripted outage
				faults.SetDown(down)
				toggled(name, down)
			}
		})
		chk.SetChecked(faults.State().Down)
		card := widget.NewCard(a.Title, a.Role, container.NewBorder(nil, chk, nil, nil, body))
		p.cards[a.Name] = &panel{role: a.Role, card: card, body: body, faults: chk}
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
		var lines []string
		for _, f := range s.Fields {
			lines = append(lines, fmt.Sprintf("%-14s %s", f.Key, f.Value))
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
		c.card.SetSubTitle(sub)
	}
}
