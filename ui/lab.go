package ui

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"mfelab/bus"
	"mfelab/scenarios"
)

// speeds offered by the speed selector, by label.
var speeds = []struct {
	label string
	value float64
}{{"0.25x", 0.25}, {"0.5x", 0.5}, {"1x", 1}, {"2x", 2}, {"5x", 5}, {"10x", 10}, {"instant", bus.Instant}}

// lab is the main window's content and the state behind it. Every field is touched on
// the Fyne goroutine only; the bus loop runs on the real-time driver's goroutine and is
// read through the run's guarded snapshots.
type lab struct {
	win  fyne.Window
	opts Options

	scenario *scenarios.Scenario
	set      scenarios.Values
	seed     uint64
	speed    float64
	run      *scenarios.Run
	rt       *bus.Realtime

	events   []bus.TraceEvent // the log as shown, all of it
	shown    []int            // indexes into events passing the filter
	filter   string
	envs     map[uuid.UUID]*bus.Envelope // every published envelope seen, by ID
	children map[uuid.UUID][]*bus.Envelope
	selected int

	picker    *widget.Select
	watch     *widget.Label
	knobBox   *fyne.Container
	seedEntry *widget.Entry
	speedSel  *widget.Select
	runBtn    *widget.Button
	status    *widget.Label
	checks    *widget.Label
	panels    map[string]*panel
	panelGrid *fyne.Container
	logList   *widget.List
	inspector *widget.Label
	actLabel  *widget.Label
	views     *views

	stopTicker chan struct{}
	tickerOnce sync.Once
}

// panel is one microfrontend's card.
type panel struct {
	role   string
	card   *widget.Card
	body   *widget.Label
	faults *widget.Check
}

func newLab(win fyne.Window, opts Options) *lab {
	l := &lab{win: win, opts: opts, seed: 42, speed: 1, selected: -1, panels: map[string]*panel{}}
	l.build()
	l.choose(scenarios.All()[0])
	return l
}

func (l *lab) build() {
	var ids []string
	for _, s := range scenarios.All() {
		ids = append(ids, s.Title)
	}
	l.picker = widget.NewSelect(ids, func(title string) {
		for _, s := range scenarios.All() {
			if s.Title == title && s != l.scenario {
				l.choose(s)
			}
		}
	})
	l.watch = widget.NewLabel("")
	l.watch.Wrapping = fyne.TextWrapWord
	l.knobBox = container.NewVBox()
	l.seedEntry = widget.NewEntry()
	l.seedEntry.SetText("42")
	l.seedEntry.OnSubmitted = func(string) { l.reset() }
	var labels []string
	for _, s := range speeds {
		labels = append(labels, s.label)
	}
	l.speedSel = widget.NewSelect(labels, func(v string) {
		for _, s := range speeds {
			if s.label == v {
				l.speed = s.value
				if l.rt != nil {
					l.rt.SetSpeed(s.value)
				}
			}
		}
	})
	l.speedSel.SetSelected("1x")
	l.runBtn = widget.NewButtonWithIcon("Run", theme.MediaPlayIcon(), l.toggleRun)
	stepBtn := widget.NewButtonWithIcon("Step", theme.MediaSkipNextIcon(), l.step)
	actBtn := widget.NewButtonWithIcon("Next act", theme.MediaFastForwardIcon(), l.stepAct)
	resetBtn := widget.NewButtonWithIcon("Reset", theme.MediaReplayIcon(), l.reset)
	l.status = widget.NewLabel("")
	l.actLabel = widget.NewLabel("")
	l.actLabel.Wrapping = fyne.TextWrapWord
	l.checks = widget.NewLabel("")
	l.checks.Wrapping = fyne.TextWrapWord

	left := container.NewVBox(
		widget.NewLabelWithStyle("Scenario", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), l.picker,
		l.watch,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Knobs", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), l.knobBox,
		widget.NewForm(widget.NewFormItem("Seed", l.seedEntry), widget.NewFormItem("Speed", l.speedSel)),
		container.NewGridWithColumns(2, l.runBtn, stepBtn, actBtn, resetBtn),
		l.status, l.actLabel,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Outcome checks", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), l.checks,
	)
	l.panelGrid = container.NewGridWrap(fyne.NewSize(240, 200))
	l.logList = widget.NewList(func() int { return len(l.shown) },
		func() fyne.CanvasObject {
			lbl := widget.NewLabel("")
			lbl.TextStyle = fyne.TextStyle{Monospace: true}
			lbl.Truncation = fyne.TextTruncateEllipsis
			return lbl
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(l.shown) {
				o.(*widget.Label).SetText(l.row(l.events[l.shown[i]]))
			}
		})
	l.logList.OnSelected = func(i widget.ListItemID) {
		if i < len(l.shown) {
			l.selected = l.shown[i]
			l.inspect(l.events[l.selected])
		}
	}
	filter := widget.NewEntry()
	filter.SetPlaceHolder("filter: topic pattern (cart.#), app name, or correlation id")
	filter.OnChanged = func(s string) { l.filter = strings.TrimSpace(s); l.applyFilter() }
	l.inspector = widget.NewLabel("Select a message in the log to inspect it.")
	l.inspector.TextStyle = fyne.TextStyle{Monospace: true}
	l.inspector.Wrapping = fyne.TextWrapBreak

	logPane := container.NewBorder(filter, nil, nil, nil, l.logList)
	var side fyne.CanvasObject
	l.views, side = l.newViews()
	bottom := container.NewHSplit(logPane, side)
	bottom.Offset = 0.7
	centre := container.NewVSplit(container.NewVScroll(l.panelGrid), bottom)
	centre.Offset = 0.45
	split := container.NewHSplit(container.NewVScroll(container.NewPadded(left)), centre)
	split.Offset = 0.24
	l.win.SetContent(split)
	l.addShortcuts()
}

