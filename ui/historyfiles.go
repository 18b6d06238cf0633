package ui

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"

	"mfelab/history"
	"mfelab/scenarios"
)

// chooseFile opens another history file in place of the current one.
func (h *historyView) chooseFile() {
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil || rc == nil {
			return
		}
		path := rc.URI().Path()
		rc.Close()
		h.l.openStore(path)
	}, h.l.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".db", ".bolt"}))
	h.l.show(d, nil)
}

// chooseImport reads an exported log (NDJSON or CloudEvents), keeps it as a run of its own
// in the history file, and opens it paused at its first message.
func (h *historyView) chooseImport() {
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil || rc == nil {
			return
		}
		defer rc.Close()
		h.importFrom(rc.URI().Name(), rc) // streamed: a huge file costs what its longest line does
	}, h.l.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".ndjson", ".json", ".jsonl"}))
	h.l.show(d, nil)
}

// importData loads an exported log named name from memory.
func (h *historyView) importData(name string, data []byte) { h.importFrom(name, bytes.NewReader(data)) }

// importFrom loads an exported log named name, read from r.
func (h *historyView) importFrom(name string, r io.Reader) {
	res, err := history.ReadFrom(name, r)
	if err != nil {
		h.l.showError("Cannot import "+name, fmt.Errorf("%w; export a log with mfelab run -export or the Export button, as NDJSON or CloudEvents", err))
		return
	}
	if st := h.l.store; st != nil {
		info, v, err := st.NewRun(history.RunInfo{Scenario: scenarios.ReplayID, Title: "Import of " + name,
			Origin: "imported " + name, Outcome: history.OutcomeImported})
		if err == nil {
			err = v.Append(res.Envelopes...)
			if cerr := v.Close(); err == nil {
				err = cerr
			}
			info.Messages = uint64(len(res.Envelopes))
			info.Ended = time.Now().UTC()
			if uerr := st.UpdateRun(info); err == nil {
				err = uerr
			}
		}
		if err != nil {
			h.l.showError("The import is shown but was not stored", err)
		} else {
			h.ns = info.ID
			h.reloadRuns()
			h.runs.SetSelected(runLabel(info))
		}
	}
	h.l.openReplay(res.Envelopes, 1, "imported "+name+" · ")
	if len(res.Errors) > 0 {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%d message(s) loaded; %d line(s) were skipped:\n", len(res.Envelopes), len(res.Errors))
		for i, e := range res.Errors {
			if i == 10 {
				fmt.Fprintf(&sb, "… and %d more", len(res.Errors)-10)
				break
			}
			sb.WriteString(e.Error() + "\n")
		}
		h.l.info("Some lines of "+name+" were skipped", sb.String())
	}
}

// openStore opens the history file at path in place of the current one. On failure the
// current one stays open and a dialog says why and what to do.
func (l *lab) openStore(path string) {
	if l.store != nil && l.store.Path() == path {
		return
	}
	st, err := history.Open(path, history.Options{})
	if err != nil {
		l.showError("Cannot open the history file", fmt.Errorf("%w\n\nRuns go on; they are recorded only while a history file is open", err))
		return
	}
	if st.Recovered != "" {
		l.info("The history file was unreadable",
			fmt.Sprintf("%s could not be read, so it was moved to\n%s\nand a new, empty file was started. Nothing was deleted.", path, st.Recovered))
	}
	if l.ses != nil {
		if err := l.ses.StopRecording(); err != nil {
			l.showError("The last run was not fully recorded", err)
		}
	}
	if l.store != nil {
		l.store.Close()
	}
	l.store = st
	if err := st.ShareSnapshots(); err != nil { // so that mfelab runs and export can read it meanwhile
		slog.Debug("the history file is not shared with other processes", "error", err)
	}
	if l.prefs != nil {
		l.prefs.SetString(prefStorePath, path)
	}
	l.hist.reloadRuns()
	l.refresh() // the status line says whether runs are recorded
}
