//go:build !nogui

package main

import (
	"fmt"
	"io"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"mfelab/assets"
	"mfelab/ui"
)

// openWindow opens the desktop app and returns its exit code when it closes.
func openWindow(o windowOptions, stderr io.Writer) int {
	m, err := readMetadata()
	if err != nil {
		fmt.Fprintf(stderr, "mfelab: %v\n", err)
		return exitFail
	}
	// Fyne fills its metadata from FyneApp.toml only in a build by the fyne tool; a plain
	// go build gets the same values here, so About and the window agree either way.
	app.SetMetadata(fyne.AppMetadata{
		ID:         m.Details.ID,
		Name:       m.Details.Name,
		Version:    m.Details.Version,
		Build:      m.Details.Build,
		Icon:       fyne.NewStaticResource("icon.png", assets.IconPNG),
		Release:    releaseBuild,
		Migrations: m.Migrations,
	})
	return ui.Run(ui.Options{Version: m.Details.Version, HistoryPath: o.historyPath, HistoryPathExplicit: o.historyExplicit,
		Scenario: o.scenario, Knobs: o.knobs, Screenshot: o.screenshot, CompareWith: o.compareWith, Width: o.width, Height: o.height,
		Join: ui.JoinOptions(o.join), Share: o.share})
}
