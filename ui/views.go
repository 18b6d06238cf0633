package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"mfelab/bus/breaker"
	"mfelab/scenarios"
)

// views are the tabs beside the inspector: breaker tiles, the saga timeline and the
// dead-letter store. They render what the run exposes and act only through its APIs.
type views struct {
	l        *lab
	breakers *fyne.Container
	sagas    *widget.Label
	dead     *widget.Label
	tiles    map[string]*breakerTile
}

type breakerTile struct {
	light  *widget.Label
	counts *widget.Label
}

func (l *lab) newViews() (*views, fyne.CanvasObject) {
	v := &views{l: l, breakers: container.NewVBox(), tiles: map[string]*breakerTile{}}
	v.sagas = widget.NewLabel("")
	v.sagas.TextStyle = fyne.TextStyle{Monospace: true}
	v.dead = widget.NewLabel("")
	v.dead.TextStyle = fyne.TextStyle{Monospace: true}
	v.dead.Wrapping = fyne.TextWrapBreak
	confirm := func(title, msg string, fn func()) func() {
		return func() {
			dialog.ShowConfirm(title, msg, func(ok bool) {
				if ok {
					fn()
				}
			}, l.win)
		}
	}
	retryAll := widget.NewButton("Retry all", confirm("Retry every dead letter?",
		"Each one is delivered again to the handler that failed it, as its next attempt.", func() {
			l.pause()
			if err := l.run.DLQ.RetryAll(); err != nil {
				dialog.ShowError(err, l.win)
			}
			l.refresh()
		}))
	purge := widget.NewButton("Purge all", confirm("Purge every dead letter?", "They are dropped from the store for good.", func() {
		l.run.DLQ.Purge()
		l.refresh()
	}))
	deadPane := container.NewBorder(container.NewHBox(retryAll, purge), nil, nil, nil, container.NewVScroll(v.dead))
	tabs := container.NewAppTabs(
		container.NewTabItem("Inspector", container.NewVScroll(l.inspector)),
		container.NewTabItem("Breakers", container.NewVScroll(v.breakers)),
		container.NewTabItem("Sagas", container.NewVScroll(v.sagas)),
		container.NewTabItem("Dead letters", deadPane),
	)
	return v, tabs
}

// reset rebuilds the breaker tiles for a new run.
func (v *views) reset(r *scenarios.Run) {
	v.breakers.RemoveAll()
	v.tiles = map[string]*breakerTile{}
	for _, br := range r.Breakers() {
		t := &breakerTile{light: widget.NewLabel(""), counts: widget.NewLabel("")}
		t.light.TextStyle = fyne.TextStyle{Bold: true}
		t.counts.TextStyle = fyne.TextStyle{Monospace: true}
		b := br
		buttons := container.NewHBox(
			widget.NewButton("Force open", func() { v.l.onLoop(b.ForceOpen) }),
			widget.NewButton("Force closed", func() { v.l.onLoop(b.ForceClosed) }),
			widget.NewButton("Release", func() { v.l.onLoop(b.Release) }),
		)
		v.breakers.Add(widget.NewCard("Breaker "+br.Name(), "", container.NewVBox(t.light, t.counts, buttons)))
		v.tiles[br.Name()] = t
	}
	if len(r.Breakers()) == 0 {
		v.breakers.Add(widget.NewLabel("This scenario has no circuit breaker."))
	}
}

// stateLight names a state with a shape as well as a word, so it reads without colour.
func stateLight(s breaker.Snapshot) string {
	mark := map[breaker.State]string{breaker.Closed: "● CLOSED", breaker.Open: "■ OPEN", breaker.HalfOpen: "◐ HALF-OPEN"}[s.State]
	if s.Forced {
		mark += " (forced)"
	}
	return mark
}

func (v *views) refresh(r *scenarios.Run) {
	for _, br := range r.Breakers() {
		t := v.tiles[br.Name()]
		if t == nil {
			continue
		}
		s := br.Snapshot()
		cfg := br.Config()
		t.light.SetText(stateLight(s))
		rule := fmt.Sprintf("opens after %d failures in a row", cfg.ConsecutiveFailures)
		if cfg.FailureRate > 0 {
			rule += fmt.Sprintf(" or %.0f%% of >= %d calls", 100*cfg.FailureRate, cfg.MinimumVolume)
		}
		t.counts.SetText(fmt.Sprintf("calls %d  ok %d  failed %d  refused %d  stale %d\nwindow: %d calls, %d failed, error rate %.0f%%\nin a row: %d   %s\nopen timeout %v, %d trial call(s), %d success(es) to close",
			s.Counts.Calls, s.Counts.Successes, s.Counts.Failures, s.Counts.Rejected, s.Counts.Stale,
			s.WindowCalls, s.WindowFailures, 100*s.FailureRate, s.Consecutive, rule,
			cfg.OpenTimeout, cfg.HalfOpenMaxCalls, cfg.SuccessThreshold))
	}
	var sb strings.Builder
	for _, s := range r.Sagas() {
		fmt.Fprintf(&sb, "%s %s (%s): %s\n", s.Saga, s.ID, s.Style, strings.ToUpper(s.Status))
		for _, step := range s.Steps {
			mark := "  ○ "
			switch {
			case slices.Contains(s.Compensated, step):
				mark = "  ↺ " // done, then undone
			case step == s.Failed:
				mark = "  ✖ "
			case slices.Contains(s.Done, step):
				mark = "  ✔ "
			}
			line := mark + step
			if slices.Contains(s.Compensated, step) {
				line += "   ← compensated"
			}
			sb.WriteString(line + "\n")
		}
		for _, e := range s.Errors {
			sb.WriteString("    ! " + e + "\n")
		}
		sb.WriteString("\n")
	}
	if sb.Len() == 0 {
		sb.WriteString("No saga has started in this run.")
	}
	v.sagas.SetText(sb.String())
	sb.Reset()
	for _, g := range r.DLQ.ByReason() {
		fmt.Fprintf(&sb, "%d × %s\n", len(g.Entries), g.Reason)
		for _, e := range g.Entries {
			fmt.Fprintf(&sb, "    #%d %s -> %s, %d attempt(s)\n", e.Envelope.Seq, e.Topic, e.Subscriber, e.Attempts)
		}
	}
	if sb.Len() == 0 {
		sb.WriteString("The dead-letter store is empty.")
	}
	v.dead.SetText(sb.String())
}
