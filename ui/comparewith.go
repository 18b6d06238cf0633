package ui

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"mfelab/history"
	"mfelab/scenarios"
	"mfelab/session"
)

// The two sources of run B in the chooser.
const (
	compareFresh    = "A fresh run"
	compareRecorded = "A recorded run"
)

// chooseCompare asks what to compare the run on screen (A) with: a fresh run of a
// scenario with knobs and a seed (by default the ones on screen, to change one), or a run
// the history file recorded.
func (l *lab) chooseCompare() {
	if !l.canCompare() {
		return
	}
	source := widget.NewRadioGroup([]string{compareFresh, compareRecorded}, nil)
	source.Horizontal = true
	source.SetSelected(compareFresh)
	titles := l.pickerOptions() // the scenario files in the picker too
	knobs := widget.NewEntry()
	knobs.SetText(l.set.String())
	knobs.SetPlaceHolder("knob=value …, e.g. fail=ship")
	knobs.OnChanged = func(string) { source.SetSelected(compareFresh) }
	seed := widget.NewEntry()
	seed.SetText(strconv.FormatUint(l.seed, 10))
	seed.OnChanged = knobs.OnChanged
	scenario := widget.NewSelect(titles, func(title string) {
		// keep the knobs the chosen scenario has too, so one knob can be compared across two
		if s := l.scenarioByLabel(title); s != nil {
			if set, err := parseKnobs(knobs.Text); err == nil {
				for k := range set {
					if _, ok := s.Knob(k); !ok {
						delete(set, k)
					}
				}
				knobs.SetText(set.String())
			}
		}
		source.SetSelected(compareFresh)
	})
	scenario.SetSelected(fileLabel(l.scenario))
	var runs []history.RunInfo
	var labels []string
	if l.store != nil {
		if err := l.ses.FlushRecording(); err != nil {
			l.reportRecordingFailure()
		}
		runs, _ = l.store.Runs()
		for _, r := range runs {
			labels = append(labels, runLabel(r))
		}
	}
	recorded := widget.NewSelect(labels, func(string) { source.SetSelected(compareRecorded) })
	recorded.PlaceHolder = "(pick a run of the history file)"
	if len(labels) == 0 {
		recorded.PlaceHolder = "(no recorded runs: no history file is open, or it is empty)"
		recorded.Disable()
	}
	hint := widget.NewLabel("Change the scenario, a knob or the seed to see what that changes in the flow, or pick a recorded run.")
	hint.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(
		widget.NewFormItem("Scenario", scenario), widget.NewFormItem("Knobs", knobs), widget.NewFormItem("Seed", seed),
		widget.NewFormItem("Recorded", recorded))
	content := container.NewVBox(hint, source, form)
	d := dialog.NewCustomConfirm("Compare the run on screen (A) with B", "Compare", "Cancel", content, func(ok bool) {
		if !ok {
			return
		}
		if source.Selected == compareRecorded {
			for i, label := range labels {
				if label == recorded.Selected {
					l.compareRecorded(runs[i].ID)
					return
				}
			}
			l.info("Pick a recorded run", "Choose the run to compare with in the list of recorded runs.")
			return
		}
		l.compareFresh(scenario.Selected, knobs.Text, seed.Text)
	}, l.win)
	d.Resize(fyne.NewSize(720, 360))
	l.show(d, d.Confirm)
}

// canCompare says why the run on screen cannot be compared yet, if it cannot.
func (l *lab) canCompare() bool {
	if l.ses == nil {
		return false
	}
	if l.ses.Trace().Diagram().Len() == 0 {
		l.info("Nothing to compare yet", "This run has no deliveries yet: step or run the scenario first, then compare it with another run.")
		return false
	}
	return true
}

