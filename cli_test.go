package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mfelab/history"
	"mfelab/scenarios"
)

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLIExitCodesAndErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"list names every scenario", []string{"list"}, exitOK, "checkout-orchestrated"},
		{"a passing run exits 0", []string{"run", "rpc-pricing", "-quiet"}, exitOK, "[ok]"},
		{"flags may come first", []string{"run", "-seed", "3", "-quiet", "circuit-breaker"}, exitOK, "seed 3"},
		{"an unknown scenario lists the valid ones", []string{"run", "nope"}, exitUsage, "the scenarios are: checkout-orchestrated"},
		{"an unknown knob lists the knobs", []string{"run", "rpc-pricing", "-set", "speed=2"}, exitUsage, "its knobs: latency"},
		{"a bad knob value says what is allowed", []string{"run", "load", "-set", "apps=99"}, exitUsage, "want 1 to 8"},
		{"a malformed -set is refused", []string{"run", "load", "-set", "apps"}, exitUsage, "want knob=value"},
		{"an unknown format is refused", []string{"run", "load", "-format", "xml", "-export", "x"}, exitUsage, "format"},
		{"an unknown command shows the usage", []string{"frobnicate"}, exitUsage, "usage:"},
		{"replay of a missing file fails", []string{"replay", "/nonexistent/log.ndjson"}, exitFail, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.contains) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant it to contain %q", code, tt.code, out, errOut, tt.contains)
			}
		})
	}
}

