package ui

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"mfelab/bus"
	"mfelab/session"
)

// logView is the message log: every trace event of the run as the session renders it,
// filtered by status and by a topic pattern, app or correlation id. With no filter it
// holds nothing of its own: its rows are the trace's.
type logView struct {
	l         *lab
	content   fyne.CanvasObject
	list      *widget.List
	filter    string
	status    bus.TraceKind // 0 shows every kind
	shown     []int32       // with a filter: indexes of the events that pass it
	selected  int           // the event inspected, -1 for none
	inspector *widget.Label
	hint      *widget.Label // says why a filtered log is empty
}

const inspectHint = "Select a message in the log or an arrow in the diagram to inspect it."

func newLogView(l *lab) *logView {
	v := &logView{l: l, selected: -1}
	v.list = textList(v.len, func(i int) string { return l.ses.Trace().Format(v.event(i)) })
	v.list.OnSelected = func(i widget.ListItemID) {
		if i < v.len() && v.event(i) != v.selected {
			v.inspect(v.event(i))
		}
	}
	filter := newLabEntry(l)
	filter.SetPlaceHolder("filter: topic pattern (cart.#), app name, or correlation id")
	filter.OnChanged = func(s string) { v.filter = strings.TrimSpace(s); v.apply() }
	statuses := []string{anyStatus}
	for k := bus.TracePublished; k.String() != "unknown"; k++ {
		statuses = append(statuses, k.String())
	}
	statusSel := widget.NewSelect(statuses, func(s string) {
		v.status = 0
		for k := bus.TracePublished; k.String() != "unknown"; k++ {
			if k.String() == s {
				v.status = k
			}
		}
		v.apply()
	})
	statusSel.SetSelected(anyStatus)
	v.inspector = widget.NewLabel(inspectHint)
	v.inspector.TextStyle = fyne.TextStyle{Monospace: true}
	v.inspector.Wrapping = fyne.TextWrapWord // breaks inside a word only when the word is longer than a line
	v.hint = widget.NewLabel("")
	v.hint.Wrapping = fyne.TextWrapWord
	v.hint.Hide()
	v.content = container.NewBorder(container.NewVBox(container.NewBorder(nil, nil, nil, statusSel, filter), v.hint), nil, nil, nil, v.list)
	return v
}

func (v *logView) filtered() bool { return v.filter != "" || v.status != 0 }

// len is the number of rows shown.
func (v *logView) len() int {
	if v.filtered() {
		return len(v.shown)
	}
	if v.l.ses == nil {
		return 0
	}
	return v.l.seen
}

// event is the trace event of row i.
func (v *logView) event(i int) int {
	if v.filtered() {
		return int(v.shown[i])
	}
	return i
}

// row finds the row showing trace event i, if it is shown.
func (v *logView) row(i int) (int, bool) {
	if !v.filtered() {
		return i, i < v.len()
	}
	return slices.BinarySearch(v.shown, int32(i))
}

// reset empties the log for a new run.
func (v *logView) reset() {
	v.shown, v.selected = nil, -1
	v.list.UnselectAll()
	v.inspector.SetText(inspectHint)
	v.list.Refresh()
}

// take considers events from up to to, new since the last refresh. With no filter there
// is nothing to take: the rows are the trace's.
func (v *logView) take(from, to int) {
	if !v.filtered() {
		return
	}
	t := v.l.ses.Trace()
	for i := from; i < to; i++ {
		if session.Matches(t.Event(i), v.status, v.filter) {
			v.shown = append(v.shown, int32(i))
		}
	}
}

// refresh redraws after new events; a running log follows its newest row.
func (v *logView) refresh(follow bool) {
	v.showHint()
	v.list.Refresh()
	if follow {
		v.list.ScrollToBottom()
	}
}

// apply runs the filters over the whole run again.
func (v *logView) apply() {
	v.shown = v.shown[:0]
	if v.filtered() && v.l.ses != nil {
		t := v.l.ses.Trace()
		// over the messages kept in memory: the rest would be read back from the file, all of it
		for i := t.Held(); i < v.l.seen; i++ {
			if session.Matches(t.Event(i), v.status, v.filter) {
				v.shown = append(v.shown, int32(i))
			}
		}
	}
	v.list.UnselectAll()
	v.showHint()
	v.list.Refresh()
}

