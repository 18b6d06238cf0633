package ui

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"

	"mfelab/history"
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
	d.Resize(fileDialogSize)
	h.l.show(d, nil)
}

// chooseImport reads an exported log (NDJSON or CloudEvents), keeps it as a run of its own
// in the history file, and opens it paused at its first message. The import runs off
// the UI goroutine, with a dialog that shows its progress and can cancel it.
func (h *historyView) chooseImport() {
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil || rc == nil {
			return
		}
		var size int64
		if info, err := os.Stat(rc.URI().Path()); err == nil {
			size = info.Size()
		}
		h.startImport(rc.URI().Name(), rc, size) // streamed: a huge file costs what its packed messages do
	}, h.l.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".ndjson", ".json", ".jsonl"}))
	d.Resize(fileDialogSize)
	h.l.show(d, nil)
}

// importData imports an exported log named name from memory, and returns once the
// window shows the outcome.
func (h *historyView) importData(name string, data []byte) {
	if j := h.startImport(name, io.NopCloser(bytes.NewReader(data)), int64(len(data))); j != nil {
		j.wait()
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
