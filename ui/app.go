// Package ui is the Fyne desktop front end of MFE Lab. It renders state exposed by the
// scenarios and bus packages and holds no domain logic of its own.
package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

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
	w := a.NewWindow("MFE Lab " + opts.Version)
	l := newLab(w, opts)
	w.SetOnClosed(l.close)
	w.Resize(fyne.NewSize(1360, 860))
	w.ShowAndRun()
}