// choose switches to a scenario with its default knobs.
func (l *lab) choose(s *scenarios.Scenario) {
	l.scenario = s
	l.set = scenarios.Values{}
	l.picker.SetSelected(s.Title)
	l.watch.SetText(s.Watch)
	l.knobBox.RemoveAll()
	for _, k := range s.Knobs {
		l.knobBox.Add(l.knobEditor(k))
	}
	l.reset()
}

// knobEditor builds the editor a knob's kind calls for.
func (l *lab) knobEditor(k scenarios.Knob) fyne.CanvasObject {
	label := widget.NewLabel(k.Label)
	var editor fyne.CanvasObject
	switch k.Kind {
	case scenarios.Choice:
		sel := widget.NewSelect(k.Choices, func(v string) { l.setKnob(k, v) })
		sel.SetSelected(k.Default)
		editor = sel
	case scenarios.Bool:
		chk := widget.NewCheck("", func(v bool) { l.setKnob(k, strconv.FormatBool(v)) })
		chk.SetChecked(k.Default == "true")
		editor = chk
	default:
		e := widget.NewEntry()
		e.SetText(k.Default)
		e.Validator = func(s string) error { _, err := k.Parse(s); return err }
		e.OnSubmitted = func(v string) { l.setKnob(k, v) }
		e.SetPlaceHolder(k.Range())
		editor = e
	}
	label.SetText(k.Label + "  (" + k.Range() + ")")
	box := container.NewVBox(label, editor)
	if k.Help != "" {
		help := widget.NewLabel(k.Help)
		help.Wrapping = fyne.TextWrapWord
		help.Importance = widget.LowImportance
		box.Add(help)
	}
	return box
}

func (l *lab) setKnob(k scenarios.Knob, v string) {
	if l.scenario == nil {
		return
	}
	norm, err := k.Parse(v)
	if err != nil {
		dialog.ShowError(fmt.Errorf("%w; the run keeps its current value, enter one in range and press Enter", err), l.win)
		return
	}
	if l.set[k.Name] == norm {
		return
	}
	l.set[k.Name] = norm
	if l.run != nil {
		l.reset()
	}
}

