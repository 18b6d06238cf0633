package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mfelab/bus"
	"mfelab/history"
	"mfelab/scenarios"
	"mfelab/session"
)

// anyStatus is the status filter's choice that hides nothing.
const anyStatus = "any status"

// speeds offered by the speed selector, by label.
var speeds = []struct {
	label string
	value float64
}{{"0.25x", 0.25}, {"0.5x", 0.5}, {"1x", 1}, {"2x", 2}, {"5x", 5}, {"10x", 10}, {"instant", bus.Instant}}

// lab is the main window's content. It draws a session and turns the user's gestures
// into calls on it; what a run is, when it is over, how an event reads and what arrow it
// draws are the session's. Every field is touched on the Fyne goroutine only.
type lab struct {
	win  fyne.Window
	opts Options

	scenario *scenarios.Scenario
	set      scenarios.Values
	seed     uint64
	speed    float64
	keep     int // messages kept in memory per run; older ones are read back from the history file
	ses      *session.Session
	seen     int // trace events already taken into the widgets

	log     *logView
	flow    *flowView
	compare *compareView // the compare window, when open

	// history: the open file and the browser tab
	store *history.Store
	hist  *historyView
	// lastError is the text of the latest error dialog, for tests and the status line.
	lastError string
	// lastInfo is the title and text of the latest message dialog, for tests.
	lastInfo string
	// dialogs are the dialogs open now, newest last: Esc and Enter answer the newest.
	dialogs []*shownDialog

	picker *widget.Select
	watch  *widget.Label
	// replaySide says the left column describes a replayed log, not the picked scenario.
	replaySide  bool
	knobBox     *fyne.Container
	seedEntry   *commitEntry
	knobEntries []*commitEntry // the knob fields that take typed values
	speedSel    *widget.Select
	runBtn      *tipButton
	stepBtn     *tipButton // off, with actBtn and the speed, while the bus is joined
	actBtn      *tipButton
	net         *netState     // the bus joined or shared with other processes (remote.go)
	hint        *widget.Label // where to start, on the first launch until the first step
	tips        *tipLayer
	statusLbl   *widget.Label
	checks      *widget.Label
	actLabel    *widget.Label
	panels      *panels
	flowSlider  *widget.Slider
	views       *views
	sideTabs    *tabStrip
	lowerTabs   *container.AppTabs
	prefs       fyne.Preferences
	perf        *perfMeter

	refresher *refresher // redraws on change while runs play; nil until the first plays
	drawn     drawn      // what the last refresh showed

	// scenario files in the picker, newest first, and what the status line says of them
	files         []*scenarioFile
	fileNote      string
	sourceLbl     *widget.Label // under the picker: the file the scenario on screen comes from
	stopFileWatch chan struct{}
}

func newLab(win fyne.Window, opts Options) *lab {
	l := &lab{win: win, opts: opts, seed: 42, speed: 1, perf: newPerfMeter(), net: &netState{}}
	if a := fyne.CurrentApp(); a != nil {
		l.prefs = a.Preferences()
	}
	firstLaunch := l.prefs != nil && l.prefs.String(prefScenario) == "" && opts.Screenshot == ""
	l.build()
	if firstLaunch {
		l.hint.Show()
	}
	first := scenarios.All()[0]
	if s, err := scenarios.Get(opts.Scenario); err == nil {
		first = s
	}
	l.loadRememberedFiles()
	file := l.startFile(opts.Scenario)
	if file != nil {
		first = file
	}
	l.choose(first)
	if len(opts.Knobs) > 0 && (first.ID == opts.Scenario || file != nil) {
		l.applyKnobs(opts.Knobs)
	}
	return l
}

