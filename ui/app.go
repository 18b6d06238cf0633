// Package ui is the Fyne desktop front end of MFE Lab. It renders state exposed by the
// scenarios and bus packages and holds no domain logic of its own.
package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"mfelab/assets"
)

// AppID identifies the application to Fyne (preferences and storage live under it).
// It must match the ID in FyneApp.toml.
const AppID = "lab.mfe.mfelab"

// Options configure the app.
type Options struct {
	Version     string
	HistoryPath string // the bbolt history file the app records to and browses
}

// Run opens the main window and blocks until it is closed.
func Run(opts Options) {
	a := app.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.IconPNG))
	w := a.NewWindow("MFE Lab")
	w.SetContent(newWelcome(opts.Version))
	w.Resize(fyne.NewSize(1100, 720))
	w.ShowAndRun()
}

// newWelcome is the start screen: what the lab is for and what it will show.
func newWelcome(version string) fyne.CanvasObject {
	title := widget.NewLabelWithStyle("MFE Lab "+version, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	// Centred content gets its minimum size, so these labels must not wrap: a wrapping
	// label's minimum width is one word.
	intro := widget.NewLabelWithStyle("Simulated microfrontends on one shared in-process bus.\n"+
		"Pick a scenario, inject a failure, step through it message by message.",
		fyne.TextAlignCenter, fyne.TextStyle{})
	return container.NewCenter(container.NewVBox(title, intro))
}
