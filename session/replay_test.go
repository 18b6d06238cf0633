package session

import (
	"context"
	"path/filepath"
	"testing"

	"mfelab/history"
	"mfelab/scenarios"
)

// A log replayed from its packed form, line by line as it runs, prints what a replay of
// its envelopes prints once run, line for line, while the trace lets its oldest events go.
func TestAPackedLogReplaysLineForLineAsItsEnvelopes(t *testing.T) {
	files, _ := filepath.Glob("../scenarios/testdata/*.ndjson")
	files = append(files, loadLog(t, 16_000))
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			res, err := history.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			whole, err := Replay(res.Envelopes, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			whole.RunToEnd()
			want := whole.Trace().Lines()

			log, err := history.ReadLogFile(context.Background(), file, nil)
			if err != nil {
				t.Fatal(err)
			}
			packed, err := ReplayFrom(log, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			packed.RunToEndLines(func(line string) { got = append(got, line) })
			if i := firstDifference(got, want); i >= 0 {
				t.Fatalf("line %d of %d (of %d wanted) differs:\n got %q\nwant %q", i+1, len(got), len(want), at(got, i), at(want, i))
			}
			if a, b := scenarios.FormatSnapshots(packed.Run().World.Snapshots()), scenarios.FormatSnapshots(whole.Run().World.Snapshots()); a != b || packed.Trace().Messages() != whole.Trace().Messages() {
				t.Fatal("the rebuilt state differs")
			}
			if n := packed.Trace().Messages(); n > 2*minKeep && packed.Trace().Held() == 0 {
				t.Fatalf("after %d messages the trace still holds every event", n)
			}
		})
	}
}

func firstDifference(a, b []string) int {
	for i := range max(len(a), len(b)) {
		if at(a, i) != at(b, i) || i >= len(a) || i >= len(b) {
			return i
		}
	}
	return -1
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}
