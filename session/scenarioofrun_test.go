package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mfelab/history"
	"mfelab/scenarios"
)

// A run of a scenario file records the file's absolute path, and ScenarioOfRun loads it
// again to rerun the run; a file gone, broken or holding another scenario says so.
func TestScenarioOfRunFindsTheFileARunCameFrom(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "scenarios", "files", "search-suggestions.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "search.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenarios.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	_, info := recordRun(t, st, s, 7, nil)
	if info.File != path {
		t.Fatalf("the run records file %q, want %q", info.File, path)
	}
	runs, err := st.Runs()
	if err != nil || len(runs) != 1 || runs[0].File != path {
		t.Fatalf("read back: %+v %v", runs, err)
	}
	got, err := ScenarioOfRun(runs[0])
	if err != nil || got.ID != s.ID || got.Source != path {
		t.Fatalf("ScenarioOfRun: %v %v", got, err)
	}
	builtin, err := ScenarioOfRun(history.RunInfo{Scenario: "circuit-breaker"})
	if err != nil || builtin.Source != "" {
		t.Fatalf("a built-in run: %v %v", builtin, err)
	}
	for _, tc := range []struct {
		name, content, want string
	}{
		{"another scenario", strings.Replace(string(data), "id: search-suggestions", "id: search-two", 1), `now holds scenario "search-two"`},
		{"a broken file", "id: [", path + ":"},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := ScenarioOfRun(runs[0]); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
	t.Run("a file gone is refused", func(t *testing.T) {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if _, err := ScenarioOfRun(runs[0]); err == nil {
			t.Fatal("a missing file gave a scenario")
		}
	})
}
