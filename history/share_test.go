package history

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A file open for writing here can be read by another handle, as `mfelab runs` reads
// the window's file: the read-only open finds it locked and reads the copy its owner
// sends, which holds every run written so far; closing the copy removes it.
func TestAFileOpenForWritingIsReadThroughItsSnapshot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	run, _, err := w.NewRun(RunInfo{Scenario: "checkout", Seed: 42, Started: time.Unix(1, 0)})
	if err != nil {
		t.Fatal(err)
	}

	// not shared: the lock stops the reader, with an error that says why
	_, err = Open(path, Options{ReadOnly: true, OpenTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("a locked, unshared file: %v", err)
	}

	if err := w.ShareSnapshots(); err != nil {
		t.Fatal(err)
	}
	if err := w.ShareSnapshots(); err == nil {
		t.Fatal("the file was shared twice")
	}
	r, err := Open(path, Options{ReadOnly: true, OpenTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("reading a shared file: %v", err)
	}
	if r.Path() != path {
		t.Fatalf("the copy calls itself %s", r.Path())
	}
	runs, err := r.Runs()
	if err != nil || len(runs) != 1 || runs[0].ID != run.ID {
		t.Fatalf("runs %+v, %v", runs, err)
	}
	snap := r.snapshot
	if _, err := os.Stat(snap); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(snap); !os.IsNotExist(err) {
		t.Fatalf("the copy stays after Close: %v", err)
	}

	// closing the writer ends the sharing, and the file is free again
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(snapshotSocket(path)); !os.IsNotExist(err) {
		t.Fatalf("the socket stays: %v", err)
	}
	r, err = Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.snapshot != "" {
		t.Fatal("a free file was read through a copy")
	}
	r.Close()
}

// A socket left by a process that ended without closing does not stop the next one
// from sharing the file.
func TestAStaleSocketIsReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	sock := snapshotSocket(path)
	if err := os.WriteFile(sock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.ShareSnapshots(); err != nil {
		t.Fatal(err)
	}
}
