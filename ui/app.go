// Package ui is the Fyne desktop front end of MFE Lab. It renders state exposed by the
// scenarios and bus packages and holds no domain logic of its own.
package ui

import (
	"fmt"
	"image/png"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/software"

	"mfelab/assets"
	"mfelab/history"
	"mfelab/scenarios"
	"mfelab/session"
)

// AppID identifies the application to Fyne (preferences and storage live under it).
// It must match the ID in FyneApp.toml.
const AppID = "lab.mfe.mfelab"

// Options configure the app.
type Options struct {
	Version string
	// HistoryPath is the bbolt history file the app records runs to and browses.
	HistoryPath string
	// HistoryPathExplicit says the path came from a flag or the environment; otherwise
	// the file the user last opened is preferred.
	HistoryPathExplicit bool
	// Scenario opens this scenario (by ID, or a scenario file by its path) instead of the
	// one used last.
	Scenario string
	// Knobs set the opened scenario's knobs; the rest keep their defaults.
	Knobs scenarios.Values
	// Screenshot, when set, runs the scenario to its end, writes a PNG of the window to
	// this path and quits: the end-to-end check and the documentation's pictures.
	Screenshot string
	// CompareWith, with Screenshot, compares the finished run with this one and takes the
	// picture of the compare window instead: the documentation's picture of it.
	CompareWith *session.Side
	// Width and Height, when set, size the window instead of the size used last (and are
	// not remembered): the end-to-end check shoots the window at several sizes.
	Width, Height float32
	// Join, when its URL is set, joins the scenario's run to that NATS server with
	// Join.Apps served by other processes, as Run → Join a bus does.
	Join JoinOptions
	// Share, when set, is the host:port of a NATS server the window starts, as Run →
	// Share this bus does; the run joins it with Join.Apps served by other processes.
	Share string
}

// Run opens the main window and blocks until it is closed. It returns the process's exit
// code: 0, or 1 when a screenshot run could not write its picture or its checks failed.
func Run(opts Options) int {
	a := app.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.IconPNG))
	prefs := a.Preferences()
	applyTheme(a, prefs.StringWithFallback(prefTheme, themeSystem))
	w := a.NewWindow("MFE Lab " + opts.Version)
	if opts.Scenario == "" {
		opts.Scenario = prefs.String(prefScenario)
	}
	l := newLab(w, opts)
	l.watchScenarioFiles()
	w.SetCloseIntercept(func() {
		l.saveWindowSize()
		w.Close()
	})
	w.SetOnClosed(l.close)
	size := fyne.NewSize(float32(prefs.FloatWithFallback(prefWidth, 1440)), float32(prefs.FloatWithFallback(prefHeight, 900)))
	if opts.Width > 0 && opts.Height > 0 {
		size = fyne.NewSize(opts.Width, opts.Height)
	}
	w.Resize(size)
	w.Show()
	path := opts.HistoryPath
	if remembered := prefs.String(prefStorePath); remembered != "" && !opts.HistoryPathExplicit {
		path = remembered
	}
	if path != "" {
		l.openStore(path)
	}
	if err := l.joinFromOptions(opts.Share, opts.Join); err != nil && opts.Screenshot != "" {
		fmt.Fprintln(os.Stderr, "mfelab:", err)
		l.close()
		return 1
	}
	// A termination signal ends the app as Quit does: the run's record gets its end.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(stop)
	go func() {
		if _, ok := <-stop; ok {
			fyne.Do(l.quit)
		}
	}()
	code := 0
	if opts.Screenshot != "" {
		go func() {
			time.Sleep(1500 * time.Millisecond) // let the window map and draw once
			l.playJoined()                      // a joined run keeps to the wall clock: watch it to its end
			fyne.DoAndWait(func() {
				l.runToEnd()
				mid := l.pictureRow()
				l.selectArrow(mid)
				l.flow.reveal(mid)
				if opts.CompareWith != nil {
					l.compareWith(*opts.CompareWith)
				}
			})
			time.Sleep(700 * time.Millisecond)
			fyne.DoAndWait(func() {
				shot := l.win
				if opts.CompareWith != nil && l.compare != nil {
					shot = l.compare.win
				}
				if err := screenshot(shot, opts.Screenshot); err != nil {
					fmt.Fprintln(os.Stderr, "mfelab:", err)
					code = 1
				} else if !scenarios.Passed(l.ses.Checks()) {
					fmt.Fprintln(os.Stderr, "mfelab: the scenario's checks failed:\n"+scenarios.FormatChecks(l.ses.Checks()))
					code = 1
				}
				if err := l.ses.StopRecording(); err != nil {
					fmt.Fprintln(os.Stderr, "mfelab: the run was not fully recorded:", err)
					code = 1
				}
				w.Close()
			})
		}()
	}
	a.Run()
	// However the app ended (its window closed, Quit, a signal the driver took), the run
	// and its recording are closed: the loop is over, so nothing else touches them now.
	l.close()
	return code
}

// screenshot writes a PNG of window w's content. The content is drawn again on an
// offscreen canvas: reading back the GL window is unreliable under a virtual display.
func screenshot(w fyne.Window, path string) error {
	size := w.Canvas().Size()
	c := software.NewCanvas()
	c.SetPadded(false)
	c.SetContent(w.Content())
	c.Resize(size)
	img := c.Capture()
	_, err := history.WriteFileAtomic(path, func(w io.Writer) (int, error) { return 1, png.Encode(w, img) })
	if err != nil {
		return fmt.Errorf("screenshot %s: %w", path, err)
	}
	return nil
}
