package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// The lab's keyboard shortcuts: the transport, comparing, and quitting.
var (
	keyRun   = &desktop.CustomShortcut{KeyName: fyne.KeySpace, Modifier: fyne.KeyModifierControl}
	keyStep  = &desktop.CustomShortcut{KeyName: fyne.KeyRight, Modifier: fyne.KeyModifierControl}
	keyAct   = &desktop.CustomShortcut{KeyName: fyne.KeyDown, Modifier: fyne.KeyModifierControl}
	keyReset = &desktop.CustomShortcut{KeyName: fyne.KeyR, Modifier: fyne.KeyModifierControl}
	keyQuit  = &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierControl}
	// keyCompare: D for difference
	keyCompare = &desktop.CustomShortcut{KeyName: fyne.KeyD, Modifier: fyne.KeyModifierControl}
	keyOpen    = &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierControl}
)

// addShortcuts binds the transport (Ctrl+Space run/pause, Ctrl+Right step, Ctrl+Down next
// act, Ctrl+R reset), Ctrl+D compare, Ctrl+O open a scenario file and Ctrl+Q, and puts them in the window's menu with the other
// actions, where they can be found.
func (l *lab) addShortcuts() {
	c := l.win.Canvas()
	for _, b := range l.bindings() {
		fn := b.fn
		c.AddShortcut(b.key, func(fyne.Shortcut) { fn() })
	}
	quit := l.quit
	c.AddShortcut(keyQuit, func(fyne.Shortcut) { quit() })
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) { l.dialogKey(ev) })
	item := func(label string, key fyne.Shortcut, fn func()) *fyne.MenuItem {
		it := fyne.NewMenuItem(label, fn)
		it.Shortcut = key
		return it
	}
	l.win.SetMainMenu(fyne.NewMainMenu(
		fyne.NewMenu("File",
			item("Open scenario file…", keyOpen, l.chooseScenarioFile),
			fyne.NewMenuItemSeparator(),
			fyne.NewMenuItem("Open history file…", l.hist.chooseFile),
			fyne.NewMenuItem("Import log…", l.hist.chooseImport),
			fyne.NewMenuItem("Export the run…", l.showExport),
			fyne.NewMenuItemSeparator(),
			item("Quit", keyQuit, quit),
		),
		fyne.NewMenu("Run",
			item("Run / Pause", keyRun, l.toggleRun),
			item("Step one delivery", keyStep, l.step),
			item("Next act", keyAct, l.stepAct),
			item("Reset", keyReset, l.reset),
			fyne.NewMenuItemSeparator(),
			item("Compare with…", keyCompare, l.chooseCompare),
			fyne.NewMenuItemSeparator(),
			fyne.NewMenuItem("Share this bus…", l.chooseShare),
			fyne.NewMenuItem("Join a bus…", l.chooseJoin),
			fyne.NewMenuItem("Leave the bus", l.leaveBus),
		),
		fyne.NewMenu("Help",
			fyne.NewMenuItem("Guide", l.showGuide),
			fyne.NewMenuItem("How the diagram draws messages", func() {
				l.custom("How the diagram draws messages", "Close", flowLegend(), fyne.Size{})
			}),
			fyne.NewMenuItem("About MFE Lab", l.showAbout),
		),
	))
}

type binding struct {
	key fyne.Shortcut
	fn  func()
}

func (l *lab) bindings() []binding {
	return []binding{{keyRun, l.toggleRun}, {keyStep, l.step}, {keyAct, l.stepAct}, {keyReset, l.reset}, {keyCompare, l.chooseCompare}, {keyOpen, l.chooseScenarioFile}}
}

// transportKey runs the lab's action for shortcut s, if it is one, and reports whether it
// was: a text field passes these on, so they work wherever the focus is.
func (l *lab) transportKey(s fyne.Shortcut) bool {
	for _, b := range l.bindings() {
		if b.key.ShortcutName() == s.ShortcutName() {
			b.fn()
			return true
		}
	}
	return false
}

// showAbout names the version and where runs are recorded.
func (l *lab) showAbout() {
	file := "no history file is open"
	if l.store != nil {
		file = l.store.Path()
	}
	msg := widget.NewLabel("MFE Lab " + l.opts.Version + "\n\nA laboratory for event-driven communication between microfrontends.\n\nHistory file: " + file)
	msg.Wrapping = fyne.TextWrapWord
	l.custom("About MFE Lab", "Close", msg, fyne.NewSize(520, 240))
}

// labEntry is a text field that leaves the lab's transport shortcuts to the lab.
type labEntry struct {
	widget.Entry
	l *lab
}

func newLabEntry(l *lab) *labEntry {
	e := &labEntry{l: l}
	e.ExtendBaseWidget(e)
	return e
}

// TypedShortcut runs the lab's shortcuts and hands the rest to the entry.
func (e *labEntry) TypedShortcut(s fyne.Shortcut) {
	if e.l != nil && e.l.transportKey(s) {
		return
	}
	e.Entry.TypedShortcut(s)
}

// saveWindowSize remembers the window's size for the next start.
func (l *lab) saveWindowSize() {
	if l.prefs == nil || l.opts.Width > 0 { // a size given on the command line is not remembered
		return
	}
	size := l.win.Canvas().Size()
	l.prefs.SetFloat(prefWidth, float64(size.Width))
	l.prefs.SetFloat(prefHeight, float64(size.Height))
}

// quit ends the app as closing its window does: the size is kept, the run and its
// recording are closed, then the app stops.
func (l *lab) quit() {
	l.saveWindowSize()
	l.close()
	if a := fyne.CurrentApp(); a != nil {
		a.Quit()
	}
}
