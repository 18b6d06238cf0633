package scenarios_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "mfelab/scenarios"
	"mfelab/session"
)

// loadExample loads a scenario file from scenarios/files.
func loadExample(t *testing.T, name string) *Scenario {
	t.Helper()
	s, err := LoadFile(filepath.Join("files", name))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runLog runs s to the end and returns its NDJSON log and its trace lines.
func runLog(t *testing.T, s *Scenario, seed uint64, knobs Values) (string, []string, []Check) {
	t.Helper()
	log, lines, checks, _ := runPanels(t, s, seed, knobs)
	return log, lines, checks
}

// runPanels is runLog that also returns each app's state lines at the end, by app. (Not
// its activity notes: a file's reactions note every injected failure, which some Go
// scenarios do not.)
func runPanels(t *testing.T, s *Scenario, seed uint64, knobs Values) (string, []string, []Check, map[string]string) {
	t.Helper()
	ses, err := session.Start(s, seed, knobs)
	if err != nil {
		t.Fatal(err)
	}
	ses.RunToEnd()
	log, lines := string(ndjson(t, ses)), ses.Trace().Lines()
	panels := map[string]string{}
	for _, snap := range ses.Run().World.Snapshots() {
		panels[snap.Name] = fmt.Sprint(snap.Fields)
	}
	return log, lines, ses.Checks(), panels
}

// A built-in scenario rewritten as a file runs the same: for every knob combination the
// Go scenario's test covers, the file's log and trace equal the Go scenario's, byte for
// byte.
func TestScenarioFilesRunLikeTheGoScenariosTheyRewrite(t *testing.T) {
	for _, tc := range []struct{ file, id string }{
		{"circuit-breaker.yaml", "circuit-breaker"},
		{"dashboard-aggregator.yaml", "dashboard-aggregator"},
		{"checkout-orchestrated.yaml", "checkout-orchestrated"},
		{"checkout-choreographed.yaml", "checkout-choreographed"},
	} {
		builtin, err := Get(tc.id)
		if err != nil {
			t.Fatal(err)
		}
		fileS := loadExample(t, tc.file)
		if fileS.ID == builtin.ID {
			t.Fatalf("%s has the id of the built-in scenario it rewrites", tc.file)
		}
		// A run's message IDs are salted with its scenario's id, so the Go scenario runs
		// under the file's id: the logs then differ only if the runs do.
		goS := *builtin
		goS.ID = fileS.ID
		combos := goS.Combinations()
		if got, want := len(fileS.Combinations()), len(combos); got != want {
			t.Fatalf("%s: the file declares %d knob combinations, the Go scenario %d", tc.file, got, want)
		}
		for _, knobs := range combos {
			t.Run(tc.id+"/"+strings.ReplaceAll(knobs.String(), " ", ","), func(t *testing.T) {
				wantLog, wantLines, _, wantPanels := runPanels(t, &goS, testSeed, knobs)
				gotLog, gotLines, checks, gotPanels := runPanels(t, fileS, testSeed, knobs)
				if gotLog != wantLog {
					gl, wl := strings.Split(gotLog, "\n"), strings.Split(wantLog, "\n")
					for i := range min(len(gl), len(wl)) {
						if gl[i] != wl[i] {
							t.Fatalf("NDJSON line %d differs:\n file %s\n Go   %s", i+1, gl[i], wl[i])
						}
					}
					t.Fatalf("NDJSON differs in length: the file's has %d lines, the Go scenario's %d", len(gl), len(wl))
				}
				if !slices.Equal(gotLines, wantLines) {
					for i := range min(len(gotLines), len(wantLines)) {
						if gotLines[i] != wantLines[i] {
							t.Fatalf("trace line %d differs:\n file %s\n Go   %s", i+1, gotLines[i], wantLines[i])
						}
					}
					t.Fatalf("the trace differs in length: %d lines, want %d", len(gotLines), len(wantLines))
				}
				// the file's world may leave out apps the scenario does not use
				for app, got := range gotPanels {
					if want := wantPanels[app]; got != want {
						t.Fatalf("%s's state ends differently:\n file %s\n Go   %s", app, got, want)
					}
				}
				if !Passed(checks) {
					t.Fatalf("the file's checks:\n%s", FormatChecks(checks))
				}
			})
		}
	}
}

// Every example file passes its own checks under every knob combination it declares.
func TestEveryScenarioFilePassesItsChecksUnderEveryKnobCombination(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("files", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no example files: %v", err)
	}
	for _, path := range paths {
		s, err := LoadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, knobs := range s.Combinations() {
			t.Run(filepath.Base(path)+"/"+strings.ReplaceAll(knobs.String(), " ", ","), func(t *testing.T) {
				_, _, checks := runLog(t, s, testSeed, knobs)
				if !Passed(checks) {
					t.Fatalf("checks:\n%s", FormatChecks(checks))
				}
			})
		}
	}
}
