package ui

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"os"
	"runtime/debug"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mfelab/scenarios"
)

// commitEntry is an entry whose value takes effect when the user presses Enter or leaves
// it (Tab, a click elsewhere), as people expect of a form field.
type commitEntry struct {
	labEntry
	onCommit func(string)
	last     string // the value last committed, so leaving unchanged does nothing
}

func newCommitEntry(l *lab, value string, onCommit func(string)) *commitEntry {
	e := &commitEntry{labEntry: labEntry{l: l}, onCommit: onCommit, last: value}
	e.ExtendBaseWidget(e)
	e.SetText(value)
	e.OnSubmitted = func(string) { e.commit() }
	return e
}

// FocusLost commits what was typed.
func (e *commitEntry) FocusLost() {
	e.Entry.FocusLost()
	e.commit()
}

func (e *commitEntry) commit() {
	if e.Text == e.last {
		return
	}
	e.last = e.Text
	e.onCommit(e.Text)
}

// reset shows v as the committed value.
func (e *commitEntry) reset(v string) {
	e.last = v
	e.SetText(v)
}

// newSeedEntry is the seed field: a new seed restarts the run.
func newSeedEntry(l *lab) *commitEntry {
	var e *commitEntry
	e = newCommitEntry(l, "42", func(v string) {
		seed, err := strconv.ParseUint(trimmed(v), 10, 64)
		if err != nil {
			l.showError("Not a seed", fmt.Errorf("seed %q: want a whole number from 0 to 18446744073709551615, such as 42; the run keeps seed %d", v, l.seed))
			e.reset(strconv.FormatUint(l.seed, 10))
			return
		}
		l.seed = seed
		l.reset()
	})
	e.Validator = func(s string) error {
		_, err := strconv.ParseUint(trimmed(s), 10, 64)
		return err
	}
	return e
}

// choose switches to a scenario with its default knobs.
func (l *lab) choose(s *scenarios.Scenario) {
	l.scenario = s
	l.remember(prefScenario, cmp.Or(s.Source, s.ID)) // a file is opened again by its path
	l.set = scenarios.Values{}
	l.picker.SetSelected(fileLabel(s))
	l.watch.SetText(s.Watch)
	l.showKnobs()
	l.reset()
}

// showKnobs builds the current scenario's knob editors with the current values.
func (l *lab) showKnobs() {
	l.knobBox.RemoveAll()
	l.knobEntries = nil
	for _, k := range l.scenario.Knobs {
		l.knobBox.Add(l.knobEditor(k))
	}
}

// applyKnobs sets knobs given on the command line, shows them in their editors and
// restarts the run with them. Bad values get the same dialog as a bad edit.
func (l *lab) applyKnobs(set scenarios.Values) {
	if _, err := l.scenario.Resolve(set); err != nil {
		l.showError("Knob values not applied", err)
		return
	}
	maps.Copy(l.set, set)
	l.showKnobs()
	l.reset()
}

// knobEditor builds the editor a knob's kind calls for.
func (l *lab) knobEditor(k scenarios.Knob) fyne.CanvasObject {
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
		var e *commitEntry
		e = newCommitEntry(l, value, func(v string) {
			if !l.setKnob(k, v) {
				e.reset(l.knobValue(k))
			}
		})
		e.Validator = func(s string) error { _, err := k.Parse(s); return err }
		e.SetPlaceHolder(k.Range())
		l.knobEntries = append(l.knobEntries, e)
		editor = container.NewVBox(e, validationNote(e))
	}
	name := widget.NewLabel(k.Label + "  (" + k.Range() + ")")
	name.Wrapping = fyne.TextWrapWord // a long range must not widen the column
	box := container.NewVBox(name, editor)
	if k.Help != "" {
		help := widget.NewLabel(k.Help)
		help.Wrapping = fyne.TextWrapWord
		help.TextStyle.Italic = true
		help.SizeName = theme.SizeNameCaptionText
		box.Add(help)
	}
	return box
}

// validationNote is a line under a field that says, while the typed value is not valid,
// what is wrong with it: the field's own mark is only a red "!".
func validationNote(e *commitEntry) *widget.Label {
	note := widget.NewLabel("")
	note.Wrapping = fyne.TextWrapWord
	note.Importance = widget.DangerImportance
	note.SizeName = theme.SizeNameCaptionText
	note.Hide()
	e.SetOnValidationChanged(func(err error) {
		if err == nil || e.Text == e.last {
			note.Hide()
			return
		}
		note.SetText(err.Error())
		note.Show()
	})
	return note
}

// knobValue is the value the run uses for k.
func (l *lab) knobValue(k scenarios.Knob) string {
	if v, ok := l.set[k.Name]; ok {
		return v
	}
	return k.Default
}

// setKnob applies a knob's new value and restarts the run; a value out of range is
// refused with a dialog and the run keeps the old one (it reports false).
func (l *lab) setKnob(k scenarios.Knob, v string) bool {
	if l.scenario == nil {
		return false
	}
	norm, err := k.Parse(v)
	if err != nil {
		l.showError("Knob value not applied", fmt.Errorf("%w; the run keeps %s=%s", err, k.Name, l.knobValue(k)))
		return false
	}
	if l.knobValue(k) == norm {
		return true
	}
	l.set[k.Name] = norm
	if l.ses != nil {
		l.reset()
	}
	return true
}

// keepChoices are the memory selector's limits: how many of a run's newest messages stay
// in memory. Older ones are read back from the history file as they are shown.
var keepChoices = []struct {
	label    string
	messages int
}{{"newest 100k messages", 100_000}, {"newest 500k messages", 500_000}, {"newest 2M messages", 2_000_000}, {"every message", 0}}

// defaultKeep holds a run of about 200 MB in memory.
const defaultKeep = "newest 500k messages"

// newKeepSelect is the memory selector, set to the stored choice.
func (l *lab) newKeepSelect() *widget.Select {
	var labels []string
	for _, c := range keepChoices {
		labels = append(labels, c.label)
	}
	sel := widget.NewSelect(labels, func(v string) {
		for _, c := range keepChoices {
			if c.label == v {
				l.keep = c.messages
				if l.ses != nil {
					l.ses.Trace().SetKeep(c.messages)
				}
				setMemoryLimit(c.messages)
				l.remember(prefKeep, v)
			}
		}
	})
	choice := defaultKeep
	if l.prefs != nil {
		choice = l.prefs.StringWithFallback(prefKeep, defaultKeep)
	}
	sel.SetSelected(choice)
	if sel.Selected == "" {
		sel.SetSelected(defaultKeep)
	}
	return sel
}

// setMemoryLimit gives the Go runtime a soft memory limit that fits keeping this many
// messages (none for every message), so the collector works to hold the process's
// resident memory there instead of letting it grow to twice what is live. A GOMEMLIMIT
// in the environment wins.
func setMemoryLimit(messages int) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := int64(math.MaxInt64)
	if messages > 0 {
		limit = memoryBase + int64(messages)*memoryPerMessage
	}
	debug.SetMemoryLimit(limit)
}

// The window's own memory (fonts, widgets, caches) and what one kept message costs with
// its events, envelope and diagram row, with room for the collector to work in.
const (
	memoryBase       = 160 << 20
	memoryPerMessage = 640
)
