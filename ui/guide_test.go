package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"mfelab/assets"
	"mfelab/scenarios"
)

// menuItem finds an item of the window's main menu by its menu's and its own label.
func (l *lab) menuItem(t *testing.T, menu, label string) *fyne.MenuItem {
	t.Helper()
	for _, m := range l.win.MainMenu().Items {
		if m.Label != menu {
			continue
		}
		for _, it := range m.Items {
			if it.Label == label {
				return it
			}
		}
	}
	t.Fatalf("no %s → %s in the menu", menu, label)
	return nil
}

// shownGuide is the text of the guide dialog on top of the window.
func (l *lab) shownGuide(t *testing.T) string {
	t.Helper()
	top := l.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog is open")
	}
	for _, o := range test.LaidOutObjects(top) {
		if rt, ok := o.(*widget.RichText); ok {
			return rt.String()
		}
	}
	t.Fatal("the dialog on top shows no formatted text")
	return ""
}

// Help → Guide opens the guide at the section of the scenario in view, whichever it is,
// from the guide built into the binary.
func TestHelpGuideShowsTheSectionOfTheScenarioInView(t *testing.T) {
	l := newTestLab(t)
	guide := l.menuItem(t, "Help", "Guide")
	for _, s := range scenarios.All() {
		t.Run(s.ID, func(t *testing.T) {
			l.pick(t, s.ID)
			guide.Action()
			text := l.shownGuide(t)
			if strings.Contains(text, "![") || strings.Contains(text, ".png") {
				t.Fatalf("the section shows a picture reference it cannot display:\n%s", text)
			}
			title, _ := guideSection(assets.GuideMD, s.ID)
			if !strings.Contains(title, "`"+s.ID+"`") {
				t.Fatalf("the guide has no section for %s; Help → Guide shows %q", s.ID, title)
			}
			if !strings.HasPrefix(text, strings.ReplaceAll(title, "`", "")) {
				t.Fatalf("the dialog does not start with the section's heading %q:\n%s", title, text)
			}
			if len(l.dialogs) != 1 {
				t.Fatalf("%d dialogs open", len(l.dialogs))
			}
			l.dialogs[0].d.Hide()
		})
	}
}

// A section runs from its heading to the next one; a scenario the guide does not know
// gets the first five minutes.
func TestGuideSectionsEndAtTheNextHeading(t *testing.T) {
	guide := "# Guide\n\nintro\n\n## The first five minutes\n\nPress Run.\n\n![shot](guide/a.png)\n\n" +
		"## Pricing (`rpc-pricing`)\n\nCart asks.\n\n```sh\n## not a heading\nmfelab run rpc-pricing\n```\n\n## Other (`load`)\n\nTicks.\n"
	tests := []struct{ id, title, body string }{
		{"rpc-pricing", "Pricing (`rpc-pricing`)", "Cart asks.\n\n```sh\n## not a heading\nmfelab run rpc-pricing\n```"},
		{"load", "Other (`load`)", "Ticks."},
		{"", "The first five minutes", "Press Run."},
	}
	for _, tt := range tests {
		title, body := guideSection(guide, tt.id)
		if title != tt.title || body != tt.body {
			t.Errorf("section for %q: %q\n%q", tt.id, title, body)
		}
	}
}
