package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mfelab/scenarios"
)

// prefScenarioFiles lists the scenario files opened last, newest first: they join the
// picker again at the next start.
const prefScenarioFiles = "scenario.files"

// maxRememberedFiles is how many opened scenario files the picker keeps.
const maxRememberedFiles = 8

// maxErrorLines is how many of a file's mistakes a dialog lists before it counts the rest.
const maxErrorLines = 10

// scenarioFile is a scenario loaded from a file, with what the file was when it was read,
// so that a change on disk can be noticed.
type scenarioFile struct {
	path string // absolute
	s    *scenarios.Scenario
	mod  time.Time
	size int64
	data []byte // the content s was read from
	// pending is true while the changed file did not load at the first look: it is
	// reported if it is still so at the next.
	pending bool
	gone    bool // the file could not be read at the last look
}

// fileLabel is how the picker names a scenario: a file's title says it is one.
func fileLabel(s *scenarios.Scenario) string {
	if s.Source == "" {
		return s.Title
	}
	return s.Title + " (file " + filepath.Base(s.Source) + ")"
}

// pickerOptions are the picker's entries: the built-in scenarios, then the files.
func (l *lab) pickerOptions() []string {
	var out []string
	for _, s := range scenarios.All() {
		out = append(out, s.Title)
	}
	for _, f := range l.files {
		out = append(out, fileLabel(f.s))
	}
	return out
}

// scenarioByLabel finds the scenario the picker shows as label.
func (l *lab) scenarioByLabel(label string) *scenarios.Scenario {
	for _, s := range scenarios.All() {
		if s.Title == label {
			return s
		}
	}
	for _, f := range l.files {
		if fileLabel(f.s) == label {
			return f.s
		}
	}
	return nil
}

// chooseScenarioFile asks for a scenario file and opens it.
func (l *lab) chooseScenarioFile() {
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil || rc == nil {
			return
		}
		path := rc.URI().Path()
		rc.Close()
		l.openScenarioFile(path)
	}, l.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".yaml", ".yml"}))
	if len(l.files) > 0 { // start where the last file was opened
		if dir, err := storage.ListerForURI(storage.NewFileURI(filepath.Dir(l.files[0].path))); err == nil {
			d.SetLocation(dir)
		}
	}
	d.Resize(fileDialogSize)
	l.show(d, nil)
}

// openScenarioFile loads the scenario file at path, adds it to the picker and the
// remembered files, and starts it with its default knobs. A file that does not load is
// refused with a dialog listing its mistakes; it reports whether the file opened.
func (l *lab) openScenarioFile(path string) bool {
	f, err := loadScenarioFile(path)
	if err != nil {
		l.showFileErrors("Cannot open "+filepath.Base(path), path, err, "Nothing changed: the run on screen goes on.")
		return false
	}
	l.addFile(f)
	l.choose(f.s)
	return true
}

// loadScenarioFile reads and checks the file at path.
func loadScenarioFile(path string) (*scenarioFile, error) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return scenarioFileErr(scenarios.LoadFile(path))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := parseScenario(path, data)
	if err != nil {
		return nil, err
	}
	return &scenarioFile{path: path, s: s, mod: fi.ModTime(), size: fi.Size(), data: data}, nil
}

// scenarioFileErr passes on LoadFile's verdict on what is not a file it can read.
func scenarioFileErr(_ *scenarios.Scenario, err error) (*scenarioFile, error) {
	if err == nil {
		err = errors.New("not a scenario file")
	}
	return nil, err
}

// parseScenario checks a scenario file's content, read once, so that what is checked is
// what is kept to compare with.
func parseScenario(path string, data []byte) (*scenarios.Scenario, error) {
	if len(data) > scenarios.MaxFileSize {
		return scenarios.LoadFile(path) // it says how big a file may be
	}
	return scenarios.Parse(path, data)
}

// addFile puts f first in the picker's files (in place of an earlier load of the same
// file) and remembers the list.
func (l *lab) addFile(f *scenarioFile) {
	l.files = slices.DeleteFunc(l.files, func(o *scenarioFile) bool { return o.path == f.path })
	l.files = append([]*scenarioFile{f}, l.files...)
	if len(l.files) > maxRememberedFiles {
		l.files = l.files[:maxRememberedFiles]
	}
	l.picker.SetOptions(l.pickerOptions())
	l.rememberFiles()
}

