package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mfelab/scenarios"
	"mfelab/session"
)

// JoinOptions say which bus the window joins on its own start (Options.Join), as the
// Join dialog does: the NATS server, which of the scenario's apps other processes serve
// (`mfelab app NAME -nats URL`), how to log in, and how long a scenario that can keeps
// its story going.
type JoinOptions struct {
	URL            string
	Apps           []string
	User, Password string
	Stream         time.Duration
}

// netState is what the window knows of other processes: the bus it joined, the server
// it shares, and the box in the left column that says so.
type netState struct {
	join   *session.RemoteOptions // the bus the run is joined to, for Reset to join again; nil on its own
	shared *session.Shared        // the server this window shares its bus with, if any
	// lastURL is the server last joined or shared, offered again by the dialogs.
	lastURL string

	box    *fyne.Container
	title  *widget.Label
	status *widget.Label
	note   *widget.Label
	copy   *widget.Button
	leave  *widget.Button
}

// prefNATSURL keeps the server last joined or shared, which the dialogs offer again.
const prefNATSURL = "nats.url"

// quietLogger drops the bridge's connection log: the window shows its state instead.
var quietLogger = slog.New(slog.DiscardHandler)

// newNetBox builds the box that shows a joined or shared bus; it stays hidden while the
// run is on its own.
func (l *lab) newNetBox() fyne.CanvasObject {
	n := l.net
	n.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	n.status = widget.NewLabel("")
	n.status.Wrapping = fyne.TextWrapWord
	n.note = widget.NewLabel("A joined bus runs on the wall clock: Step, Next act and the speed are off, " +
		"and the seed reproduces only a run on its own. ⇄ marks the apps other processes serve.")
	n.note.Wrapping = fyne.TextWrapWord
	n.note.SizeName = theme.SizeNameCaptionText
	n.copy = widget.NewButtonWithIcon("Copy address", theme.ContentCopyIcon(), func() {
		if a := fyne.CurrentApp(); a != nil && l.shareURL() != "" {
			a.Clipboard().SetContent(l.shareURL())
		}
	})
	n.leave = widget.NewButtonWithIcon("Leave", theme.LogoutIcon(), l.leaveBus)
	n.box = container.NewVBox(widget.NewSeparator(), n.title, n.status, n.note, container.NewGridWithColumns(2, n.copy, n.leave))
	n.box.Hide()
	return n.box
}

// shareURL is the address to give others: the shared server's, or the one joined.
func (l *lab) shareURL() string {
	if l.net.shared != nil {
		return l.net.shared.URL()
	}
	if l.ses != nil && l.ses.Joined() {
		return l.ses.Bridge().URL()
	}
	return ""
}

// joinBus starts a fresh run of the scenario on screen joined to the bus opts names, in
// place of the current run. When it cannot (a bad address, no server there, an app the
// scenario cannot run elsewhere), a dialog says why and the current run goes on.
func (l *lab) joinBus(opts session.RemoteOptions) error {
	opts.Logger = quietLogger
	ses, err := session.StartRemote(l.scenario, l.seed, l.set, opts)
	if err != nil {
		l.showError("Cannot join the bus", joinAdvice(err))
		return err
	}
	l.net.join, l.net.lastURL = &opts, opts.URL
	l.remember(prefNATSURL, opts.URL)
	l.adopt(ses)
	return nil
}

// advised is an error shown with a paragraph on what it means and what to do.
type advised struct {
	err    error
	advice string
}

func (a advised) Error() string { return a.err.Error() + "\n\n" + a.advice }
func (a advised) Unwrap() error { return a.err }

// runGoesOn is what a dialog about a join or share that failed adds.
const runGoesOn = "The run on screen goes on."

// joinAdvice adds to a join's error what to do about it.
func joinAdvice(err error) error {
	switch {
	case errors.Is(err, scenarios.ErrPlacement):
		return advised{err, runGoesOn}
	case errors.Is(err, session.ErrNoURL), errors.Is(err, session.ErrNoRemoteApps):
		return err
	}
	return advised{err, "Check the address; `mfelab serve` (or Share this bus, in another window) starts a server. " + runGoesOn}
}

// rejoin starts the scenario on screen afresh on the bus joined last (Reset, another
// scenario or knob); when that fails the window leaves the bus and runs on its own.
func (l *lab) rejoin() {
	opts := *l.net.join
	ses, err := session.StartRemote(l.scenario, l.seed, l.set, opts)
	if err != nil {
		l.net.join = nil
		l.stopSharing()
		l.reset()
		l.showError("Left the bus", advised{err, "The run starts again on its own, in this window alone."})
		return
	}
	l.adopt(ses)
}

// leaveBus starts the scenario afresh on its own, and stops sharing the bus.
func (l *lab) leaveBus() {
	l.net.join = nil
	l.stopSharing()
	l.reset()
}

// stopSharing shuts the shared server down, if there is one: the processes joined to it
// are cut off.
func (l *lab) stopSharing() {
	if l.net.shared != nil {
		l.net.shared.Close()
		l.net.shared = nil
	}
}

