package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recordedFile makes a history file holding one recorded run of rpc-pricing.
func recordedFile(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "h.db")
	if code, out, errOut := runCLI(t, "", "run", "rpc-pricing", "-quiet", "-record", "-history", db); code != exitOK {
		t.Fatalf("record: exit %d %s %s", code, out, errOut)
	}
	return db
}

// Listing and exporting only read: a read-only file works, and nothing in it changes.
func TestRunsAndExportOnlyReadTheFile(t *testing.T) {
	db := recordedFile(t)
	if err := os.Chmod(db, 0o444); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(db)
	stat, _ := os.Stat(db)
	out := filepath.Join(t.TempDir(), "x.ndjson")
	for _, args := range [][]string{{"runs", "-history", db}, {"export", "-history", db, "-o", out}, {"export", "-history", db, "-format", "mermaid", "-o", out}} {
		if code, _, errOut := runCLI(t, "", args...); code != exitOK {
			t.Fatalf("%v on a read-only file: exit %d %s", args, code, errOut)
		}
	}
	after, _ := os.ReadFile(db)
	stat2, _ := os.Stat(db)
	if string(before) != string(after) || !stat.ModTime().Equal(stat2.ModTime()) {
		t.Fatal("reading the file changed it")
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm()&0o044 == 0 {
		t.Fatalf("the export is not readable by others: %v %v", fi.Mode(), err)
	}
}

// A damaged file is named, left alone by a command that only reads, and moved aside by
// one that writes, which names both paths.
func TestADamagedFileIsNamedAndNeverOverwritten(t *testing.T) {
	db := recordedFile(t)
	data, _ := os.ReadFile(db)
	cut := filepath.Join(t.TempDir(), "cut.db")
	if err := os.WriteFile(cut, data[:len(data)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "", "export", "-history", cut, "-o", filepath.Join(t.TempDir(), "x"))
	if code != exitFail || !strings.Contains(errOut, cut) || !strings.Contains(errOut, "open it for writing") {
		t.Fatalf("export of a damaged file: exit %d %s", code, errOut)
	}
	if kept, _ := os.ReadFile(cut); len(kept) != len(data)/3 {
		t.Fatal("export changed the damaged file")
	}
	code, _, errOut = runCLI(t, "", "run", "rpc-pricing", "-quiet", "-record", "-history", cut)
	if code != exitOK || !strings.Contains(errOut, cut+" was unreadable; it was moved to "+cut+".corrupt-") {
		t.Fatalf("recording into a damaged file: exit %d %s", code, errOut)
	}
	matches, _ := filepath.Glob(cut + ".corrupt-*")
	if len(matches) != 1 {
		t.Fatalf("moved aside as %v", matches)
	}
	if kept, _ := os.ReadFile(matches[0]); len(kept) != len(data)/3 {
		t.Fatal("the damaged file was not kept as it was")
	}
}

// A log with a message at year 9999 or a source that is not an app name replays the rest,
// naming the bad lines.
func TestReplaySkipsImpossibleLinesByNumber(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.ndjson")
	if code, _, errOut := runCLI(t, "", "run", "rpc-pricing", "-quiet", "-export", good); code != exitOK {
		t.Fatal(errOut)
	}
	data, _ := os.ReadFile(good)
	lines := strings.SplitAfter(string(data), "\n")
	lines[1] = strings.Replace(lines[1], `"ts":"2026-`, `"ts":"9999-`, 1)
	lines[2] = strings.Replace(lines[2], `"source":"cart"`, `"source":"ca rt"`, 1)
	bad := filepath.Join(dir, "bad.ndjson")
	os.WriteFile(bad, []byte("\ufeff"+strings.Join(lines, "")), 0o644)
	code, out, errOut := runCLI(t, "", "replay", "-quiet", bad)
	if code != exitOK || !strings.Contains(errOut, "line 2") || !strings.Contains(errOut, "years 1678 to 2262") ||
		!strings.Contains(errOut, "line 3") || !strings.Contains(out, "2 lines skipped") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
}
