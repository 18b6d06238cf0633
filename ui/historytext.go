package ui

import (
	"fmt"
	"strings"
	"time"

	"mfelab/history"
)

// runLabel names a run in the picker: its ID, scenario, seed, knobs and outcome.
func runLabel(r history.RunInfo) string {
	s := fmt.Sprintf("%s · %s", r.ID, r.Scenario)
	if r.Outcome != history.OutcomeImported && r.Outcome != history.OutcomeUnknown {
		s += fmt.Sprintf(" seed %d", r.Seed)
	}
	if k := r.KnobText(); k != "" {
		s += " " + k
	}
	return s + fmt.Sprintf(" · %s · %d msgs", r.Outcome, r.Messages)
}

// parseSpan reads "a..b", "a.." or "..b" as offsets from a run's start; a zero
// end means no end.
func parseSpan(s string) (from, to time.Duration, err error) {
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		return 0, 0, fmt.Errorf("%q: write a range such as 1s..2.5s, 500ms.. or ..3s", s)
	}
	if a = strings.TrimSpace(a); a != "" {
		if from, err = time.ParseDuration(a); err != nil {
			return 0, 0, fmt.Errorf("%q: %w", s, err)
		}
	}
	if b = strings.TrimSpace(b); b != "" {
		if to, err = time.ParseDuration(b); err != nil {
			return 0, 0, fmt.Errorf("%q: %w", s, err)
		}
		if to <= from {
			return 0, 0, fmt.Errorf("%q: the end must come after the start", s)
		}
	}
	return from, to, nil
}
