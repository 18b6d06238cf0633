package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScenarioFilesFromTheCommandLine(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("id: bad\ntitle: Bad\nhorizon: soon\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		args        []string
		code        int
		out, errOut string
	}{
		{"run takes a file and passes its checks", []string{"run", "scenarios/files/search-suggestions.yaml", "-quiet"}, exitOK, "[ok]", ""},
		{"run takes knobs and a seed for a file", []string{"run", "scenarios/files/circuit-breaker.yaml", "-quiet", "-set", "pattern=healthy", "-seed", "7"},
			exitOK, "pattern=healthy", ""},
		{"a knob the file does not declare is refused", []string{"run", "scenarios/files/circuit-breaker.yaml", "-set", "speed=2"}, exitUsage, "", `has no knob "speed"`},
		{"check accepts valid files", []string{"check", "scenarios/files/circuit-breaker.yaml", "scenarios/files/search-suggestions.yaml"}, exitOK,
			"search-suggestions.yaml: ok", ""},
		{"check reports an invalid file at its line and column", []string{"check", bad}, exitUsage, "", bad + ":3:1: horizon: want a duration"},
		{"run refuses an invalid file the same way", []string{"run", bad}, exitUsage, "", bad + ":3:1: horizon"},
		{"a missing file is an error", []string{"check", "no/such.yaml"}, exitUsage, "", "no such file"},
		{"check with no file is bad usage", []string{"check"}, exitUsage, "", "want one or more scenario files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.errOut) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
		})
	}
}