// rememberFiles stores the picker's files for the next start.
func (l *lab) rememberFiles() {
	if l.prefs == nil {
		return
	}
	paths := make([]string, len(l.files))
	for i, f := range l.files {
		paths[i] = f.path
	}
	l.prefs.SetStringList(prefScenarioFiles, paths)
}

// loadRememberedFiles puts the files opened before back in the picker. One that no
// longer loads is dropped from the list, and one note says so.
func (l *lab) loadRememberedFiles() {
	if l.prefs == nil {
		return
	}
	var dropped []string
	for _, path := range l.prefs.StringList(prefScenarioFiles) {
		f, err := loadScenarioFile(path)
		if err != nil {
			dropped = append(dropped, filepath.Base(path))
			continue
		}
		l.files = append(l.files, f)
	}
	if len(dropped) > 0 {
		l.picker.SetOptions(l.pickerOptions())
		l.rememberFiles()
		l.fileNote = fmt.Sprintf("%s no longer loaded and left the scenario list · ", strings.Join(dropped, ", "))
	}
	if len(l.files) > 0 {
		l.picker.SetOptions(l.pickerOptions())
	}
}

// startFile opens the scenario file arg names (from the command line or the scenario
// used last) and returns its scenario, or nil when arg names no file or it did not load.
func (l *lab) startFile(arg string) *scenarios.Scenario {
	if arg == "" || !scenarios.IsScenarioFile(arg) {
		return nil
	}
	abs, err := filepath.Abs(arg)
	if err != nil {
		abs = arg
	}
	if f := l.fileAt(abs); f != nil {
		return f.s
	}
	f, err := loadScenarioFile(abs)
	if err != nil {
		if name := filepath.Base(arg); !strings.Contains(l.fileNote, name) {
			l.fileNote = name + " did not load · " + l.fileNote
		}
		return nil
	}
	l.addFile(f)
	return f.s
}

// fileAt is the picker's file at path, or nil.
func (l *lab) fileAt(path string) *scenarioFile {
	for _, f := range l.files {
		if f.path == path {
			return f
		}
	}
	return nil
}

// showFileErrors shows why a scenario file was refused: its mistakes one a line as
// file:line:col: what is wrong (the first few, then how many more), then what became of
// the run.
func (l *lab) showFileErrors(title, path string, err error, after string) {
	var lines []string
	var fes scenarios.FileErrors
	var fe *scenarios.FileError
	switch {
	case errors.As(err, &fes):
		for _, e := range fes {
			lines = append(lines, fileErrorLine(e))
		}
	case errors.As(err, &fe):
		lines = append(lines, fileErrorLine(fe))
	default:
		lines = append(lines, err.Error())
	}
	if len(lines) > maxErrorLines {
		lines = append(lines[:maxErrorLines], fmt.Sprintf("… and %d more", len(lines)-maxErrorLines))
	}
	text := strings.Join(lines, "\n")
	l.lastError = title + ": " + text
	head := widget.NewLabel(path)
	head.Wrapping = fyne.TextWrapWord
	msg := widget.NewLabel(text)
	msg.Wrapping = fyne.TextWrapWord
	msg.TextStyle = fyne.TextStyle{Monospace: true}
	foot := widget.NewLabel(after)
	foot.Wrapping = fyne.TextWrapWord
	body := container.NewBorder(head, foot, nil, nil, container.NewVScroll(msg))
	content := container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(theme.ErrorIcon())), nil, body)
	l.custom(title, "OK", content, fyne.NewSize(760, 420))
}

// fileErrorLine is one mistake as file:line:col: what is wrong, the file by its name.
func fileErrorLine(e *scenarios.FileError) string {
	short := *e
	short.File = filepath.Base(e.File)
	return short.Error()
}

// newSourceLabel is the line under the picker that names a scenario's file.
func newSourceLabel() *widget.Label {
	lbl := widget.NewLabel("")
	lbl.Wrapping = fyne.TextWrapWord
	lbl.SizeName = theme.SizeNameCaptionText
	lbl.Importance = widget.MediumImportance
	lbl.Hide()
	return lbl
}

// showSource names the file the scenario on screen was loaded from, under the picker, whose
// entry may be too narrow to show that it is a file; built-in scenarios have no such line.
func (l *lab) showSource() {
	if l.scenario == nil || l.scenario.Source == "" {
		l.sourceLbl.Hide()
		return
	}
	src := l.scenario.Source
	l.sourceLbl.SetText("From the file " + filepath.Base(src) + " in " + filepath.Dir(src) +
		"; saved changes are reloaded.")
	l.sourceLbl.Show()
}
