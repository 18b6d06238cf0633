package ui

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"mfelab/bus"
	"mfelab/history"
	"mfelab/scenarios"
)

// speeds offered by the speed selector, by label.
// anyStatus is the status filter's choice that hides nothing.
const anyStatus = "any status"

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

	events   scenarios.Chunked[bus.TraceEvent] // the log as shown, all of it; chunked, so it grows without pauses
	shown    []int                             // indexes into events passing the filter
	filter   string
	envs     map[uuid.UUID]*bus.Envelope // every published envelope seen, by ID
	children map[uuid.UUID][]*bus.Envelope
	selected int
	status   bus.TraceKind // the log's status filter; 0 shows every kind

	// the flow diagram of the run
	flow       *flowModel
	flowView   *flowView
	flowSlider *widget.Slider

	// history: the open file, the namespace recording the current run, the browser tab
	store    *history.Store
	recorder *history.Store
	hist     *historyView
	// origin says where the current run came from when it is not a fresh run of the
	// picked scenario: a replay, a point of time travel.
	origin string
	// lastError is the text of the latest error dialog, for tests and the status line.
	lastError string

	picker    *widget.Select
	watch     *widget.Label
	knobBox   *fyne.Container
	seedEntry *widget.Entry
	speedSel  *widget.Select
	runBtn    *widget.Button
	statusLbl *widget.Label
	checks    *widget.Label
	panels    map[string]*panel
	panelGrid *fyne.Container
	logList   *widget.List
	inspector *widget.Label
	actLabel  *widget.Label
	views     *views
	sideTabs  *container.AppTabs
	lowerTabs *container.AppTabs
	prefs     fyne.Preferences
	perf      *perfMeter

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
	l := &lab{win: win, opts: opts, seed: 42, speed: 1, selected: -1, panels: map[string]*panel{}, perf: newPerfMeter()}
	if a := fyne.CurrentApp(); a != nil {
		l.prefs = a.Preferences()
	}
	l.build()
	first := scenarios.All()[0]
	if s, err := scenarios.Get(opts.Scenario); err == nil {
		first = s
	}
	l.choose(first)
	if len(opts.Knobs) > 0 && first.ID == opts.Scenario {
		l.applyKnobs(opts.Knobs)
	}
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
				l.remember(prefSpeed, v)
			}
		}
	})
	l.speedSel.SetSelected("1x")
	if l.prefs != nil {
		l.speedSel.SetSelected(l.prefs.StringWithFallback(prefSpeed, "1x"))
	}
	themeSel := widget.NewSelect(themeChoices, func(v string) {
		if a := fyne.CurrentApp(); a != nil && l.prefs != nil && l.prefs.String(prefTheme) != v {
			applyTheme(a, v)
			l.remember(prefTheme, v)
		}
	})
	if l.prefs != nil {
		themeSel.SetSelected(l.prefs.StringWithFallback(prefTheme, themeSystem))
	}
	l.runBtn = widget.NewButtonWithIcon("Run", theme.MediaPlayIcon(), l.toggleRun)
	stepBtn := widget.NewButtonWithIcon("Step", theme.MediaSkipNextIcon(), l.step)
	actBtn := widget.NewButtonWithIcon("Next act", theme.MediaFastForwardIcon(), l.stepAct)
	resetBtn := widget.NewButtonWithIcon("Reset", theme.MediaReplayIcon(), l.reset)
	l.statusLbl = widget.NewLabel("")
	l.actLabel = widget.NewLabel("")
	l.actLabel.Wrapping = fyne.TextWrapWord
	l.checks = widget.NewLabel("")
	l.checks.Wrapping = fyne.TextWrapWord

	left := container.NewVBox(
		widget.NewLabelWithStyle("Scenario", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), l.picker,
		l.watch,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Knobs", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), l.knobBox,
		widget.NewForm(widget.NewFormItem("Seed", l.seedEntry), widget.NewFormItem("Speed", l.speedSel), widget.NewFormItem("Theme", themeSel)),
		container.NewGridWithColumns(2, l.runBtn, stepBtn, actBtn, resetBtn),
		l.statusLbl, l.actLabel,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Outcome checks", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), l.checks,
	)
	l.panelGrid = container.NewGridWrap(fyne.NewSize(236, 196))
	l.logList = textList(func() int { return len(l.shown) }, func(i int) string { return l.row(l.events.At(l.shown[i])) })
	l.logList.OnSelected = func(i widget.ListItemID) {
		if i < len(l.shown) && l.shown[i] != l.selected {
			l.selected = l.shown[i]
			l.inspect(l.events.At(l.selected))
		}
	}
	filter := widget.NewEntry()
	filter.SetPlaceHolder("filter: topic pattern (cart.#), app name, or correlation id")
	filter.OnChanged = func(s string) { l.filter = strings.TrimSpace(s); l.applyFilter() }
	statuses := []string{anyStatus}
	for k := bus.TracePublished; k.String() != "unknown"; k++ {
		statuses = append(statuses, k.String())
	}
	statusSel := widget.NewSelect(statuses, func(v string) {
		l.status = 0
		for k := bus.TracePublished; k.String() != "unknown"; k++ {
			if k.String() == v {
				l.status = k
			}
		}
		l.applyFilter()
	})
	statusSel.SetSelected(anyStatus)
	l.inspector = widget.NewLabel("Select a message in the log or an arrow in the diagram to inspect it.")
	l.inspector.TextStyle = fyne.TextStyle{Monospace: true}
	l.inspector.Wrapping = fyne.TextWrapBreak

	l.flow = newFlowModel(nil)
	l.flowView = newFlowView(l.flow)
	l.flowView.onSelect = l.selectArrow
	l.flowSlider = widget.NewSlider(0, 0)
	l.flowSlider.OnChanged = func(v float64) {
		if int(v) != l.flowView.top {
			l.flowView.scrollTo(int(v))
		}
	}
	l.flowView.onScroll = l.syncSlider
	legend := widget.NewButtonWithIcon("Legend", theme.InfoIcon(), func() {
		dialog.ShowCustom("How the diagram draws messages", "Close", flowLegend(), l.win)
	})
	follow := widget.NewButtonWithIcon("Newest", theme.MoveDownIcon(), func() { l.flowView.scrollTo(l.flow.arrows.Len()) })
	export := widget.NewButtonWithIcon("Export…", theme.DocumentSaveIcon(), l.showExport)
	flowBar := container.NewHBox(widget.NewLabelWithStyle("Flow", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		layout.NewSpacer(), legend, follow, export)
	flowPane := container.NewBorder(flowBar, l.flowSlider, nil, nil, l.flowView)

	logPane := container.NewBorder(container.NewBorder(nil, nil, nil, statusSel, filter), nil, nil, nil, l.logList)
	var side fyne.CanvasObject
	l.views, side = l.newViews()
	l.sideTabs = side.(*container.AppTabs)
	l.hist = newHistoryView(l)
	l.lowerTabs = container.NewAppTabs(
		container.NewTabItem("Log", logPane),
		container.NewTabItem("History", l.hist.content),
	)
	l.lowerTabs.OnSelected = func(tab *container.TabItem) {
		if tab.Content == l.hist.content {
			l.showHistory()
		}
	}
	work := container.NewVSplit(flowPane, l.lowerTabs)
	work.Offset = 0.55
	bottom := container.NewHSplit(work, side)
	bottom.Offset = 0.68
	centre := container.NewVSplit(container.NewVScroll(l.panelGrid), bottom)
	centre.Offset = 0.34
	split := container.NewHSplit(container.NewVScroll(container.NewPadded(left)), centre)
	split.Offset = 0.22
	l.win.SetContent(split)
	l.addShortcuts()
}

