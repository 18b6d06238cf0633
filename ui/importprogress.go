package ui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mfelab/history"
	"mfelab/scenarios"
	"mfelab/session"
)

// importJob is the import of an exported log, run off the UI goroutine so that the
// window stays responsive through a log of millions of lines: a dialog shows how far it
// has got, with a bar and a count, and Cancel stops it, leaving the window as it was.
// The job reads the log packed (history.ReadLog), stores it in the history file as a run
// of its own, prepares its replay, and only then, on the UI goroutine, shows it.
type importJob struct {
	h      *historyView
	name   string
	size   int64 // bytes to read; 0 when not known
	cancel context.CancelFunc
	done   chan struct{}

	// widgets of the dialog, changed on the UI goroutine only
	dlg   dialog.Dialog
	what  *widget.Label
	bar   *widget.ProgressBar
	stopB *widget.Button

	shown time.Time // when the worker last had the dialog updated
}

// storeBatch is how many messages an import hands the history file at a time, between
// two looks at whether it was cancelled.
const storeBatch = 4096

// progressEvery is the least time between two updates of the dialog: each repaints the
// window, which with software rendering can take tens of milliseconds.
const progressEvery = 250 * time.Millisecond

// startImport starts importing the log named name from r (size bytes, 0 when not
// known), closing r when done with it, and returns the job; nil when another import is
// running, which is said in a dialog.
func (h *historyView) startImport(name string, r io.ReadCloser, size int64) *importJob {
	if h.importing != nil {
		r.Close()
		h.l.info("An import is running", "Wait for the import of "+h.importing.name+" to end, or cancel it, before importing another log.")
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	j := &importJob{h: h, name: name, size: size, cancel: cancel, done: make(chan struct{})}
	j.what = widget.NewLabel("Reading " + name + "…")
	j.what.Wrapping = fyne.TextWrapWord // the dialog keeps its width as the text changes
	j.bar = widget.NewProgressBar()
	j.stopB = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), j.stop)
	content := container.NewVBox(j.what, j.bar, container.NewHBox(layout.NewSpacer(), j.stopB))
	j.dlg = dialog.NewCustomWithoutButtons("Importing "+name, content, h.l.win)
	j.dlg.Resize(fyne.NewSize(560, 180))
	h.importing = j
	h.l.show(j.dlg, func() {}) // Enter does nothing; Esc closes it, which cancels
	j.dlg.SetOnClosed(cancel)
	go j.run(ctx, r, h.l.store)
	return j
}

// stop cancels the import; the dialog closes once the work has stopped.
func (j *importJob) stop() {
	j.cancel()
	j.stopB.Disable()
	j.what.SetText("Stopping…")
}

// wait returns once the import has ended and the window shows its outcome.
func (j *importJob) wait() { <-j.done }

// report shows the progress of a step (at most every progressEvery): its text, and the
// part of it done, from 0 to 1 (below 0: not known). It runs on the worker.
func (j *importJob) report(text string, part float64) {
	if now := time.Now(); now.Sub(j.shown) >= progressEvery {
		j.shown = now
		fyne.Do(func() {
			if j.stopB.Disabled() {
				return // stopping: say so until it has
			}
			j.what.SetText(text)
			if part >= 0 {
				j.bar.SetValue(part)
			}
		})
	}
}

// finish ends the job on the UI goroutine: the dialog closes, then show runs.
func (j *importJob) finish(show func()) {
	fyne.DoAndWait(func() {
		j.dlg.Hide()
		j.h.importing = nil
		if show != nil {
			show()
		}
	})
	close(j.done)
}

// run is the worker: read, prepare the replay, store, then show.
func (j *importJob) run(ctx context.Context, r io.ReadCloser, st *history.Store) {
	defer j.cancel()
	log, err := history.ReadLog(ctx, j.name, r, func(p history.Progress) {
		part := -1.0
		if j.size > 0 {
			part = float64(p.Bytes) / float64(j.size)
		}
		j.report(fmt.Sprintf("Reading %s: %s messages so far (line %s)", j.name, thousands(p.Messages), thousands(p.Line)), part)
	})
	r.Close()
	if ctx.Err() != nil {
		j.finish(nil) // cancelled: nothing changed
		return
	}
	if err != nil {
		j.finish(func() {
			j.h.l.showError("Cannot import "+j.name, fmt.Errorf("%w; export a log with mfelab run -export or the Export button, as NDJSON or CloudEvents", err))
		})
		return
	}
	j.report(fmt.Sprintf("Preparing the replay of %s messages…", thousands(log.Len())), 1)
	ses, err := session.ReplayFrom(log, 1, "imported "+j.name+" · ")
	if err != nil {
		j.finish(func() { j.h.l.showError("Cannot replay the log", err) })
		return
	}
	var info history.RunInfo
	var storeErr error
	if st != nil {
		info, storeErr = j.store(ctx, st, log)
	}
	if ctx.Err() != nil {
		ses.Close()
		j.finish(func() {
			if storeErr != nil {
				j.h.l.showError("The cancelled import was not removed from the history file", storeErr)
			}
			j.h.reloadRuns()
		})
		return
	}
	j.finish(func() { j.show(ses, log, st, info, storeErr) })
}

// store keeps the log in st as a run of its own, a batch at a time; a cancelled import
// removes what it stored, so Cancel leaves the history file as it was.
func (j *importJob) store(ctx context.Context, st *history.Store, log *history.Log) (history.RunInfo, error) {
	info, v, err := st.NewRun(history.RunInfo{Scenario: scenarios.ReplayID, Title: "Import of " + j.name,
		Origin: "imported " + j.name, Outcome: history.OutcomeImported})
	if err != nil {
		return info, err
	}
	n, stored := log.Len(), 0
	for stored < n && err == nil && ctx.Err() == nil {
		to := min(stored+storeBatch, n)
		err = v.Append(log.Envelopes(stored, to)...)
		stored = to
		j.report(fmt.Sprintf("Storing %s in the history file: %s of %s messages", j.name, thousands(stored), thousands(n)), float64(stored)/float64(n))
	}
	if cerr := v.Close(); err == nil {
		err = cerr
	}
	info.Messages = uint64(stored)
	info.Ended = time.Now().UTC()
	if ctx.Err() != nil {
		if derr := st.DeleteRun(info.ID); err == nil {
			err = derr
		}
		return info, err
	}
	if uerr := st.UpdateRun(info); err == nil {
		err = uerr
	}
	return info, err
}

// show opens the imported log paused at its first message, on the UI goroutine.
func (j *importJob) show(ses *session.Session, log *history.Log, st *history.Store, info history.RunInfo, storeErr error) {
	h := j.h
	if storeErr != nil {
		h.l.showError("The import is shown but was not stored", storeErr)
	} else if st != nil && st == h.l.store {
		h.ns = info.ID
		h.reloadRuns()
		h.runs.SetSelected(runLabel(info))
	}
	h.l.adopt(ses)
	if errs := log.Errors(); len(errs) > 0 {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%d message(s) loaded; %d line(s) were skipped:\n", log.Len(), len(errs))
		for i, e := range errs {
			if i == 10 {
				fmt.Fprintf(&sb, "… and %d more", len(errs)-10)
				break
			}
			sb.WriteString(e.Error() + "\n")
		}
		h.l.info("Some lines of "+j.name+" were skipped", sb.String())
	}
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
