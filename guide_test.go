package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"mfelab/history"
	"mfelab/scenarios"
)

const guidePath = "docs/guide.md"

// Every mfelab command in the guide runs as written, through the command line's own entry
// point, and ends in a result (exit 0, or 1 where a check or a comparison says so), never
// in bad usage.
func TestEveryCommandInTheGuideRuns(t *testing.T) {
	abs, err := filepath.Abs(guidePath)
	if err != nil {
		t.Fatal(err)
	}
	cmds := docCommands(t, abs)
	if len(cmds) < len(scenarios.All()) {
		t.Fatalf("the guide has %d commands for %d scenarios", len(cmds), len(scenarios.All()))
	}
	t.Chdir(t.TempDir())
	t.Setenv(history.EnvPath, filepath.Join(t.TempDir(), "history.db"))
	for _, args := range cmds {
		code, out, errOut := runCLI(t, "", args...)
		if code != exitOK && code != exitFail {
			t.Errorf("mfelab %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
}

var guidePicture = regexp.MustCompile(`!\[[^\]]+\]\((guide/[^)]+\.png)\)`)

// The guide's pictures exist, each is one that make screenshots takes (docs/guide/shots.txt)
// so it can be taken again, and every picture taken is shown.
func TestTheGuidesPicturesExistAndCanBeRetaken(t *testing.T) {
	data, err := os.ReadFile(guidePath)
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	for _, m := range guidePicture.FindAllStringSubmatch(string(data), -1) {
		shown = append(shown, strings.TrimSuffix(filepath.Base(m[1]), ".png"))
		if _, err := os.Stat(filepath.Join("docs", m[1])); err != nil {
			t.Errorf("the guide shows %s: %v", m[1], err)
		}
	}
	shots := readShots(t)
	for name, scenario := range shots {
		if !slices.Contains(shown, name) {
			t.Errorf("docs/guide/shots.txt takes %s.png (%s), which the guide does not show", name, scenario)
		}
	}
	for _, name := range shown {
		if _, ok := shots[name]; !ok {
			t.Errorf("the guide shows guide/%s.png, which docs/guide/shots.txt does not take", name)
		}
	}
}

// Every scenario has its section, with its picture, in the guide.
func TestTheGuideHasASectionPerScenario(t *testing.T) {
	data, err := os.ReadFile(guidePath)
	if err != nil {
		t.Fatal(err)
	}
	shots := readShots(t)
	for _, s := range scenarios.All() {
		if !regexp.MustCompile("(?m)^## .*`" + regexp.QuoteMeta(s.ID) + "`").Match(data) {
			t.Errorf("the guide has no section headed with `%s`", s.ID)
		}
		if shots[s.ID] != s.ID {
			t.Errorf("docs/guide/shots.txt takes no picture %s.png of %s", s.ID, s.ID)
		}
	}
}

// readShots reads docs/guide/shots.txt: picture name -> scenario, checking each line's
// scenario and knobs the way the window's -scenario and -set do.
func readShots(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("docs/guide/shots.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	shots := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) < 2 {
			t.Fatalf("docs/guide/shots.txt: %q: want NAME SCENARIO [knob=value ...]", sc.Text())
		}
		s, err := scenarios.Get(fields[1])
		if err != nil {
			t.Fatalf("docs/guide/shots.txt: %v", err)
		}
		knobs := setFlags{}
		for _, kv := range fields[2:] {
			if err := knobs.Set(kv); err != nil {
				t.Fatalf("docs/guide/shots.txt: %s: %v", fields[0], err)
			}
		}
		if _, err := s.Resolve(scenarios.Values(knobs)); err != nil {
			t.Fatalf("docs/guide/shots.txt: %s: %v", fields[0], err)
		}
		shots[fields[0]] = fields[1]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return shots
}