// showHint says why a filter shows nothing, rather than leave an empty list.
func (v *logView) showHint() {
	if v.hint == nil {
		return // still being built
	}
	if !v.filtered() || len(v.shown) > 0 || v.l.seen == 0 {
		v.hint.Hide()
		return
	}
	what := "No event"
	if v.status != 0 {
		what = fmt.Sprintf("No %s event", v.status)
	}
	if v.filter != "" {
		what += fmt.Sprintf(" matches %q (a topic pattern, an app or a correlation id)", v.filter)
	}
	msg := fmt.Sprintf("%s among the %d events of this run.", what, v.l.seen)
	if v.status == bus.TraceRejected {
		msg += " Messages dropped by a rate limit are rate-limited, not rejected."
	}
	v.hint.SetText(msg)
	v.hint.Show()
}

// inspect shows trace event i: the envelope, payload and causal chain.
func (v *logView) inspect(i int) {
	v.selected = i
	t := v.l.ses.Trace()
	e := t.Event(i)
	if e.Env == nil {
		v.inspector.SetText(fmt.Sprintf("%s %s by %s\n%s", e.Kind, e.Topic, e.App, e.Reason))
		return
	}
	env := e.Env
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s  #%d  %s\nfrom %s", e.Kind, env.Seq, env.Topic, env.Meta.Source)
	if e.Kind != bus.TracePublished {
		fmt.Fprintf(&sb, " to %s", e.App)
	}
	fmt.Fprintf(&sb, " at +%.3fs\n", e.At.Sub(t.Epoch()).Seconds())
	if e.Reason != "" {
		fmt.Fprintf(&sb, "reason: %s\n", e.Reason)
	}
	var payload any
	if json.Unmarshal(env.Payload, &payload) == nil {
		b, _ := json.MarshalIndent(payload, "", "  ")
		fmt.Fprintf(&sb, "\npayload\n%s\n", b)
	}
	meta, _ := json.MarshalIndent(env.Meta, "", "  ")
	fmt.Fprintf(&sb, "\nmeta\n%s\n", meta)
	if p := t.Published(env.Meta.CausationID); p >= 0 {
		c := t.Event(p).Env
		fmt.Fprintf(&sb, "\ncaused by: #%d %s (%s)\n", c.Seq, c.Topic, c.Meta.Source)
	} else if env.Meta.CausationID != (uuid.UUID{}) {
		fmt.Fprintf(&sb, "\ncaused by: %s\n", env.Meta.CausationID)
	}
	for _, c := range t.Caused(env.ID) {
		ce := t.Event(c).Env
		fmt.Fprintf(&sb, "caused: #%d %s (%s)\n", ce.Seq, ce.Topic, ce.Meta.Source)
	}
	v.inspector.SetText(sb.String())
}

// selectArrow inspects the message behind a row of the diagram and shows it in the log.
func (l *lab) selectArrow(row int) {
	d := l.ses.Trace().Diagram()
	if row < 0 || row >= d.Len() {
		return
	}
	i := d.Arrow(row).Event
	l.log.inspect(i)
	l.sideTabs.SelectIndex(0)
	if l.flow.selected != row {
		l.flow.selected = row
		l.flow.Refresh()
	}
	if n, ok := l.log.row(i); ok {
		l.log.list.Select(n)
		l.log.list.ScrollTo(n)
	}
}

// showInDiagram scrolls the diagram to the selected message and highlights it.
func (l *lab) showInDiagram() {
	i := l.log.selected
	if i < 0 || l.ses == nil || i >= l.ses.Trace().Len() {
		return
	}
	var env uuid.UUID
	if e := l.ses.Trace().Event(i); e.Env != nil {
		env = e.Env.ID
	}
	l.flow.reveal(l.ses.Trace().Diagram().RowOfEvent(i, env))
}