// textList is a virtual list of one-line monospace rows: n says how many, text renders
// row i. Rows are reused as they scroll, so a million cost what a screenful does.
func textList(n func() int, text func(i int) string) *widget.List {
	return widget.NewList(n,
		func() fyne.CanvasObject {
			lbl := widget.NewLabel("")
			lbl.TextStyle = fyne.TextStyle{Monospace: true}
			lbl.Truncation = fyne.TextTruncateEllipsis
			return lbl
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < n() {
				o.(*widget.Label).SetText(text(i))
			}
		})
}

// choose switches to a scenario with its default knobs.
func (l *lab) choose(s *scenarios.Scenario) {
	l.scenario = s
	l.remember(prefScenario, s.ID)
	l.set = scenarios.Values{}
	l.picker.SetSelected(s.Title)
	l.watch.SetText(s.Watch)
	l.knobBox.RemoveAll()
	for _, k := range s.Knobs {
		l.knobBox.Add(l.knobEditor(k))
	}
	l.reset()
}

// applyKnobs sets knobs given on the command line, shows them in their editors and
// restarts the run with them. Bad values get the same dialog as a bad edit.
func (l *lab) applyKnobs(set scenarios.Values) {
	if _, err := l.scenario.Resolve(set); err != nil {
		l.showError("Knob values not applied", err)
		return
	}
	maps.Copy(l.set, set)
	l.knobBox.RemoveAll()
	for _, k := range l.scenario.Knobs {
		l.knobBox.Add(l.knobEditor(k))
	}
	l.reset()
}

