package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mfelab/history"
)

// docCommands returns the mfelab commands in the fenced code blocks of a Markdown file, in
// order, each split into its arguments, without comments.
func docCommands(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	fenced := false
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if !fenced || !strings.HasPrefix(line, "mfelab ") {
			continue
		}
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		out = append(out, strings.Fields(line)[1:])
	}
	return out
}

// servesUntilStopped are the commands that run until they are interrupted.
var servesUntilStopped = map[string]bool{"serve": true, "app": true}

// Every mfelab diff command of the pattern pages and the README runs as written, through
// the command line's own entry point, and ends in a comparison (exit 0 or 1), not in bad
// input. The commands before it in the same file run first, in a scratch directory with a
// history file of its own, so a diff may read the logs and runs they leave.
func TestDiffCommandsInTheDocsRunAsWritten(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("docs", "patterns", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "README.md")
	diffs := 0
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(f, func(t *testing.T) {
			cmds := docCommands(t, abs)
			t.Chdir(t.TempDir())
			t.Setenv(history.EnvPath, filepath.Join(t.TempDir(), "history.db"))
			for _, args := range cmds {
				if servesUntilStopped[args[0]] {
					continue // tested by its own test, with a context that ends it
				}
				code, out, errOut := runCLI(t, "", args...)
				if args[0] == "diff" {
					diffs++
					if code != exitOK && code != exitFail {
						t.Fatalf("mfelab %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
					}
					if !strings.Contains(out, "Summary\n") {
						t.Fatalf("mfelab %s prints no summary:\n%s", strings.Join(args, " "), out)
					}
				} else if code == exitUsage {
					t.Fatalf("mfelab %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
				}
			}
		})
	}
	if pages := len(files) - 2; diffs < pages { // the index page of the patterns has none
		t.Fatalf("%d diff commands in %d files; every pattern page should end with one", diffs, len(files))
	}
}

// Every pattern page ends with a comparison.
func TestEveryPatternPageEndsWithAComparison(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("docs", "patterns", "*.md"))
	for _, f := range files {
		if filepath.Base(f) == "README.md" {
			continue
		}
		cmds := docCommands(t, f)
		if len(cmds) == 0 || cmds[len(cmds)-1][0] != "diff" {
			t.Errorf("%s does not end with an mfelab diff command", f)
		}
	}
}