func (l *lab) build() {
	l.tips = newTipLayer()
	left := l.buildControls()
	l.panels = newPanels()
	l.log = newLogView(l)
	l.flow = newFlowView(nil)
	l.flow.published = func() int {
		if l.ses == nil {
			return 0
		}
		return l.ses.Trace().Messages()
	}
	l.flow.onSelect = l.selectArrow
	l.flowSlider = widget.NewSlider(0, 0)
	l.flowSlider.OnChanged = func(v float64) {
		if int(v) != l.flow.top {
			l.flow.scrollTo(int(v))
		}
	}
	l.flow.onScroll = l.syncSlider
	legend := newTipButton("Legend", theme.InfoIcon(), "What the arrows, colours and marks mean", l.tips, func() {
		l.custom("How the diagram draws messages", "Close", flowLegend(), fyne.Size{})
	})
	follow := newTipButton("Newest", theme.MoveDownIcon(), "Scroll to the newest message and follow the run", l.tips, func() { l.flow.scrollTo(l.flow.rows()) })
	export := newTipButton("Export…", theme.DocumentSaveIcon(), "Save this run's log (NDJSON, CloudEvents, CSV), its diagram (Mermaid), a picture (PNG) or a Go test of it", l.tips, l.showExport)
	compare := newTipButton("Compare…", theme.ContentCopyIcon(), "Show this run beside another, with the arrows that differ marked (Ctrl+D)", l.tips, l.chooseCompare)
	flowBar := container.NewHBox(widget.NewLabelWithStyle("Flow", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		layout.NewSpacer(), legend, follow, compare, export)
	flowPane := container.NewBorder(flowBar, l.flowSlider, nil, nil, l.flow)

	l.views, l.sideTabs = l.newViews()
	l.hist = newHistoryView(l)
	l.lowerTabs = container.NewAppTabs(
		container.NewTabItem("Log", l.log.content),
		container.NewTabItem("History", l.hist.content),
	)
	l.lowerTabs.OnSelected = func(tab *container.TabItem) {
		if tab.Content == l.hist.content {
			l.showHistory()
		}
	}
	work := container.NewVSplit(flowPane, l.lowerTabs)
	work.Offset = 0.55
	bottom := container.NewHSplit(work, l.sideTabs.content)
	bottom.Offset = 0.68
	centre := container.NewVSplit(container.NewVScroll(l.panels.grid), bottom)
	centre.Offset = 0.34
	split := container.NewHSplit(container.NewVScroll(container.NewPadded(left)), centre)
	split.Offset = 0.26 // the transport keeps its two columns of buttons down to 1024 px
	l.win.SetContent(container.NewStack(split, l.tips.layer))
	l.addShortcuts()
}

// buildControls makes the left column: scenario, knobs, seed, speed, theme, transport,
// status and the outcome checks.
func (l *lab) buildControls() fyne.CanvasObject {
	l.picker = widget.NewSelect(l.pickerOptions(), func(label string) {
		if s := l.scenarioByLabel(label); s != nil && s != l.scenario {
			l.fileNote = ""
			l.choose(s)
		}
	})
	l.watch = widget.NewLabel("")
	l.watch.Wrapping = fyne.TextWrapWord
	l.sourceLbl = newSourceLabel()
	l.knobBox = container.NewVBox()
	l.seedEntry = newSeedEntry(l)
	var labels []string
	for _, s := range speeds {
		labels = append(labels, s.label)
	}
	l.speedSel = widget.NewSelect(labels, func(v string) {
		for _, s := range speeds {
			if s.label == v {
				l.speed = s.value
				if l.ses != nil {
					l.ses.SetSpeed(s.value)
				}
				l.remember(prefSpeed, v)
			}
		}
	})
	// the stored choice, read before anything is selected: selecting saves
	speed := "1x"
	if l.prefs != nil {
		speed = l.prefs.StringWithFallback(prefSpeed, speed)
	}
	l.speedSel.SetSelected(speed)
	keepSel := l.newKeepSelect()
	themeSel := widget.NewSelect(themeChoices, func(v string) {
		if a := fyne.CurrentApp(); a != nil && l.prefs != nil && l.prefs.String(prefTheme) != v {
			applyTheme(a, v)
			l.remember(prefTheme, v)
		}
	})
	if l.prefs != nil {
		themeSel.SetSelected(l.prefs.StringWithFallback(prefTheme, themeSystem))
	}
	l.runBtn = newTipButton("Run", theme.MediaPlayIcon(), "Run or pause the scenario (Ctrl+Space)", l.tips, l.toggleRun)
	l.stepBtn = newTipButton("Step", theme.MediaSkipNextIcon(), "Deliver one message (Ctrl+Right)", l.tips, l.step)
	l.actBtn = newTipButton("Next act", theme.MediaFastForwardIcon(), "Run until the next act of the script (Ctrl+Down)", l.tips, l.stepAct)
	resetBtn := newTipButton("Reset", theme.MediaReplayIcon(), "Start the scenario again with these knobs and seed (Ctrl+R)", l.tips, l.reset)
	l.hint = widget.NewLabel("New here? Press Step (Ctrl+Right) to deliver one message at a time, " +
		"or Run (Ctrl+Space) to play the scenario. Click any arrow or log row to see the message and what caused it; " +
		"the checks below say whether the pattern did its job.")
	l.hint.Wrapping = fyne.TextWrapWord
	l.hint.Importance = widget.HighImportance
	l.hint.Hide()
	l.statusLbl = widget.NewLabel("")
	l.statusLbl.Wrapping = fyne.TextWrapWord
	l.actLabel = widget.NewLabel("")
	l.actLabel.Wrapping = fyne.TextWrapWord
	l.checks = widget.NewLabel("")
	l.checks.Wrapping = fyne.TextWrapWord
	bold := func(s string) fyne.CanvasObject {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	// What a learner needs while a run goes on comes first: the scenario, what to watch,
	// the transport and where the run stands, and the checks; the settings follow.
	return container.NewVBox(
		bold("Scenario"), l.picker, l.sourceLbl, l.watch,
		container.NewGridWithColumns(2, l.runBtn, l.stepBtn, l.actBtn, resetBtn),
		l.hint, l.statusLbl, l.newNetBox(), l.actLabel,
		widget.NewSeparator(),
		bold("Outcome checks"), l.checks,
		widget.NewSeparator(),
		bold("Knobs"), l.knobBox,
		widget.NewForm(widget.NewFormItem("Seed", l.seedEntry), widget.NewFormItem("Speed", l.speedSel),
			widget.NewFormItem("Memory", keepSel), widget.NewFormItem("Theme", themeSel),
			widget.NewFormItem("Processes", l.netButtons())),
	)
}

// textList is a virtual list of one-line monospace rows: n says how many, text renders
// row i. Rows are reused as they scroll, so a million cost what a screenful does.
func textList(n func() int, text func(i int) string) *widget.List {
	return widget.NewList(n,
		func() fyne.CanvasObject { return newMonoRow() },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < n() {
				o.(*monoRow).SetText(text(i))
			}
		})
}

// remember stores a preference, when the app keeps them.
func (l *lab) remember(key, value string) {
	if l.prefs != nil {
		l.prefs.SetString(key, value)
	}
}

// close stops the run, its recording and the refresher, and closes the compare window.
func (l *lab) close() {
	l.closeCompare()
	defer l.closeNet() // after the session: its bridge leaves the server first
	if l.stopFileWatch != nil {
		close(l.stopFileWatch)
		l.stopFileWatch = nil
	}
	l.stopRefresher()
	l.endSession()
	if l.store != nil {
		l.store.Close()
		l.store = nil
	}
}

// syncSlider puts the scrub slider where the diagram is.
func (l *lab) syncSlider() {
	l.flowSlider.Max = max(float64(l.flow.lastTop()), 1)
	l.flowSlider.Value = float64(l.flow.top)
	l.flowSlider.Refresh()
}

// trimmed is s without surrounding spaces.
func trimmed(s string) string { return strings.TrimSpace(s) }
