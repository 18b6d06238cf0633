package ui

import (
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/software"
	"fyne.io/fyne/v2/widget"

	"mfelab/history"
	"mfelab/session"
)

// The export dialog's choices that only the run on screen has: a picture of its diagram,
// and a Go test that runs it again and expects the same flow.
const (
	pngFormat    = "png"
	goTestFormat = "gotest"
)

// maxPNGRows bounds a diagram picture (26 px a row): past it the file gets unwieldy.
const maxPNGRows = 400

// exportChoices are the export dialog's formats with the file extension each gets;
// onScreen ones are offered for the run on screen only.
var exportChoices = []struct {
	label, format, ext string
	onScreen           bool
}{
	{"NDJSON (lossless, re-importable)", string(history.NDJSON), ".ndjson", false},
	{"CloudEvents 1.0 JSON batch", string(history.CloudEvents), ".json", false},
	{"CSV", string(history.CSV), ".csv", false},
	{"Mermaid sequence diagram", string(history.Mermaid), ".mmd", false},
	{"PNG picture of the flow diagram", pngFormat, ".png", true},
	{"Go test (regression test of this run)", goTestFormat, "_test.go", true},
}

// showExport exports the run on screen.
func (l *lab) showExport() {
	if l.ses == nil {
		return
	}
	if l.ses.Trace().Messages() == 0 {
		l.info("Nothing to export yet", "This run has no messages yet: step or run the scenario first.")
		return
	}
	r := l.ses.Run()
	name := r.Scenario.ID
	if !l.ses.IsReplay() {
		name = fmt.Sprintf("%s-seed%d", name, r.Seed)
	}
	l.chooseExport(name, true, l.exportRun)
}

// exportRun writes the run on screen to path: its log in format f, a picture of the
// diagram for "png", or a Go test of its flow for "gotest".
func (l *lab) exportRun(path string, f history.Format) (int, error) {
	switch f {
	case pngFormat:
		return l.exportPNG(path)
	case goTestFormat:
		if err := l.ses.ExportGoTest(path, ""); err != nil {
			return 0, err
		}
		return l.ses.Trace().Diagram().Len(), nil
	}
	return l.ses.Export(path, f)
}

// chooseExport asks for a format, then a file, then writes it with write and reports how
// many messages went out. onScreen offers what only the run on screen has as well.
func (l *lab) chooseExport(name string, onScreen bool, write func(path string, f history.Format) (int, error)) {
	var labels []string
	for _, c := range exportChoices {
		if !c.onScreen || onScreen {
			labels = append(labels, c.label)
		}
	}
	choice := widget.NewRadioGroup(labels, nil)
	choice.SetSelected(labels[0])
	d := dialog.NewCustomConfirm("Export", "Choose a file…", "Cancel", choice, func(ok bool) {
		if !ok {
			return
		}
		for _, c := range exportChoices {
			if c.label != choice.Selected {
				continue
			}
			if c.format == goTestFormat && !l.canWriteGoTest() {
				return
			}
			save := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
				if err != nil {
					l.showError("Cannot export", err)
					return
				}
				if wc == nil {
					return // cancelled
				}
				path := wc.URI().Path()
				wc.Close() // written again atomically, by path
				n, err := write(path, history.Format(c.format))
				if err == nil && n == 0 {
					os.Remove(path) // at most a CSV header: not worth a file
					err = errors.New("the run has no messages")
				}
				if err != nil {
					removeIfEmpty(path) // the file dialog made it; leave no empty file behind
					l.showError("Export failed", fmt.Errorf("%w; nothing was written to %s", err, path))
					return
				}
				what := plural(n, "message")
				switch c.format {
				case pngFormat:
					what = "a picture of " + plural(n, "arrow")
				case string(history.Mermaid):
					what = "a diagram of " + plural(n, "arrow")
				case goTestFormat:
					what = "a Go test that expects this run's checks and its " + plural(n, "arrow")
				}
				l.info("Exported", fmt.Sprintf("Wrote %s to\n%s", what, path))
			}, l.win)
			save.SetFileName(name + c.ext)
			save.Resize(fileDialogSize)
			l.show(save, nil)
		}
	}, l.win)
	l.show(d, d.Confirm)
}

// canWriteGoTest says, before a file is chosen, why no Go test can be written of the run
// on screen (a replay, a run changed by hand, one not over or not whole in memory), and
// reports whether one can.
func (l *lab) canWriteGoTest() bool {
	if err := session.WriteGoTest(io.Discard, l.ses, "labtest"); err != nil {
		l.showError("No Go test of this run", err)
		return false
	}
	return true
}

// exportPNG draws the whole diagram, or when it is longer than maxPNGRows that many rows
// from the top of the view, on an offscreen canvas and writes it as a PNG. The GL window cannot be captured
// reliably (under a virtual display it reads back black), so the picture is drawn apart.
func (l *lab) exportPNG(path string) (int, error) {
	d := l.ses.Trace().Diagram()
	from := 0
	if d.Len() > maxPNGRows {
		from = l.flow.top
	}
	rows := min(d.Len()-from, maxPNGRows)
	if rows <= 0 {
		return 0, fmt.Errorf("the diagram is empty: step or run the scenario first")
	}
	v := newFlowView(d)
	v.follow = false
	v.top = from // and no row highlighted: the selection is the window's, not the picture's
	width := max(l.flow.Size().Width, v.MinSize().Width, 900)
	c := software.NewCanvas()
	c.SetPadded(false)
	c.SetContent(v)
	c.Resize(fyne.NewSize(width, flowHeader+float32(rows)*flowRow+4))
	img := c.Capture()
	_, err := history.WriteFileAtomic(path, func(w io.Writer) (int, error) {
		return rows, png.Encode(w, img)
	})
	if err != nil {
		return 0, err
	}
	return rows, nil
}

// removeIfEmpty removes the file at path when it holds nothing.
func removeIfEmpty(path string) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		os.Remove(path)
	}
}

// plural renders "1 arrow", "2 arrows".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
