package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mfelab/scenarios"
	"mfelab/session"
)

// sharedServer runs a NATS server on a free port until the test ends.
func sharedServer(t *testing.T) *session.Shared {
	t.Helper()
	sh, err := session.Share("127.0.0.1:0", quietLogger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sh.Close)
	return sh
}

// servePayment serves the checkout's payment as `mfelab app payment` does.
func servePayment(t *testing.T, url string) {
	t.Helper()
	s, _ := scenarios.Get("checkout-orchestrated")
	sv, err := session.ServeApps(s, 1, nil, session.RemoteOptions{URL: url, Apps: []string{scenarios.Payment}, Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sv.Close)
}

// walk calls fn with o and every object drawn inside it.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, fn)
		}
	}
}

// topDialog is what the newest dialog shows.
func topDialog(t *testing.T, l *lab) fyne.CanvasObject {
	t.Helper()
	top := l.win.Canvas().Overlays().Top()
	if top == nil || len(l.dialogs) == 0 {
		t.Fatal("no dialog is open")
	}
	return top
}

// entryWith finds the text field of a dialog that shows text.
func entryWith(t *testing.T, o fyne.CanvasObject, text string) *widget.Entry {
	t.Helper()
	var found *widget.Entry
	walk(o, func(c fyne.CanvasObject) {
		if e, ok := c.(*widget.Entry); ok && e.Text == text && found == nil {
			found = e
		}
	})
	if found == nil {
		t.Fatalf("no field showing %q", text)
	}
	return found
}

// assertJoined checks everything the window shows of a joined run with payment remote.
func assertJoined(t *testing.T, l *lab, url string) {
	t.Helper()
	if l.ses == nil || !l.ses.Joined() {
		t.Fatalf("the run is not joined (last error %q)", l.lastError)
	}
	card := l.panels.cards[scenarios.Payment]
	l.refresh()
	if !card.faults.Disabled() || !strings.Contains(card.sub.Text, "in another process, at "+url) {
		t.Errorf("payment's card: switch disabled %v, says %q", card.faults.Disabled(), card.sub.Text)
	}
	if l.panels.cards[scenarios.Cart].faults.Disabled() {
		t.Error("the cart, here, cannot be taken down")
	}
	if _, ok := l.flow.remote[scenarios.Payment]; !ok {
		t.Errorf("payment's lifeline is not marked remote: %v", l.flow.remote)
	}
	marked := false
	walk(l.flow, func(c fyne.CanvasObject) {
		if tx, ok := c.(*canvas.Text); ok && strings.HasPrefix(tx.Text, remoteMark) {
			marked = true
		}
	})
	if !marked {
		t.Error("no lifeline name is drawn with the remote mark")
	}
	if !l.stepBtn.Disabled() || !l.actBtn.Disabled() || !l.speedSel.Disabled() {
		t.Error("Step, Next act and the speed are on in a joined run")
	}
	if !l.net.box.Visible() || !strings.Contains(l.net.status.Text, url+" · connected") ||
		!strings.Contains(l.net.note.Text, "wall clock") || !strings.Contains(l.net.note.Text, "seed reproduces only a run on its own") {
		t.Errorf("the bus box: visible %v\n%s\n%s", l.net.box.Visible(), l.net.status.Text, l.net.note.Text)
	}
	for _, want := range []string{"payment run elsewhere", "lost 0", "refused 0", "reconnects 0"} {
		if !strings.Contains(l.net.status.Text, want) {
			t.Errorf("the bus box lacks %q:\n%s", want, l.net.status.Text)
		}
	}
}

func TestJoiningABusMarksTheRemoteAppsAndTurnsOffStepping(t *testing.T) {
	l := newTestLab(t) // checkout-orchestrated
	url := sharedServer(t).URL()
	servePayment(t, url)

	l.chooseJoin()
	d := topDialog(t, l)
	entryWith(t, d, "nats://"+session.DefaultShareAddress).SetText(url)
	l.dialogs[len(l.dialogs)-1].enter() // Join, with payment ticked and the stream on
	assertJoined(t, l, url)
	if l.net.join.Stream != defaultStream || len(l.ses.Run().Breakers()) != 1 {
		t.Errorf("stream %v with %d breakers, want the dialog's default stream", l.net.join.Stream, len(l.ses.Run().Breakers()))
	}
	before := l.ses.Trace().Len()
	l.step()
	if l.ses.Trace().Len() != before {
		t.Error("Step moved a joined run")
	}

	t.Run("Reset starts a fresh run on the same bus", func(t *testing.T) {
		old := l.ses
		l.reset()
		if l.ses == old {
			t.Fatal("Reset kept the run")
		}
		assertJoined(t, l, url)
	})
	t.Run("leaving runs the scenario on its own again", func(t *testing.T) {
		l.leaveBus()
		if l.ses.Joined() || l.net.box.Visible() || l.stepBtn.Disabled() || l.speedSel.Disabled() || len(l.flow.remote) != 0 {
			t.Fatalf("after leaving: joined %v, box %v, step off %v", l.ses.Joined(), l.net.box.Visible(), l.stepBtn.Disabled())
		}
		if l.panels.cards[scenarios.Payment].faults.Disabled() {
			t.Error("payment, here again, cannot be taken down")
		}
	})
}

