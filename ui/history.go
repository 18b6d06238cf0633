package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mfelab/bus"
	"mfelab/history"
	"mfelab/scenarios"
	"mfelab/session"
)

// pickHint says how the History tab is used, until a run is picked.
const pickHint = "Pick a recorded run above to browse its messages; move the slider to a moment and Travel here to rebuild every panel as it was then."

// browseLimit caps how many stored messages the browser loads at once.
const browseLimit = 200_000

// historyView is the History tab: the runs recorded in the history file, a filtered list
// of one run's messages, and a time slider that rebuilds every panel as it was just after
// the chosen message (time travel), from where the run can be stepped or run on.
type historyView struct {
	l       *lab
	content fyne.CanvasObject

	file    *widget.Label
	runs    *widget.Select
	pattern *widget.Entry
	corr    *widget.Entry
	span    *widget.Entry
	list    *widget.List
	slider  *widget.Slider
	at      *widget.Label
	travelB *tipButton

	ns    string            // the run shown, by ID
	infos []history.RunInfo // the runs listed
	envs  []*bus.Envelope   // its messages passing the filter, oldest first
	start time.Time         // when the run started: the browser's times count from it

	importing *importJob // the import running, if any
}

func newHistoryView(l *lab) *historyView {
	h := &historyView{l: l}
	h.file = widget.NewLabel("")
	h.file.Truncation = fyne.TextTruncateEllipsis
	h.runs = widget.NewSelect(nil, h.pick)
	h.runs.PlaceHolder = "(pick a recorded run)"
	h.pattern = widget.NewEntry()
	h.pattern.SetPlaceHolder("topic pattern, e.g. payment.#")
	h.pattern.OnSubmitted = func(string) { h.load() }
	h.pattern.OnChanged = func(string) { h.filterLive() }
	h.corr = widget.NewEntry()
	h.corr.SetPlaceHolder("correlation id")
	h.corr.OnSubmitted = func(string) { h.load() }
	h.corr.OnChanged = func(string) { h.filterLive() }
	h.span = widget.NewEntry()
	h.span.SetPlaceHolder("time since the start, e.g. 1s..2.5s")
	h.span.OnSubmitted = func(string) { h.load() }
	h.span.OnChanged = func(string) { h.filterLive() }
	h.list = textList(func() int { return len(h.envs) }, h.row)
	h.list.OnSelected = func(i widget.ListItemID) { h.slider.SetValue(float64(i)) }
	h.slider = widget.NewSlider(0, 1)
	h.slider.OnChanged = func(float64) { h.showAt() }
	h.at = widget.NewLabel(pickHint)
	h.at.Wrapping = fyne.TextWrapWord
	h.travelB = newTipButton("Travel here", theme.HistoryIcon(),
		"Rebuild every panel as it was just after this message, then step or run on from there", l.tips, h.travel)
	h.travelB.Disable() // until a run is picked
	open := widget.NewButtonWithIcon("Open file…", theme.FolderOpenIcon(), h.chooseFile)
	imp := widget.NewButtonWithIcon("Import log…", theme.UploadIcon(), h.chooseImport)
	exp := widget.NewButtonWithIcon("Export…", theme.DocumentSaveIcon(), h.export)
	cmp := widget.NewButtonWithIcon("Compare", theme.ContentCopyIcon(), h.compare)
	// the run on a line of its own, as its label is long; a grid of four would make the
	// window at least four times the widest of them wide
	filters := container.NewGridWithColumns(3, h.pattern, h.corr, h.span)
	top := container.NewVBox(container.NewBorder(nil, nil, nil, container.NewHBox(open, imp, exp, cmp), h.file), h.runs, filters)
	bottom := container.NewVBox(h.slider, container.NewBorder(nil, nil, nil, container.NewVBox(h.travelB), h.at))
	h.content = container.NewBorder(top, bottom, nil, nil, h.list)
	h.reloadRuns()
	return h
}

