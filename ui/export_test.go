package ui

import (
	"errors"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mfelab/scenarios"
	"mfelab/session"
)

// A finished run exports as a Go test file that parses and names its scenario; a run that
// cannot be repeated says why and leaves no file.
func TestExportARunAsAGoTest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(l *lab)
		fails   string // in the error, "" for a file
	}{
		{"a finished run is written as a test that names its scenario", func(l *lab) { l.runToEnd() }, ""},
		{"a run not yet over is refused", func(l *lab) { l.step() }, "not over"},
		{"a run changed by hand is refused", func(l *lab) {
			l.step()
			l.panels.cards["inventory"].faults.SetChecked(true)
			l.runToEnd()
		}, "changed by hand"},
		{"a replayed log is refused", func(l *lab) {
			l.runToEnd()
			l.openReplay(l.ses.Trace().Envelopes(), 0, "replay · ")
			l.runToEnd()
		}, "replays a log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newTestLab(t)
			l.applyKnobs(scenarios.Values{"fail": "ship"})
			tc.prepare(l)
			path := filepath.Join(t.TempDir(), "checkout-orchestrated-seed42_test.go")
			n, err := l.exportRun(path, goTestFormat)
			if tc.fails != "" {
				if !errors.Is(err, session.ErrNoGoTest) || !strings.Contains(err.Error(), tc.fails) {
					t.Fatalf("error %v, want one saying %q", err, tc.fails)
				}
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Fatalf("a file was left behind: %v", err)
				}
				if l.canWriteGoTest() || !strings.Contains(l.lastError, tc.fails) {
					t.Fatalf("before a file is chosen the window says %q", l.lastError)
				}
				return
			}
			if err != nil || n != l.ses.Trace().Diagram().Len() {
				t.Fatalf("wrote %d arrows: %v", n, err)
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			src, _ := os.ReadFile(path)
			if !strings.Contains(string(src), `"checkout-orchestrated"`) || !strings.Contains(string(src), "func TestCheckoutOrchestratedSeed42FailShip(") || !token.IsIdentifier(f.Name.Name) {
				t.Fatalf("package %s:\n%s", f.Name.Name, src)
			}
		})
	}
	if c := exportChoices[len(exportChoices)-1]; c.format != goTestFormat || c.ext != "_test.go" || !c.onScreen {
		t.Fatalf("the export dialog's last choice is %+v", c)
	}
}