// reset starts a fresh, paused run of the current scenario with the current knobs and seed.
func (l *lab) reset() {
	l.pause()
	seed, err := strconv.ParseUint(strings.TrimSpace(l.seedEntry.Text), 10, 64)
	if err != nil {
		dialog.ShowError(fmt.Errorf("seed %q: want a whole number such as 42", l.seedEntry.Text), l.win)
		l.seedEntry.SetText(strconv.FormatUint(l.seed, 10))
		return
	}
	l.seed = seed
	r, err := scenarios.Start(l.scenario, seed, l.set)
	if err != nil {
		dialog.ShowError(err, l.win)
		return
	}
	l.run = r
	l.events, l.shown, l.selected = nil, nil, -1
	l.envs, l.children = map[uuid.UUID]*bus.Envelope{}, map[uuid.UUID][]*bus.Envelope{}
	l.logList.UnselectAll()
	l.inspector.SetText("Select a message in the log to inspect it.")
	l.panelGrid.RemoveAll()
	l.panels = map[string]*panel{}
	for _, a := range r.World.Apps() {
		p := l.newPanel(a)
		l.panels[a.Name] = p
		l.panelGrid.Add(p.card)
	}
	l.views.reset(r)
	l.refresh()
}

// onLoop runs fn on the bus loop (breaker buttons flip state the loop owns), then shows
// the result.
func (l *lab) onLoop(fn func()) {
	if l.rt != nil {
		l.run.Bus.Post(fn)
		return
	}
	fn()
	l.refresh()
}

func (l *lab) newPanel(a *scenarios.App) *panel {
	body := widget.NewLabel("")
	body.TextStyle = fyne.TextStyle{Monospace: true}
	body.Truncation = fyne.TextTruncateEllipsis
	faults := a.Faults
	chk := widget.NewCheck("down", func(down bool) { faults.SetDown(down) })
	chk.SetChecked(faults.State().Down)
	card := widget.NewCard(a.Title, a.Role, container.NewBorder(nil, chk, nil, nil, body))
	return &panel{role: a.Role, card: card, body: body, faults: chk}
}

func (l *lab) toggleRun() {
	if l.rt != nil {
		l.pause()
		l.refresh()
		return
	}
	if l.run == nil || l.run.Finished() {
		return
	}
	l.rt = l.run.Bus.StartRealtime(l.speed)
	l.runBtn.SetText("Pause")
	l.runBtn.SetIcon(theme.MediaPauseIcon())
	l.startTicker()
}

func (l *lab) pause() {
	if l.rt != nil {
		l.rt.Stop()
		l.rt = nil
	}
	if l.runBtn != nil {
		l.runBtn.SetText("Run")
		l.runBtn.SetIcon(theme.MediaPlayIcon())
	}
}

// step runs exactly one delivery or timer.
func (l *lab) step() {
	l.pause()
	l.run.Step()
	l.refresh()
}

// stepAct runs to the next scripted act of the scenario.
func (l *lab) stepAct() {
	l.pause()
	l.run.StepAct()
	l.refresh()
}

// startTicker refreshes the view ten times a second while a run goes on.
func (l *lab) startTicker() {
	l.tickerOnce.Do(func() {
		l.stopTicker = make(chan struct{})
		go func() {
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-l.stopTicker:
					return
				case <-t.C:
					fyne.Do(l.tick)
				}
			}
		}()
	})
}

func (l *lab) tick() {
	if l.rt == nil {
		return
	}
	if !l.run.Bus.Now().Before(l.run.End()) || l.run.Bus.Pending() == 0 {
		l.pause()
	}
	l.refresh()
}

// refresh pulls what happened since the last refresh into the widgets.
func (l *lab) refresh() {
	r := l.run
	if r == nil {
		return
	}
	fresh := r.Log.Events(len(l.events))
	active := map[string]bool{}
	for _, e := range fresh {
		i := len(l.events)
		l.events = append(l.events, e)
		if e.Kind == bus.TracePublished {
			l.envs[e.Env.ID] = e.Env
			if c := e.Env.Meta.CausationID; c != (uuid.UUID{}) {
				l.children[c] = append(l.children[c], e.Env)
			}
		}
		active[e.App] = true
		if l.matches(e) {
			l.shown = append(l.shown, i)
		}
	}
	if len(fresh) > 0 {
		l.logList.Refresh()
		if l.rt != nil {
			l.logList.ScrollToBottom()
		}
	}
	for _, s := range r.World.Snapshots() {
		p := l.panels[s.Name]
		if p == nil {
			continue
		}
		var lines []string
		for _, f := range s.Fields {
			lines = append(lines, fmt.Sprintf("%-14s %s", f.Key, f.Value))
		}
		if len(lines) == 0 {
			lines = []string{"(idle)"}
		}
		p.body.SetText(strings.Join(lines, "\n"))
		sub := p.role
		if active[s.Name] {
			sub = "● active · " + p.role
		}
		if s.Faults.Down {
			sub = "✖ DOWN · " + p.role
		}
		p.card.SetSubTitle(sub)
	}
	elapsed := r.Bus.Elapsed()
	state := "paused"
	switch {
	case l.rt != nil:
		state = "running"
	case r.Finished():
		state = "finished"
	}
	l.status.SetText(fmt.Sprintf("%s at +%.3fs · %d messages · %d pending", state, elapsed.Seconds(), len(l.envs), r.Bus.Pending()))
	acts, fired := r.Acts()
	if fired < len(acts) {
		l.actLabel.SetText(fmt.Sprintf("Next act at +%.3fs: %s", acts[fired].At.Seconds(), acts[fired].Name))
	} else {
		l.actLabel.SetText("All acts have happened.")
	}
	l.views.refresh(r)
	if l.rt == nil && r.Finished() {
		l.checks.SetText(scenarios.FormatChecks(r.Checks()))
	} else {
		l.checks.SetText("Checked when the run ends.")
	}
}

