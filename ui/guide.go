package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"mfelab/assets"
)

// guideIntro is the heading of the guide's first section, shown when the scenario in view
// has no section of its own (a replayed log).
const guideIntro = "The first five minutes"

// guideSection returns the section of the guide (Markdown) about scenario id: its "## "
// heading names the id in backquotes, and the section runs to the next "## " heading.
// With no such section it returns the first five minutes. Pictures are left out: they
// live beside the guide in the repository, and the text around each says what it shows.
func guideSection(guide, id string) (title, body string) {
	sections := map[string][2]string{}
	var order []string
	var cur string
	var sb strings.Builder
	flush := func() {
		if cur != "" {
			sections[cur] = [2]string{sections[cur][0], strings.TrimSpace(sb.String())}
		}
		sb.Reset()
	}
	fenced := false
	for line := range strings.Lines(guide) {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			fenced = !fenced
		}
		if !fenced && strings.HasPrefix(line, "## ") {
			flush()
			heading := strings.TrimSpace(strings.TrimPrefix(line, "## "))
			cur = heading
			order = append(order, heading)
			sections[cur] = [2]string{heading, ""}
			continue
		}
		if cur == "" || (!fenced && strings.HasPrefix(trimmed, "![")) {
			continue
		}
		sb.WriteString(line)
	}
	flush()
	for _, h := range order {
		if strings.Contains(h, "`"+id+"`") {
			return sections[h][0], sections[h][1]
		}
	}
	for _, h := range order {
		if h == guideIntro {
			return h, sections[h][1]
		}
	}
	return "Guide", "The guide has no section for this scenario."
}

// showGuide opens the guide's section for the scenario in view, from the copy built into
// the binary, so it reads the same offline and in an installed package.
func (l *lab) showGuide() {
	id := ""
	if l.scenario != nil {
		id = l.scenario.ID
	}
	title, body := guideSection(assets.GuideMD, id)
	text := widget.NewRichTextFromMarkdown("## " + title + "\n\n" + body)
	text.Wrapping = fyne.TextWrapWord
	l.custom("Guide", "Close", container.NewVScroll(text), fyne.NewSize(760, 620))
}
