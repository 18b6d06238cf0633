package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// addShortcuts binds the transport: Ctrl+Space run/pause, Ctrl+Right step, Ctrl+Down next
// act, Ctrl+R reset.
func (l *lab) addShortcuts() {
	c := l.win.Canvas()
	bind := func(key fyne.KeyName, fn func()) {
		c.AddShortcut(&desktop.CustomShortcut{KeyName: key, Modifier: fyne.KeyModifierControl}, func(fyne.Shortcut) { fn() })
	}
	bind(fyne.KeySpace, l.toggleRun)
	bind(fyne.KeyRight, l.step)
	bind(fyne.KeyDown, l.stepAct)
	bind(fyne.KeyR, l.reset)
}
