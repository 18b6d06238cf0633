package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mfelab/bus/breaker"
	"mfelab/bus/dlq"
	"mfelab/scenarios"
)

// views are the tabs beside the inspector: breaker tiles, the saga timeline and the
// dead-letter store. They render what the run exposes and act only through its APIs.
type views struct {
	l        *lab
	breakers *fyne.Container
	sagas    *widget.Label
	dead     *widget.Label // a summary above the list
	deadList *widget.List
	deadRows []deadRow
	tiles    map[string]*breakerTile
}

// deadRow is a line of the dead-letter list: a reason heading, or one entry under it.
type deadRow struct {
	heading string
	entry   dlq.Entry
}

// sameDeadRow reports whether two rows show the same thing, retry and purge included.
func sameDeadRow(a, b deadRow) bool {
	return a.heading == b.heading && a.entry.ID == b.entry.ID && a.entry.Envelope == b.entry.Envelope &&
		a.entry.Topic == b.entry.Topic && a.entry.Subscriber == b.entry.Subscriber && a.entry.Attempts == b.entry.Attempts
}

type breakerTile struct {
	light  *widget.Label
	counts *widget.Label
}

func (l *lab) newViews() (*views, *tabStrip) {
	v := &views{l: l, breakers: container.NewVBox(), tiles: map[string]*breakerTile{}}
	v.sagas = widget.NewLabel("")
	v.sagas.TextStyle = fyne.TextStyle{Monospace: true}
	v.dead = widget.NewLabel("")
	v.dead.Wrapping = fyne.TextWrapWord
	confirm := func(title, msg string, fn func()) func() {
		return func() {
			l.ask(title, msg, fn)
		}
	}
	retryAll := widget.NewButton("Retry all", confirm("Retry every dead letter?",
		"Each one is delivered again to the handler that failed it, as its next attempt.", func() {
			l.pause()
			l.ses.Intervene("every dead letter retried")
			var ids []string
			for _, e := range l.ses.Run().DLQ.List() {
				ids = append(ids, e.Envelope.ID.String())
			}
			if err := l.ses.Run().DLQ.RetryAll(); err != nil {
				l.showError("The dead letters were not retried", err)
			}
			l.deliverRetried(ids)
		}))
	purge := widget.NewButton("Purge all", confirm("Purge every dead letter?", "They are dropped from the store for good.", func() {
		l.ses.Intervene("every dead letter purged")
		l.ses.Run().DLQ.Purge()
		l.refresh()
	}))
	v.deadList = widget.NewList(func() int { return len(v.deadRows) },
		func() fyne.CanvasObject {
			text := widget.NewLabel("")
			text.Truncation = fyne.TextTruncateEllipsis
			retry := widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), nil)
			drop := widget.NewButtonWithIcon("Purge", theme.DeleteIcon(), nil)
			return container.NewBorder(nil, nil, nil, container.NewHBox(retry, drop), text)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(v.deadRows) {
				return
			}
			row := v.deadRows[i]
			c := o.(*fyne.Container)
			text := c.Objects[0].(*widget.Label)
			buttons := c.Objects[1].(*fyne.Container)
			if row.heading != "" {
				text.TextStyle.Bold = true
				text.SetText(row.heading)
				buttons.Hide()
				return
			}
			e := row.entry
			text.TextStyle.Bold = false
			text.SetText(fmt.Sprintf("   #%d %s -> %s, %d attempt(s)", e.Envelope.Seq, e.Topic, e.Subscriber, e.Attempts))
			buttons.Show()
			buttons.Objects[0].(*widget.Button).OnTapped = confirm("Retry this dead letter?",
				fmt.Sprintf("#%d %s is delivered again to %s, as attempt %d.", e.Envelope.Seq, e.Topic, e.Subscriber, e.Attempts+1), func() {
					l.pause()
					l.ses.Intervene(fmt.Sprintf("dead letter #%d retried", e.Envelope.Seq))
					if err := l.ses.Run().DLQ.Retry(e.ID); err != nil {
						l.showError("The retry was not delivered", err)
						l.refresh()
						return
					}
					l.deliverRetried([]string{e.Envelope.ID.String()})
				})
			buttons.Objects[1].(*widget.Button).OnTapped = confirm("Purge this dead letter?",
				fmt.Sprintf("#%d %s is dropped from the store for good.", e.Envelope.Seq, e.Topic), func() {
					l.ses.Intervene(fmt.Sprintf("dead letter #%d purged", e.Envelope.Seq))
					l.ses.Run().DLQ.Purge(e.ID)
					l.refresh()
				})
		})
	deadPane := container.NewBorder(container.NewVBox(container.NewHBox(retryAll, purge), v.dead), nil, nil, nil, v.deadList)
	tabs := newTabStrip(
		container.NewTabItem("Inspector", container.NewBorder(
			container.NewHBox(widget.NewButtonWithIcon("Show in diagram", theme.VisibilityIcon(), l.showInDiagram)),
			nil, nil, nil, container.NewScroll(l.log.inspector))),
		container.NewTabItem("Breakers", container.NewScroll(v.breakers)),
		container.NewTabItem("Sagas", container.NewScroll(v.sagas)),
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
			widget.NewButton("Force open", func() { v.l.onLoop("breaker "+b.Name()+" forced open", b.ForceOpen) }),
			widget.NewButton("Force closed", func() { v.l.onLoop("breaker "+b.Name()+" forced closed", b.ForceClosed) }),
			widget.NewButton("Release", func() { v.l.onLoop("breaker "+b.Name()+" released", b.Release) }),
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
		setText(t.light, stateLight(s))
		rule := fmt.Sprintf("opens after %d failures in a row", cfg.ConsecutiveFailures)
		if cfg.FailureRate > 0 {
			rule += fmt.Sprintf(" or %.0f%% of >= %d calls", 100*cfg.FailureRate, cfg.MinimumVolume)
		}
		setText(t.counts, fmt.Sprintf("calls %d  ok %d  failed %d  refused %d  stale %d\nwindow: %d calls, %d failed, error rate %.0f%%\nin a row: %d   %s\nopen timeout %v, %d trial call(s), %d success(es) to close",
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
	setText(v.sagas, sb.String())
	var rows []deadRow
	held := 0
	for _, g := range r.DLQ.ByReason() {
		rows = append(rows, deadRow{heading: fmt.Sprintf("%d × %s", len(g.Entries), g.Reason)})
		for _, e := range g.Entries {
			rows = append(rows, deadRow{entry: e})
			held++
		}
	}
	// a list's refresh builds a row to measure and sets up every row shown: only when
	// the dead letters changed
	if !slices.EqualFunc(rows, v.deadRows, sameDeadRow) {
		v.deadRows = rows
		v.deadList.Refresh()
	}
	if held == 0 {
		setText(v.dead, "The dead-letter store is empty.")
	} else {
		setText(v.dead, fmt.Sprintf("%d dead letter(s), grouped by reason. Retry delivers one again to the handler that failed it.", held))
	}
}