func (h *historyView) row(i int) string {
	e := h.envs[i]
	at := ""
	if len(h.envs) > 0 {
		at = fmt.Sprintf("+%.3fs", e.TS.Sub(h.start).Seconds())
	}
	return fmt.Sprintf("%-9s #%-5d %-13s %-30s %s", at, e.Seq, e.Meta.Source, e.Topic, e.Correlation())
}

// reloadRuns lists the recorded runs, newest first, keeping the one shown.
func (h *historyView) reloadRuns() {
	st := h.l.store
	if st == nil {
		h.file.SetText("No history file is open: runs are not recorded. Open one to browse or record.")
		h.runs.SetOptions(nil)
		h.infos = nil
		return
	}
	runs, err := st.Runs()
	if err != nil {
		h.l.showError("Cannot list the recorded runs", err)
		return
	}
	h.infos = runs
	var names []string
	keep := ""
	for _, r := range runs {
		name := runLabel(r)
		names = append(names, name)
		if r.ID == h.ns {
			keep = name
		}
	}
	h.file.SetText(fmt.Sprintf("%s: %d recorded run(s)", st.Path(), len(names)))
	h.runs.SetOptions(names)
	if h.ns != "" && keep == "" {
		h.ns = ""
		h.envs = nil
		h.list.Refresh()
		h.showAt()
	}
}

// pick shows the run whose label was chosen.
func (h *historyView) pick(label string) {
	for _, r := range h.infos {
		if runLabel(r) == label {
			h.ns = r.ID
			h.load()
			return
		}
	}
}

// query runs q against run ns of the open file.
func (h *historyView) query(ns string, q history.Query) ([]*bus.Envelope, error) {
	st := h.l.store
	if st == nil {
		return nil, fmt.Errorf("no history file is open")
	}
	if ses := h.l.ses; ses != nil {
		if info, on := ses.Recording(); on && info.ID == ns {
			if err := ses.FlushRecording(); err != nil { // the run being recorded: show all of it
				return nil, err
			}
		}
	}
	v, err := st.In(ns)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	return v.Query(q)
}

// load reads the chosen run's messages that pass the filter.
func (h *historyView) load() {
	if h.ns == "" {
		return
	}
	pattern := strings.TrimSpace(h.pattern.Text)
	if pattern != "" {
		if err := bus.ValidatePattern(pattern); err != nil {
			h.l.showError("Not a topic pattern", fmt.Errorf("%w; use segments joined by dots, + for one segment, # at the end for any", err))
			return
		}
	}
	if err := h.findStart(); err != nil {
		h.l.showError("Cannot read the run", err)
		return
	}
	q := history.Query{Pattern: pattern, CorrelationID: strings.TrimSpace(h.corr.Text), Limit: browseLimit}
	if span := strings.TrimSpace(h.span.Text); span != "" {
		from, to, err := parseSpan(span)
		if err != nil {
			h.l.showError("Not a time range", err)
			return
		}
		q.From = h.start.Add(from)
		if to > 0 {
			q.To = h.start.Add(to)
		}
	}
	envs, err := h.query(h.ns, q)
	if err != nil {
		h.l.showError("Cannot read the run", err)
		return
	}
	h.envs = envs
	h.list.UnselectAll()
	h.list.Refresh()
	h.slider.Max = float64(max(len(envs)-1, 1))
	h.slider.SetValue(0)
	h.showAt()
}

// findStart sets when the shown run started: its record says, or else its first message.
func (h *historyView) findStart() error {
	for _, info := range h.infos {
		if info.ID == h.ns && !info.Epoch.IsZero() {
			h.start = info.Epoch
			return nil
		}
	}
	first, err := h.query(h.ns, history.Query{Limit: 1})
	if err != nil {
		return err
	}
	if len(first) > 0 {
		h.start = first[0].TS
	}
	return nil
}

