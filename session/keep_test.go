package session

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"mfelab/history"
	"mfelab/scenarios"
)

// A run that keeps only its newest messages in memory shows every event and every arrow
// as a run that keeps them all: the old ones are read back from its recording.
func TestARunKeepingOnlyItsNewestMessagesReadsTheRestBack(t *testing.T) {
	s, _ := scenarios.Get("load")
	knobs := scenarios.Values{"apps": "4", "rate": "2000", "duration": "5s", "limit": "1500"}
	whole, err := Start(s, 3, knobs)
	if err != nil {
		t.Fatal(err)
	}
	whole.RunToEnd()

	st := openStore(t)
	kept, err := Start(s, 3, knobs)
	if err != nil {
		t.Fatal(err)
	}
	kept.Trace().SetKeep(1)
	if _, err := kept.Record(st); err != nil {
		t.Fatal(err)
	}
	kept.RunToEnd()
	if err := kept.FlushRecording(); err != nil {
		t.Fatal(err)
	}
	wt, kt := whole.Trace(), kept.Trace()
	if kt.Held() == 0 || kt.Complete() {
		t.Fatal("the run kept everything in memory")
	}
	if wt.Len() != kt.Len() {
		t.Fatalf("%d events against %d", kt.Len(), wt.Len())
	}
	for _, i := range []int{0, 1, pageLen - 1, pageLen, kt.Held() - 1, kt.Held(), kt.Len() - 1} {
		if got, want := kt.Format(i), wt.Format(i); got != want {
			t.Fatalf("event %d:\n got  %s\n want %s", i, got, want)
		}
	}
	wd, kd := wt.Diagram(), kt.Diagram()
	if wd.Len() != kd.Len() {
		t.Fatalf("%d arrows against %d", kd.Len(), wd.Len())
	}
	for from := 0; from < wd.Len(); from += 997 {
		w, k := wd.Arrows(from, from+40), kd.Arrows(from, from+40)
		if fmt.Sprint(w) != fmt.Sprint(k) {
			t.Fatalf("arrows from %d differ:\n got  %v\n want %v", from, k, w)
		}
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "whole.ndjson"), filepath.Join(dir, "kept.ndjson")
	if _, err := whole.Export(a, history.NDJSON); err != nil {
		t.Fatal(err)
	}
	if _, err := kept.Export(b, history.NDJSON); err != nil {
		t.Fatal(err)
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if len(da) == 0 || string(da) != string(db) {
		t.Fatalf("the export of the run that let go differs (%d against %d bytes)", len(db), len(da))
	}
	kept.Close()
}

// Without a recording, what was let go is shown as let go, and the export refuses
// rather than write part of the run.
func TestARunNotRecordedSaysWhatItLetGo(t *testing.T) {
	s, _ := scenarios.Get("load")
	ses, _ := Start(s, 3, scenarios.Values{"apps": "4", "rate": "2000", "duration": "5s"})
	ses.Trace().SetKeep(1)
	ses.RunToEnd()
	tr := ses.Trace()
	if tr.Held() == 0 {
		t.Fatal("nothing was let go")
	}
	if e := tr.Event(0); e.Kind != Gone {
		t.Fatalf("event 0 is %v", e.Kind)
	}
	if a := tr.Diagram().Arrow(0); a.Topic != "(let go from memory)" {
		t.Fatalf("arrow 0: %+v", a)
	}
	if _, err := ses.Export(filepath.Join(t.TempDir(), "x"), history.NDJSON); err == nil {
		t.Fatal("a run that let go of events and was not recorded exported")
	}
	if got := tr.Format(tr.Len() - 1); got == FormatEvent(tr.Event(0), tr.Epoch()) {
		t.Fatal("the newest event reads as let go")
	}
}
