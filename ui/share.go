package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mfelab/session"
)

// chooseShare asks where to listen and which apps other processes will serve, then
// shares the bus: a NATS server in this process, which the run on screen joins afresh.
func (l *lab) chooseShare() {
	if l.ses == nil || !l.canPlace() {
		return
	}
	addr := widget.NewEntry()
	addr.SetText(session.DefaultShareAddress)
	addr.SetPlaceHolder("host:port")
	p := l.newPlacement()
	hint := widget.NewLabel("This window runs a NATS server others join. 127.0.0.1 keeps it to this machine; " +
		"0.0.0.0:4222 lets other machines join (give them this machine's address).")
	hint.Wrapping = fyne.TextWrapWord
	items := append([]*widget.FormItem{widget.NewFormItem("Listen on", addr)}, p.items(l)...)
	d := dialog.NewCustomConfirm("Share this bus", "Share", "Cancel", container.NewVBox(hint, widget.NewForm(items...)), func(ok bool) {
		if !ok {
			return
		}
		var opts session.RemoteOptions
		p.apply(l, &opts)
		if l.shareBus(strings.TrimSpace(addr.Text), opts) == nil {
			l.showShared()
		}
	}, l.win)
	d.Resize(fyne.NewSize(680, 340))
	l.show(d, d.Confirm)
}

// shareBus starts a NATS server on addr and joins the run on screen to it, with opts'
// apps served by the processes that join; a server shared before is stopped once the run
// has joined the new one. On failure a dialog says why and the run on screen goes on.
func (l *lab) shareBus(addr string, opts session.RemoteOptions) error {
	if len(opts.Apps) == 0 {
		err := session.ErrNoRemoteApps
		l.showError("Cannot share the bus", fmt.Errorf("%w: tick the apps other processes will run", err))
		return err
	}
	sh, err := session.Share(addr, quietLogger)
	if err != nil {
		l.showError("Cannot share the bus", advised{err, runGoesOn})
		return err
	}
	opts.URL = sh.URL()
	if err := l.joinBus(opts); err != nil {
		sh.Close()
		return err
	}
	l.stopSharing()
	l.net.shared = sh
	l.refreshNet()
	return nil
}

// appCommands are the commands that start the remote apps of the run on screen in
// processes of their own, joined to url.
func (l *lab) appCommands(url string) string {
	var lines []string
	for _, app := range l.ses.RemoteApps() {
		cmd := "mfelab app " + app + " -nats " + url
		if l.scenario.ID != "checkout-orchestrated" {
			cmd += " -scenario " + l.scenario.ID
		}
		if knobs := l.set.String(); knobs != "" {
			for _, kv := range strings.Fields(knobs) {
				cmd += " -set " + kv
			}
		}
		lines = append(lines, cmd)
	}
	return strings.Join(lines, "\n")
}

// showShared gives the address to hand others, with a button that copies it, and the
// command for each remote app.
func (l *lab) showShared() {
	url := l.shareURL()
	addr := widget.NewLabelWithStyle(url, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true, Bold: true})
	cmds := widget.NewLabel(l.appCommands(url))
	cmds.TextStyle = fyne.TextStyle{Monospace: true}
	clip := func(s string) func() {
		return func() {
			if a := fyne.CurrentApp(); a != nil {
				a.Clipboard().SetContent(s)
			}
		}
	}
	text := widget.NewLabel("Give others this address. Each app below answers once its process runs; " +
		"until then its calls time out, as they would with the app down. Stop sharing with Leave, in the left column.")
	text.Wrapping = fyne.TextWrapWord
	content := container.NewVBox(text,
		container.NewBorder(nil, nil, nil, widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), clip(url)), addr),
		widget.NewLabel("Start the remote apps with:"),
		container.NewBorder(nil, nil, nil, widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), clip(cmds.Text)), cmds))
	l.custom("Sharing this bus", "Close", content, fyne.NewSize(680, 300))
}