// closeNet leaves the bus and stops sharing, as the window closes.
func (l *lab) closeNet() {
	if l.net != nil {
		l.stopSharing()
	}
}

// markRemote shows whether the session on screen is joined: the apps other processes
// serve are marked on their cards and lifelines, and the controls that need a bus of
// its own are turned off.
func (l *lab) markRemote() {
	joined := l.ses != nil && l.ses.Joined()
	remote := map[string]string{}
	if joined {
		for _, name := range l.ses.RemoteApps() {
			remote[name] = l.ses.Run().Bus.App(name).Origin()
		}
		remote[bridgeApp] = "the bridge to NATS"
	}
	l.flow.remote = remote
	l.flow.Refresh()
	for _, b := range []*tipButton{l.stepBtn, l.actBtn} {
		if joined {
			b.Disable()
		} else {
			b.Enable()
		}
	}
	if joined {
		l.speedSel.Disable()
		l.net.box.Show()
	} else {
		l.speedSel.Enable()
		l.net.box.Hide()
	}
	l.refreshNet()
}

// bridgeApp is the app a bridge registers on its bus, to which it delivers what it sends.
const bridgeApp = "nats-bridge"

// refreshNet brings the box up to date: connection, remote apps heard from, what
// travelled, what was lost or refused, reconnects.
func (l *lab) refreshNet() {
	n := l.net
	if l.ses == nil || !l.ses.Joined() {
		return
	}
	br := l.ses.Bridge()
	st := br.Stats()
	title := "Joined a bus"
	if n.shared != nil {
		title = fmt.Sprintf("Sharing this bus (%d connected)", n.shared.Clients())
	}
	conn := "connected"
	if !st.Connected {
		conn = "✖ DISCONNECTED, reconnecting"
	}
	var heard []string
	for name := range br.RemoteApps() {
		heard = append(heard, name)
	}
	slices.Sort(heard)
	heardText := "none yet"
	if len(heard) > 0 {
		heardText = strings.Join(heard, ", ")
	}
	lost := st.Missing + st.SlowConsumerDropped + st.ForwardFailed
	lines := []string{
		br.URL() + " · " + conn,
		"⇄ " + strings.Join(l.ses.RemoteApps(), ", ") + " run elsewhere; heard from: " + heardText,
		fmt.Sprintf("sent %d · received %d · lost %d · refused %d · reconnects %d", st.Forwarded, st.Imported, lost, st.Refused, st.Reconnects),
	}
	if s := l.net.join.Stream; s > 0 && l.scenario.StreamText() != "" {
		lines = append(lines, fmt.Sprintf("Streaming for %s: %s.", streamLabel(s), l.scenario.StreamText()))
	}
	if n.title.Text != title {
		n.title.SetText(title)
	}
	if text := strings.Join(lines, "\n"); n.status.Text != text {
		n.status.SetText(text)
		n.status.Importance = widget.MediumImportance
		if !st.Connected || lost > 0 || st.Refused > 0 {
			n.status.Importance = widget.DangerImportance
		}
		n.status.Refresh()
	}
}

// joinFromOptions joins, or shares and joins, the bus the command line names.
func (l *lab) joinFromOptions(share string, j JoinOptions) error {
	opts := session.RemoteOptions{URL: j.URL, Apps: j.Apps, User: j.User, Password: j.Password, Stream: j.Stream}
	if share != "" {
		return l.shareBus(share, opts)
	}
	if j.URL == "" {
		return nil
	}
	return l.joinBus(opts)
}

// playJoined plays a joined session until it settles, for a picture of its end: from a
// goroutine of its own, it looks at the run on the window's goroutine a few times a
// second while the window draws it. It returns at once for a run on its own.
func (l *lab) playJoined() {
	joined := false
	fyne.DoAndWait(func() {
		if joined = l.ses != nil && l.ses.Joined(); joined && !l.ses.Playing() {
			l.toggleRun()
		}
	})
	for done := !joined; !done; {
		time.Sleep(200 * time.Millisecond)
		fyne.DoAndWait(func() {
			done = l.ses == nil || l.ses.Settle()
			l.refresh()
		})
	}
}

// netButtons are the left column's way to the Share and Join dialogs.
func (l *lab) netButtons() fyne.CanvasObject {
	share := newTipButton("Share…", theme.ComputerIcon(), "Let microfrontends in other processes join this run's bus", l.tips, l.chooseShare)
	join := newTipButton("Join…", theme.LoginIcon(), "Join a bus that another process shares, with some apps served elsewhere", l.tips, l.chooseJoin)
	return container.NewGridWithColumns(2, share, join)
}

// pictureRow is the arrow a picture of the finished run selects: in a joined run the
// first compensation after a call timed out, where an app elsewhere went away, else the
// middle one.
func (l *lab) pictureRow() int {
	d := l.ses.Trace().Diagram()
	if l.ses.Joined() {
		timedOut := false
		for i, a := range d.Arrows(0, d.Len()) {
			timedOut = timedOut || a.Kind == session.ArrowTimeout
			if timedOut && a.Kind == session.ArrowCompensation {
				return i
			}
		}
	}
	return d.Len() / 2
}
