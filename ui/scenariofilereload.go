package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"

	"mfelab/scenarios"
	"mfelab/session"
)

// The window reloads the chosen scenario file when it changes on disk. It looks by
// polling the file's time and size once a second rather than with file-system events:
// editors save by writing in place, by truncating first, or by renaming a new file over
// the old one, and a poll sees all three alike (an event watch on the file is lost with
// a rename), costs one stat a second, and needs no other goroutine than the ticker's.

// keptRun ends the dialog of a change that was refused.
const keptRun = "The run on screen is the one from before the change. Fix the file and save it again: it is reloaded when it loads."

// filePollInterval is how often the window looks whether the chosen scenario file changed.
const filePollInterval = time.Second

// chosenFile is the file of the scenario on screen, or nil for a built-in one.
func (l *lab) chosenFile() *scenarioFile {
	if l.scenario == nil || l.scenario.Source == "" {
		return nil
	}
	for _, f := range l.files {
		if f.s == l.scenario {
			return f
		}
	}
	return nil
}

// watchScenarioFiles looks once a second whether the chosen scenario's file changed, until
// the lab closes. The look is a stat on the Fyne goroutine; the file is read only when its
// time or size moved.
func (l *lab) watchScenarioFiles() {
	stop := make(chan struct{})
	l.stopFileWatch = stop
	go func() {
		t := time.NewTicker(filePollInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fyne.Do(l.checkScenarioFile)
			}
		}
	}()
}

// checkScenarioFile reloads the chosen scenario's file when it changed on disk. An editor
// may save in two writes; a file that does not load is reported when it has stayed the
// same for one more look, so a half-written file costs no dialog.
func (l *lab) checkScenarioFile() {
	f := l.chosenFile()
	if f == nil {
		return
	}
	fi, err := os.Stat(f.path)
	if err != nil {
		if !f.gone {
			f.gone = true
			l.fileNote = filepath.Base(f.path) + " is gone from disk; the run keeps what was loaded · "
			l.refresh()
		}
		return
	}
	moved := !fi.ModTime().Equal(f.mod) || fi.Size() != f.size
	if !moved && !f.gone && !f.pending {
		return
	}
	f.mod, f.size = fi.ModTime(), fi.Size()
	data, err := os.ReadFile(f.path)
	if err != nil {
		return // looked at again in a second
	}
	f.gone = false
	if bytes.Equal(data, f.data) {
		f.pending = false
		return // saved unchanged: the run goes on
	}
	s, err := parseScenario(f.path, data)
	if err != nil {
		if moved {
			f.pending = true // it may still be being written: looked at once more
			return
		}
		f.pending = false
		f.data = data // reported once; the next change is looked at again
		l.showFileErrors(filepath.Base(f.path)+" was not reloaded", f.path, err, keptRun)
		return
	}
	f.pending = false
	l.reloadScenario(f, s, data)
}

// reloadScenario puts the new content s of file f in place of the chosen scenario and
// starts it again with the run's seed and the knob values the new content still has and
// accepts. If the new content cannot start, the run on screen is kept.
func (l *lab) reloadScenario(f *scenarioFile, s *scenarios.Scenario, data []byte) {
	keep := scenarios.Values{}
	for name, v := range l.set {
		if k, ok := s.Knob(name); ok {
			if norm, err := k.Parse(v); err == nil {
				keep[name] = norm
			}
		}
	}
	ses, err := session.Start(s, l.seed, keep)
	if err != nil {
		f.data = data
		l.showFileErrors(filepath.Base(f.path)+" was not reloaded", f.path, err, keptRun)
		return
	}
	f.s, f.data = s, data
	l.scenario, l.set = s, keep
	l.picker.SetOptions(l.pickerOptions())
	l.picker.SetSelected(fileLabel(s))
	l.watch.SetText(s.Watch)
	l.showKnobs()
	l.fileNote = "reloaded " + filepath.Base(f.path) + " at " + time.Now().Format("15:04:05") + " · "
	l.adopt(ses)
}