// knobEditor builds the editor a knob's kind calls for.
func (l *lab) knobEditor(k scenarios.Knob) fyne.CanvasObject {
	label := widget.NewLabel(k.Label)
	value := k.Default
	if v, ok := l.set[k.Name]; ok {
		value = v
	}
	var editor fyne.CanvasObject
	switch k.Kind {
	case scenarios.Choice:
		sel := widget.NewSelect(k.Choices, func(v string) { l.setKnob(k, v) })
		sel.SetSelected(value)
		editor = sel
	case scenarios.Bool:
		chk := widget.NewCheck("", func(v bool) { l.setKnob(k, strconv.FormatBool(v)) })
		chk.SetChecked(value == "true")
		editor = chk
	default:
		e := widget.NewEntry()
		e.SetText(value)
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
		help.TextStyle.Italic = true
		help.SizeName = theme.SizeNameCaptionText
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
	l.adopt(r, "")
}

// adopt shows run r, paused, in place of the current one. origin says where a run that is
// not a fresh run of the picked scenario came from (a replay, time travel).
func (l *lab) adopt(r *scenarios.Run, origin string) {
	l.pause()
	l.stopRecording()
	l.run, l.origin = r, origin
	l.events, l.shown, l.selected = scenarios.Chunked[bus.TraceEvent]{}, nil, -1
	l.envs, l.children = map[uuid.UUID]*bus.Envelope{}, map[uuid.UUID][]*bus.Envelope{}
	l.logList.UnselectAll()
	l.inspector.SetText("Select a message in the log or an arrow in the diagram to inspect it.")
	l.panelGrid.RemoveAll()
	l.panels = map[string]*panel{}
	var names []string
	for _, a := range r.World.Apps() {
		p := l.newPanel(a)
		l.panels[a.Name] = p
		l.panelGrid.Add(p.card)
		names = append(names, a.Name)
	}
	l.flow = newFlowModel(names)
	l.flow.publishes = r.Scenario.ID == scenarios.ReplayID
	l.flowView.setModel(l.flow)
	l.views.reset(r)
	l.refresh()
}

// startRecording attaches the history file to the run the first time it moves, in a
// namespace of its own, so that runs which are only looked at leave nothing behind.
func (l *lab) startRecording() {
	if l.store == nil || l.recorder != nil || l.run == nil || l.run.Scenario.ID == scenarios.ReplayID {
		return
	}
	ns := fmt.Sprintf("%s.seed%d.%s", l.run.Scenario.ID, l.run.Seed, time.Now().Format("20060102-150405.000"))
	rec, err := l.store.In(ns)
	if err == nil {
		// anything the scenario published while setting up, before it first moved
		if err = rec.Append(l.run.Log.Envelopes()...); err == nil {
			err = rec.Attach(l.run.Bus)
		}
		if err != nil {
			rec.Close()
		}
	}
	if err != nil {
		l.store = nil // stop trying: one dialog, not one per step
		l.showError("History is off for this session", fmt.Errorf("%w; runs go on without being recorded", err))
		return
	}
	l.recorder = rec
}

// stopRecording detaches the recorder and writes out what it holds.
func (l *lab) stopRecording() {
	if l.recorder == nil {
		return
	}
	l.recorder.Detach()
	if err := l.recorder.Close(); err != nil {
		l.showError("The last run was not fully recorded", err)
	}
	l.recorder = nil
	if l.hist != nil {
		l.hist.reloadRuns()
	}
}

// showHistory brings the History tab up to date: the run being recorded is written out
// first, so a run that has just finished is in the list.
func (l *lab) showHistory() {
	if l.recorder != nil {
		if err := l.recorder.Flush(); err != nil {
			l.showError("The run is not fully recorded", err)
		}
	}
	l.hist.reloadRuns()
}

// remember stores a preference, when the app keeps them.
func (l *lab) remember(key, value string) {
	if l.prefs != nil {
		l.prefs.SetString(key, value)
	}
}

// showError shows err in a dialog titled with what it means for the user.
func (l *lab) showError(title string, err error) {
	l.lastError = title + ": " + err.Error()
	msg := widget.NewLabel(err.Error())
	msg.Wrapping = fyne.TextWrapWord
	content := container.NewBorder(nil, nil, widget.NewIcon(theme.ErrorIcon()), nil, msg)
	d := dialog.NewCustom(title, "OK", content, l.win)
	d.Resize(fyne.NewSize(520, 200))
	d.Show()
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
	l.startRecording()
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
	l.startRecording()
	l.run.Step()
	l.refresh()
}

// stepAct runs to the next scripted act of the scenario.
func (l *lab) stepAct() {
	l.pause()
	l.startRecording()
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
	ended := !l.run.Bus.Now().Before(l.run.End()) || l.run.Bus.Pending() == 0
	if ended {
		l.pause()
	}
	l.perf.measure(l, l.refresh)
	if ended {
		l.logList.ScrollToBottom() // the last rows came in with the pause
	}
}

// refresh pulls what happened since the last refresh into the widgets.
func (l *lab) refresh() {
	r := l.run
	if r == nil {
		return
	}
	fresh := r.Log.Events(l.events.Len())
	active := map[string]bool{}
	drawn := false
	epoch := r.Bus.Epoch()
	for _, e := range fresh {
		i := l.events.Len()
		l.events.Append(e)
		if l.flow.add(i, e, e.At.Sub(epoch)) {
			drawn = true
		}
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
	if drawn {
		l.flowView.update()
		l.syncSlider()
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
	l.statusLbl.SetText(l.origin + fmt.Sprintf("%s at +%.3fs · %d messages · %d pending", state, elapsed.Seconds(), len(l.envs), r.Bus.Pending()))
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

// matches applies the log filters: the status, then a topic pattern, an app name or a
// correlation id.
func (l *lab) matches(e bus.TraceEvent) bool {
	if l.status != 0 && e.Kind != l.status {
		return false
	}
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
	for i, e := range l.events.All() {
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
	l.stopRecording()
	if l.store != nil {
		l.store.Close()
		l.store = nil
	}
}

// selectArrow inspects the message behind a row of the diagram and shows it in the log.
func (l *lab) selectArrow(row int) {
	if row < 0 || row >= l.flow.arrows.Len() {
		return
	}
	i := l.flow.arrows.At(row).event
	if i >= l.events.Len() {
		return
	}
	l.selected = i
	l.inspect(l.events.At(i))
	l.sideTabs.SelectIndex(0)
	if l.flowView.selected != row {
		l.flowView.selected = row
		l.flowView.Refresh()
	}
	if n, ok := slices.BinarySearch(l.shown, i); ok {
		l.logList.Select(n)
		l.logList.ScrollTo(n)
	}
}

// showInDiagram scrolls the diagram to the selected message and highlights it.
func (l *lab) showInDiagram() {
	if l.selected < 0 || l.selected >= l.events.Len() {
		return
	}
	e := l.events.At(l.selected)
	var env uuid.UUID
	if e.Env != nil {
		env = e.Env.ID
	}
	l.flowView.reveal(l.flow.rowOfEvent(l.selected, env))
}

// syncSlider puts the scrub slider where the diagram is.
func (l *lab) syncSlider() {
	last := float64(l.flowView.lastTop())
	l.flowSlider.Max = max(last, 1)
	l.flowSlider.Value = float64(l.flowView.top)
	l.flowSlider.Refresh()
}
