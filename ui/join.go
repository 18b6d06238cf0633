package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"mfelab/session"
)

// streamChoices are the lengths of a stream the dialogs offer, by label.
var streamChoices = []struct {
	label string
	d     time.Duration
}{{"30s", 30 * time.Second}, {"1 minute", time.Minute}, {"2 minutes", 2 * time.Minute}, {"5 minutes", 5 * time.Minute}, {"15 minutes", 15 * time.Minute}}

// defaultStream is what the dialogs offer first: time enough to stop an app and start it
// again while orders keep coming.
const defaultStream = 2 * time.Minute

// placement is the part of the Share and Join dialogs that says which apps run in other
// processes and whether the scenario keeps its story going.
type placement struct {
	apps   *widget.CheckGroup
	stream *widget.Check
	length *widget.Select
}

// newPlacement offers the scenario's detachable apps, Payment ticked when it is one, and
// its stream when it has one.
func (l *lab) newPlacement() *placement {
	p := &placement{apps: widget.NewCheckGroup(l.scenario.Detachable, nil)}
	p.apps.Horizontal = true
	for _, a := range l.scenario.Detachable {
		if a == "payment" {
			p.apps.SetSelected([]string{a})
		}
	}
	var labels []string
	for _, c := range streamChoices {
		labels = append(labels, c.label)
	}
	p.length = widget.NewSelect(labels, nil)
	p.length.SetSelected(streamLabel(defaultStream))
	p.stream = widget.NewCheck("Keep it going: "+l.scenario.StreamText(), func(on bool) {
		if on {
			p.length.Enable()
		} else {
			p.length.Disable()
		}
	})
	p.stream.SetChecked(true)
	return p
}

func streamLabel(d time.Duration) string {
	for _, c := range streamChoices {
		if c.d == d {
			return c.label
		}
	}
	return d.String()
}

// items are the placement's form lines.
func (p *placement) items(l *lab) []*widget.FormItem {
	out := []*widget.FormItem{widget.NewFormItem("Run elsewhere", p.apps)}
	if l.scenario.StreamText() != "" {
		out = append(out, widget.NewFormItem("", p.stream), widget.NewFormItem("For", p.length))
	}
	return out
}

// apply puts the placement into opts.
func (p *placement) apply(l *lab, opts *session.RemoteOptions) {
	opts.Apps = append([]string(nil), p.apps.Selected...)
	if l.scenario.StreamText() != "" && p.stream.Checked {
		for _, c := range streamChoices {
			if c.label == p.length.Selected {
				opts.Stream = c.d
			}
		}
	}
}

// canPlace says, when the scenario on screen has no app that can run elsewhere, which
// scenario has.
func (l *lab) canPlace() bool {
	if len(l.scenario.Detachable) > 0 {
		return true
	}
	l.info("This scenario runs in one process", fmt.Sprintf("None of the apps of %s can run in another process: "+
		"their wiring cannot be split from the rest of the run. The orchestrated checkout's services "+
		"(inventory, payment, shipping, notifications) can.", l.scenario.Title))
	return false
}

// offeredURL is the server the dialogs offer: the one last used, or the standard one.
func (l *lab) offeredURL() string {
	if l.net.lastURL != "" {
		return l.net.lastURL
	}
	if l.prefs != nil {
		if u := l.prefs.String(prefNATSURL); u != "" {
			return u
		}
	}
	return "nats://" + session.DefaultShareAddress
}

// chooseJoin asks for a NATS server and the apps other processes serve there, then
// starts the scenario on screen afresh, joined to it.
func (l *lab) chooseJoin() {
	if l.ses == nil || !l.canPlace() {
		return
	}
	url := widget.NewEntry()
	url.SetText(l.offeredURL())
	url.SetPlaceHolder("nats://host:4222")
	user := widget.NewEntry()
	user.SetPlaceHolder("only for a server started with -acl")
	password := widget.NewPasswordEntry()
	p := l.newPlacement()
	hint := widget.NewLabel("Each app ticked runs in a process of its own, started with " +
		"`mfelab app NAME -nats URL`; the rest of the run goes on here. Joined, the run keeps to the wall clock.")
	hint.Wrapping = fyne.TextWrapWord
	items := append([]*widget.FormItem{widget.NewFormItem("Server", url)}, p.items(l)...)
	items = append(items, widget.NewFormItem("User", user), widget.NewFormItem("Password", password))
	d := dialog.NewCustomConfirm("Join a bus", "Join", "Cancel", container.NewVBox(hint, widget.NewForm(items...)), func(ok bool) {
		if !ok {
			return
		}
		opts := session.RemoteOptions{URL: strings.TrimSpace(url.Text), User: strings.TrimSpace(user.Text), Password: password.Text}
		p.apply(l, &opts)
		shared := l.net.shared
		if l.joinBus(opts) == nil && shared != nil && opts.URL != shared.URL() {
			l.stopSharing() // joined another bus: nothing here to share any more
		}
	}, l.win)
	d.Resize(fyne.NewSize(680, 420))
	l.show(d, d.Confirm)
}