// compareFresh runs scenario title with the knobs written as text and seed to its end and
// compares the run on screen with it.
func (l *lab) compareFresh(title, knobText, seedText string) {
	s := l.scenarioByLabel(title)
	if s == nil {
		l.info("Pick a scenario", "Choose the scenario of run B.")
		return
	}
	set, err := parseKnobs(knobText)
	if err != nil {
		l.showError("Not a knob setting", err)
		return
	}
	seed, err := strconv.ParseUint(strings.TrimSpace(seedText), 10, 64)
	if err != nil {
		l.showError("Not a seed", fmt.Errorf("%q: the seed is a whole number from 0 to 18446744073709551615", seedText))
		return
	}
	ses, err := session.Start(s, seed, set)
	if err != nil {
		l.showError("Cannot start run B", err)
		return
	}
	ses.RunToEnd()
	b := ses.Side(runName(ses))
	if err := ses.Close(); err != nil {
		l.showError("Cannot start run B", err)
		return
	}
	l.compareWith(b)
}

// compareRecorded compares the run on screen with run id of the open history file.
func (l *lab) compareRecorded(id string) {
	if l.store == nil {
		l.info("No history file is open", "Open a history file to compare with the runs it recorded.")
		return
	}
	if info, on := l.ses.Recording(); on && info.ID == id {
		if err := l.ses.FlushRecording(); err != nil {
			l.showError("Cannot read the run", err)
			return
		}
	}
	b, err := session.LoadSide(l.store, id)
	if err != nil {
		l.showError("Cannot read the run", err)
		return
	}
	l.compareWith(b)
}

// compareWith pauses the run on screen and opens the compare view of it against b.
func (l *lab) compareWith(b session.Side) {
	if !l.canCompare() {
		return
	}
	l.pause()
	c, err := session.Compare(l.ses.Side(runName(l.ses)+" (on screen)"), b)
	if err != nil {
		l.showError("Cannot compare the runs", err)
		return
	}
	l.openCompare(c)
}

// openCompare shows comparison c in a window of its own, in place of any open one.
func (l *lab) openCompare(c session.Comparison) {
	l.closeCompare()
	w := fyne.CurrentApp().NewWindow("MFE Lab · compare two runs")
	cv := newCompareView(c, w.Close)
	cv.win = w
	w.SetContent(cv.content)
	w.Canvas().SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if ev.Name == fyne.KeyEscape {
			w.Close()
		}
	})
	w.SetOnClosed(func() {
		if l.compare == cv {
			l.compare = nil
		}
	})
	size := l.win.Canvas().Size()
	if size.Width < 900 || size.Height < 600 {
		size = fyne.NewSize(1280, 800)
	}
	w.Resize(size)
	w.Show()
	l.compare = cv
}

// closeCompare closes the compare window, if one is open.
func (l *lab) closeCompare() {
	if l.compare != nil {
		l.compare.win.Close()
		l.compare = nil
	}
}

// runName names a session's run: scenario, seed and knobs, or where a replay came from.
func runName(ses *session.Session) string {
	if ses.IsReplay() {
		return strings.TrimSuffix(strings.TrimSpace(ses.Origin()), " ·")
	}
	r := ses.Run()
	name := fmt.Sprintf("%s, seed %d", r.Scenario.ID, r.Seed)
	if k := r.Knobs.String(); k != "" {
		name += ", " + k
	}
	return name
}

// parseKnobs reads knob settings typed as "knob=value", separated by spaces or commas.
func parseKnobs(text string) (scenarios.Values, error) {
	set := scenarios.Values{}
	for _, kv := range strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == ',' }) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: write each knob as knob=value, separated by spaces, e.g. fail=ship latency=20ms", kv)
		}
		set[k] = v
	}
	return set, nil
}

// compare compares the run on screen with the run picked in the History tab.
func (h *historyView) compare() {
	if h.ns == "" {
		h.l.info("Pick a recorded run", "Pick a run in the list above to compare the run on screen with it; Run → Compare with… offers fresh runs too.")
		return
	}
	h.l.compareRecorded(h.ns)
}