func TestRunPrintsTraceStateAndChecks(t *testing.T) {
	code, out, _ := runCLI(t, "", "run", "checkout-orchestrated", "-set", "fail=charge")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{"published        inventory.reserve              cart", "State\n", "order order-1          cancelled", "Outcome checks", "[ok]   compensations ran newest first: reserve"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestStepModeReadsOneLinePerEvent(t *testing.T) {
	code, out, _ := runCLI(t, "\n\nc\n", "run", "rpc-pricing", "-step")
	if code != exitOK || strings.Count(out, "-- Enter: next event") != 3 {
		t.Fatalf("exit %d, prompts %d:\n%s", code, strings.Count(out, "-- Enter"), out)
	}
}

func TestExportEveryFormatAndReplay(t *testing.T) {
	dir := t.TempDir()
	for _, f := range history.Formats {
		t.Run(string(f), func(t *testing.T) {
			path := filepath.Join(dir, "log."+string(f))
			code, out, errOut := runCLI(t, "", "run", "checkout-choreographed", "-quiet", "-export", path, "-format", string(f))
			if code != exitOK {
				t.Fatalf("exit %d: %s %s", code, out, errOut)
			}
			data, err := os.ReadFile(path)
			if err != nil || len(data) == 0 {
				t.Fatalf("export: %v, %d bytes", err, len(data))
			}
			if f == history.Mermaid && !strings.Contains(string(data), "sequenceDiagram") {
				t.Fatalf("mermaid export:\n%s", data)
			}
			if f != history.NDJSON && f != history.CloudEvents {
				return
			}
			code, out, errOut = runCLI(t, "", "replay", path)
			if code != exitOK || !strings.Contains(out, "Rebuilt state") || !strings.Contains(out, "Replayed 7 messages") {
				t.Fatalf("replay exit %d:\n%s\n%s", code, out, errOut)
			}
		})
	}
}

func TestReplayReportsBadLinesAndKeepsTheGoodOnes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.ndjson")
	if code, _, errOut := runCLI(t, "", "run", "rpc-pricing", "-quiet", "-export", good); code != exitOK {
		t.Fatal(errOut)
	}
	data, _ := os.ReadFile(good)
	lines := strings.SplitAfter(string(data), "\n")
	mixed := filepath.Join(dir, "mixed.ndjson")
	_ = os.WriteFile(mixed, []byte(lines[0]+"{not json\n"+strings.Join(lines[1:], "")), 0o644)
	code, out, errOut := runCLI(t, "", "replay", "-quiet", mixed)
	if code != exitOK || !strings.Contains(errOut, "line 2") || !strings.Contains(out, "1 line skipped") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	junk := filepath.Join(dir, "junk.ndjson")
	_ = os.WriteFile(junk, []byte("nothing useful\n"), 0o644)
	if code, _, errOut := runCLI(t, "", "replay", junk); code != exitFail || !strings.Contains(errOut, "no message could be read") {
		t.Fatalf("junk replay exit %d: %s", code, errOut)
	}
}

func TestExportFromTheHistoryStore(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "h.db")
	st, err := history.Open(dbPath, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// a file written before runs had records: its namespace is still listed and exported
	s, _ := scenarios.Get("rpc-pricing")
	r, _ := scenarios.Start(s, 1, nil)
	if err := st.Attach(r.Bus); err != nil {
		t.Fatal(err)
	}
	r.RunToEnd()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.csv")
	code, stdout, errOut := runCLI(t, "", "export", "-history", dbPath, "-pattern", "pricing.#", "-format", "csv", "-o", out)
	if code != exitOK || !strings.Contains(stdout, "exported 6 messages") {
		t.Fatalf("exit %d: %s %s", code, stdout, errOut)
	}
	if code, _, errOut := runCLI(t, "", "export", "-history", dbPath, "-pattern", "a..b", "-o", out); code != exitUsage || !strings.Contains(errOut, "invalid") {
		t.Fatalf("bad pattern: exit %d %s", code, errOut)
	}
}

// A run recorded from the command line is listed by runs and exported by id or as the
// latest, with the same messages the run printed.
func TestRecordListAndExportRuns(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	for _, args := range [][]string{
		{"run", "rpc-pricing", "-quiet", "-record", "-history", db},
		{"run", "checkout-orchestrated", "-quiet", "-set", "fail=ship", "-seed", "7", "-record", "-history", db},
	} {
		if code, out, errOut := runCLI(t, "", args...); code != exitOK || !strings.Contains(out, "recorded as run-") {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	code, out, errOut := runCLI(t, "", "runs", "-history", db)
	if code != exitOK {
		t.Fatalf("runs: exit %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "run-000002") || !strings.Contains(lines[1], "checkout-orchestrated") ||
		!strings.Contains(lines[1], "fail=ship") || !strings.Contains(lines[1], "passed") || !strings.HasPrefix(lines[2], "run-000001") {
		t.Fatalf("runs, newest first:\n%s", out)
	}
	direct := filepath.Join(dir, "direct.ndjson")
	if code, _, errOut := runCLI(t, "", "run", "checkout-orchestrated", "-quiet", "-set", "fail=ship", "-seed", "7", "-export", direct); code != exitOK {
		t.Fatal(errOut)
	}
	for _, run := range []string{"latest", "run-000002"} {
		got := filepath.Join(dir, run+".ndjson")
		if code, out, errOut := runCLI(t, "", "export", "-history", db, "-run", run, "-o", got); code != exitOK || !strings.Contains(out, "of run-000002") {
			t.Fatalf("export -run %s: exit %d %s %s", run, code, out, errOut)
		}
		a, _ := os.ReadFile(direct)
		b, _ := os.ReadFile(got)
		if len(a) == 0 || string(a) != string(b) {
			t.Fatalf("export -run %s differs from the run's own export (%d against %d bytes)", run, len(b), len(a))
		}
	}
	if code, _, errOut := runCLI(t, "", "export", "-history", db, "-run", "run-000009", "-o", filepath.Join(dir, "x")); code != exitFail ||
		!strings.Contains(errOut, "no such run") || !strings.Contains(errOut, "run-000002") {
		t.Fatalf("unknown run: exit %d %s", code, errOut)
	}
}

func TestQuietPrintsNoBlankLinesAndSeedsSayWhatTheyAre(t *testing.T) {
	_, out, _ := runCLI(t, "", "run", "rpc-pricing", "-quiet")
	if strings.Contains(out, "\n\n\n") || strings.Count(out, "\n\n") > 1 {
		t.Fatalf("-quiet output has blank lines:\n%q", out)
	}
	code, _, errOut := runCLI(t, "", "run", "rpc-pricing", "-seed", "-1")
	if code != exitUsage || !strings.Contains(errOut, "want a whole number from 0 to") {
		t.Fatalf("-seed -1: exit %d %s", code, errOut)
	}
}

// While the window has the history file open (and so locked), runs and export read the
// copy it shares, with every run recorded so far.
func TestRunsAndExportReadTheFileTheWindowHasOpen(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	if code, _, errOut := runCLI(t, "", "run", "rpc-pricing", "-quiet", "-record", "-history", db); code != exitOK {
		t.Fatal(errOut)
	}
	window, err := history.Open(db, history.Options{}) // as the window opens it
	if err != nil {
		t.Fatal(err)
	}
	defer window.Close()
	if err := window.ShareSnapshots(); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "", "runs", "-history", db); code != exitOK || !strings.Contains(out, "rpc-pricing") {
		t.Fatalf("runs while the window has the file: exit %d\n%s%s", code, out, errOut)
	}
	got := filepath.Join(dir, "latest.ndjson")
	if code, out, errOut := runCLI(t, "", "export", "-history", db, "-run", "latest", "-o", got); code != exitOK || !strings.Contains(out, "from "+db) {
		t.Fatalf("export while the window has the file: exit %d\n%s%s", code, out, errOut)
	}
}