// filterLive applies the filters as they are typed, as the log's does; what is not yet a
// pattern or a range waits for more typing, or for Enter to say what is wrong.
func (h *historyView) filterLive() {
	if h.ns == "" {
		return
	}
	if p := strings.TrimSpace(h.pattern.Text); p != "" && bus.ValidatePattern(p) != nil {
		return
	}
	if sp := strings.TrimSpace(h.span.Text); sp != "" {
		if _, _, err := parseSpan(sp); err != nil {
			return
		}
	}
	h.load()
}

// showAt names the message under the slider.
func (h *historyView) showAt() {
	i := int(h.slider.Value)
	if i >= len(h.envs) {
		h.travelB.Disable()
		if h.ns == "" {
			h.at.SetText(pickHint)
		} else {
			h.at.SetText("No message of this run passes the filter: clear it to travel.")
		}
		return
	}
	h.travelB.Enable()
	e := h.envs[i]
	text := fmt.Sprintf("at #%d %s, +%.3fs (%d of %d shown)", e.Seq, e.Topic, e.TS.Sub(h.start).Seconds(), i+1, len(h.envs))
	if len(h.envs) == browseLimit {
		text += fmt.Sprintf("; the first %d only: narrow the filter", browseLimit)
	}
	h.at.SetText(text)
}

// travel rebuilds every panel as it was just after the chosen message, by replaying the
// run's messages up to it (all of them, not only those the filter shows), and leaves the
// replay paused there: step or run to go on from that moment.
func (h *historyView) travel() {
	i := int(h.slider.Value)
	if i >= len(h.envs) {
		return
	}
	target := h.envs[i]
	all, err := h.query(h.ns, history.Query{})
	if err != nil {
		h.l.showError("Cannot read the run", err)
		return
	}
	k := 0
	for _, e := range all {
		if e.Seq <= target.Seq {
			k++
		}
	}
	origin := fmt.Sprintf("time travel in %s to #%d · ", h.ns, target.Seq)
	// A scenario run is run again to that moment: the panels are exactly as they were and
	// running on delivers as the original did. A log, or a run changed by hand while it
	// ran, is replayed instead.
	for _, info := range h.infos {
		if info.ID != h.ns {
			continue
		}
		s, err := session.ScenarioOfRun(info)
		if err != nil {
			if info.File != "" {
				h.l.info("Time travel replays the log", fmt.Sprintf("The run's scenario file cannot be run again: %v.\n\nThe recorded messages are replayed instead: the panels are rebuilt from them, and running on publishes the rest of the log again.", err))
			}
			break
		}
		ses, err := session.Rewind(s, info.Seed, scenarios.Values(info.Knobs), all, k, origin)
		if err != nil {
			h.l.info("Time travel replays the log", fmt.Sprintf("%v.\n\nThe recorded messages are replayed instead: the panels are rebuilt from them, and running on publishes the rest of the log again.", err))
			break
		}
		if s.Source != "" {
			// in the picker with the other files, and reloaded when it changes
			if f, err := loadScenarioFile(s.Source); err == nil {
				h.l.addFile(f)
			}
		}
		h.l.adoptRun(ses, s, scenarios.Values(info.Knobs), info.Seed)
		return
	}
	h.l.openReplay(all, k, origin)
}

// export writes the chosen run's messages that pass the filter.
func (h *historyView) export() {
	if h.ns == "" || h.l.store == nil {
		h.l.info("Nothing to export", "Pick a recorded run first; to export the run on screen, use Export above the diagram.")
		return
	}
	ns := h.ns
	q := history.Query{Pattern: strings.TrimSpace(h.pattern.Text), CorrelationID: strings.TrimSpace(h.corr.Text)}
	h.l.chooseExport(ns, false, func(path string, f history.Format) (int, error) {
		if ses := h.l.ses; ses != nil {
			if info, on := ses.Recording(); on && info.ID == ns {
				if err := ses.FlushRecording(); err != nil {
					return 0, err
				}
			}
		}
		n, _, err := session.ExportRun(h.l.store, ns, path, f, q)
		return n, err
	})
}