func TestJoinFailuresAreDialogsAndKeepTheRun(t *testing.T) {
	l := newTestLab(t)
	url := sharedServer(t).URL()
	tests := []struct {
		name string
		opts session.RemoteOptions
		want string
	}{
		{"no server at the address", session.RemoteOptions{URL: "nats://127.0.0.1:1", Apps: []string{scenarios.Payment}}, "mfelab serve"},
		{"not a NATS address", session.RemoteOptions{URL: "http://[::1", Apps: []string{scenarios.Payment}}, "Check the address"},
		{"an app the saga needs here", session.RemoteOptions{URL: url, Apps: []string{scenarios.Cart}}, "these can: inventory, payment"},
		{"no app ticked", session.RemoteOptions{URL: url}, "no remote app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l.step()
			old, seen := l.ses, l.ses.Trace().Len()
			if err := l.joinBus(tt.opts); err == nil {
				t.Fatal("joined")
			}
			if l.ses != old || l.ses.Trace().Len() != seen || l.net.join != nil {
				t.Error("the run on screen was not kept")
			}
			if !strings.HasPrefix(l.lastError, "Cannot join the bus: ") || !strings.Contains(l.lastError, tt.want) {
				t.Errorf("dialog %q, want one saying %q", l.lastError, tt.want)
			}
		})
	}
	t.Run("a scenario none of whose apps can leave says which can", func(t *testing.T) {
		s, _ := scenarios.Get("rpc-pricing")
		l.choose(s)
		n := len(l.dialogs)
		l.chooseJoin()
		if len(l.dialogs) != n+1 || l.ses.Joined() {
			t.Fatal("no explanation")
		}
	})
}

func TestSharingTheBusGivesTheAddressAndTheCommands(t *testing.T) {
	l := newTestLab(t)
	l.chooseShare()
	d := topDialog(t, l)
	entryWith(t, d, session.DefaultShareAddress).SetText("127.0.0.1:0")
	l.dialogs[len(l.dialogs)-1].enter()
	if l.net.shared == nil {
		t.Fatalf("not sharing (last error %q)", l.lastError)
	}
	url := l.net.shared.URL()
	assertJoined(t, l, url)
	if !strings.Contains(l.net.title.Text, "Sharing this bus (1 connected)") {
		t.Errorf("title %q", l.net.title.Text)
	}
	var texts []string
	walk(topDialog(t, l), func(c fyne.CanvasObject) {
		if lbl, ok := c.(*widget.Label); ok {
			texts = append(texts, lbl.Text)
		}
	})
	all := strings.Join(texts, "\n")
	if !strings.Contains(all, url) || !strings.Contains(all, "mfelab app payment -nats "+url) {
		t.Errorf("the shared dialog says:\n%s", all)
	}
	l.net.copy.OnTapped()
	if got := fyne.CurrentApp().Clipboard().Content(); got != url {
		t.Errorf("Copy address copied %q", got)
	}

	t.Run("a second share on a taken address is a dialog, and the run goes on", func(t *testing.T) {
		old := l.ses
		var opts session.RemoteOptions
		opts.Apps = []string{scenarios.Payment}
		if err := l.shareBus(strings.TrimPrefix(url, "nats://"), opts); err == nil {
			t.Fatal("shared twice on one address")
		}
		if l.ses != old || !strings.Contains(l.lastError, "Cannot share the bus") {
			t.Errorf("run kept %v, dialog %q", l.ses == old, l.lastError)
		}
	})
	t.Run("leaving stops sharing", func(t *testing.T) {
		l.leaveBus()
		if l.net.shared != nil || l.ses.Joined() {
			t.Fatal("still sharing or joined")
		}
	})
}

// The window joins the bus the command line names when it opens, and says so.
func TestTheCommandLineJoinsTheBus(t *testing.T) {
	l := newTestLab(t)
	sh := sharedServer(t)
	url := sh.URL()
	if err := l.joinFromOptions("", JoinOptions{URL: url, Apps: []string{scenarios.Payment}}); err != nil {
		t.Fatal(err)
	}
	assertJoined(t, l, url)
	if len(l.ses.Run().Breakers()) != 0 {
		t.Error("a run joined without a stream has a breaker")
	}
	t.Run("a server that goes away shows, in red", func(t *testing.T) {
		sh.Close()
		deadline := time.Now().Add(10 * time.Second)
		for l.ses.Bridge().Stats().Connected && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		l.refresh()
		if !strings.Contains(l.net.status.Text, "DISCONNECTED, reconnecting") || l.net.status.Importance != widget.DangerImportance {
			t.Errorf("the bus box says, importance %v:\n%s", l.net.status.Importance, l.net.status.Text)
		}
	})
	if err := l.joinFromOptions("", JoinOptions{URL: "nats://127.0.0.1:1", Apps: []string{scenarios.Payment}}); err == nil {
		t.Error("joined a server that is not there")
	}
}