// row renders a log row: time, seq, what happened, who to whom, topic, reason.
func (l *lab) row(e bus.TraceEvent) string {
	at := e.At.Sub(l.run.Bus.Epoch()).Seconds()
	seq := ""
	if e.Env != nil {
		seq = fmt.Sprintf("#%d", e.Env.Seq)
	}
	who := e.App
	switch e.Kind {
	case bus.TracePublished, bus.TraceRejected, bus.TraceRateLimited, bus.TraceContractWarning, bus.TraceTimedOut:
	default:
		if e.Env != nil {
			who = e.Env.Meta.Source + " → " + e.App
		}
	}
	// the topic comes before the apps: it is what a reader scans for, and it must not be
	// the part a narrow pane cuts off
	line := fmt.Sprintf("%7.3f %-4s %-14s %-30s %s", at, seq, e.Kind, e.Topic, who)
	if e.Attempt > 1 {
		line += fmt.Sprintf(" (attempt %d)", e.Attempt)
	}
	if e.Reason != "" {
		line += "  " + e.Reason
	}
	return line
}

// matches applies the log filter: a topic pattern, an app name or a correlation id.
func (l *lab) matches(e bus.TraceEvent) bool {
	f := l.filter
	if f == "" {
		return true
	}
	if e.App == f || (e.Env != nil && (e.Env.Meta.Source == f || e.Env.Correlation() == f)) {
		return true
	}
	return bus.ValidatePattern(f) == nil && bus.MatchTopic(f, e.Topic)
}

func (l *lab) applyFilter() {
	l.shown = l.shown[:0]
	for i, e := range l.events {
		if l.matches(e) {
			l.shown = append(l.shown, i)
		}
	}
	l.logList.UnselectAll()
	l.logList.Refresh()
}

// inspect shows a message's envelope, payload and causal chain.
func (l *lab) inspect(e bus.TraceEvent) {
	if e.Env == nil {
		l.inspector.SetText(fmt.Sprintf("%s %s by %s\n%s", e.Kind, e.Topic, e.App, e.Reason))
		return
	}
	env := e.Env
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s  #%d  %s\nfrom %s", e.Kind, env.Seq, env.Topic, env.Meta.Source)
	if e.Kind != bus.TracePublished {
		fmt.Fprintf(&sb, " to %s", e.App)
	}
	fmt.Fprintf(&sb, " at +%.3fs\n", e.At.Sub(l.run.Bus.Epoch()).Seconds())
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
	if p, ok := l.envs[env.Meta.CausationID]; ok {
		fmt.Fprintf(&sb, "\ncaused by: #%d %s (%s)\n", p.Seq, p.Topic, p.Meta.Source)
	} else if env.Meta.CausationID != (uuid.UUID{}) {
		fmt.Fprintf(&sb, "\ncaused by: %s\n", env.Meta.CausationID)
	}
	for _, c := range l.children[env.ID] {
		fmt.Fprintf(&sb, "caused: #%d %s (%s)\n", c.Seq, c.Topic, c.Meta.Source)
	}
	l.inspector.SetText(sb.String())
}

// close stops the driver and the ticker.
func (l *lab) close() {
	l.pause()
	if l.stopTicker != nil {
		close(l.stopTicker)
	}
}
