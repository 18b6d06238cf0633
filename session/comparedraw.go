package session

import (
	"fmt"
	"strings"
)

// What a window shows of a comparison: the same sentences as the report, one at a time,
// and the marks and alignment as the two diagrams draw them, so a window lays out what the
// command line prints without deciding anything about the runs itself.

// Headline is the sentence the report opens with: where the flows first part, or that
// they match.
func (c Comparison) Headline() string {
	if c.Changed == 0 && c.OnlyA == 0 && c.OnlyB == 0 {
		return fmt.Sprintf("The flows match: the same %s, alike, in the same order.", c.FlowA.count(len(c.FlowA.Rows)))
	}
	return c.firstDivergence()
}

// SideText says how long run A's (or, with b, run B's) flow is and what its checks said:
// "14 deliveries; all 4 checks pass".
func (c Comparison) SideText(b bool) string {
	s, f := c.A, c.FlowA
	if b {
		s, f = c.B, c.FlowB
	}
	return f.count(len(f.Rows)) + "; " + outcomeText(s.Outcome)
}

// CountsText is the report's summary counts on one line: alike, changed (and how), only
// in A, only in B, and of those how many moved.
func (c Comparison) CountsText() string {
	parts := []string{c.FlowA.count(c.Alike) + " alike"}
	if c.Changed > 0 {
		var what []string
		if c.KindChanged > 0 {
			what = append(what, fmt.Sprintf("%d drawn as another kind", c.KindChanged))
		}
		if c.CauseChanged > 0 {
			what = append(what, fmt.Sprintf("%d set off otherwise", c.CauseChanged))
		}
		parts = append(parts, fmt.Sprintf("%d changed (%s)", c.Changed, strings.Join(what, ", ")))
	}
	parts = append(parts, fmt.Sprintf("%d only in A", c.OnlyA), fmt.Sprintf("%d only in B", c.OnlyB))
	if c.Moved > 0 {
		parts = append(parts, fmt.Sprintf("%d of those moved", c.Moved))
	}
	return strings.Join(parts, " · ")
}

// ChecksText says how the runs' outcome checks compare, as the report's last section.
func (c Comparison) ChecksText() string { return c.checksText() }

// HubText names an app every delivery of one run goes through while the other run
// delivers between other apps too (an orchestrator against a choreography), or "".
func (c Comparison) HubText() string { return c.hubText() }

// DiagramMarks is one run's side of a comparison as its diagram draws it, row for row.
type DiagramMarks struct {
	// Marks has a mark for every diagram row. When the runs are compared by their
	// published messages, a message's mark is on the row of its first delivery.
	Marks []Mark
	// Other is, for every diagram row, the row of the other run's diagram at the same
	// point of the alignment: where a window scrolls the other diagram to keep the two
	// side by side. -1 when the other diagram is empty.
	Other []int
}

// Diagrams returns the marks and the alignment of both runs' diagrams, whose lengths
// are rowsA and rowsB (Diagram().Len() of each side's trace).
func (c Comparison) Diagrams(rowsA, rowsB int) (a, b DiagramMarks) {
	toB, toA := c.counterparts()
	a = sideMarks(c.FlowA, c.MarksA, toB, c.FlowB, rowsA, rowsB)
	b = sideMarks(c.FlowB, c.MarksB, toA, c.FlowA, rowsB, rowsA)
	return a, b
}

// counterparts gives every flow row of each run the flow row of the other run it stands
// beside: its match, or, for a row in one run only, a row of the stretch the other run
// has in its place, as far into that stretch as the row is into its own (so two
// stretches that differ scroll past each other evenly), or the next match when the other
// run has nothing there.
func (c Comparison) counterparts() (toB, toA []int) {
	na, nb := len(c.FlowA.Rows), len(c.FlowB.Rows)
	toB, toA = make([]int, na), make([]int, nb)
	matches := [][2]int{{-1, -1}}
	for _, op := range c.Ops {
		if op.A >= 0 && op.B >= 0 {
			toB[op.A], toA[op.B] = op.B, op.A
			matches = append(matches, [2]int{op.A, op.B})
		}
	}
	matches = append(matches, [2]int{na, nb})
	beside := func(to []int, from0, from1, other0, other1, otherLen int) {
		for i := from0; i < from1; i++ {
			if other1 > other0 {
				to[i] = other0 + (i-from0)*(other1-other0)/(from1-from0)
			} else {
				to[i] = min(other1, otherLen-1)
			}
		}
	}
	for k := 1; k < len(matches); k++ {
		p, n := matches[k-1], matches[k]
		beside(toB, p[0]+1, n[0], p[1]+1, n[1], nb)
		beside(toA, p[1]+1, n[1], p[0]+1, n[0], na)
	}
	return toB, toA
}

// sideMarks turns one run's flow marks and counterparts into diagram rows.
func sideMarks(f Flow, marks []Mark, other []int, of Flow, rows, otherRows int) DiagramMarks {
	d := DiagramMarks{Marks: make([]Mark, rows), Other: make([]int, rows)}
	flowOf := make([]int, rows) // the flow row each diagram row belongs to, -1 before the first
	for r := range flowOf {
		flowOf[r] = -1
	}
	for i, fr := range f.Rows {
		if fr.Row >= 0 && fr.Row < rows {
			d.Marks[fr.Row] = marks[i]
			flowOf[fr.Row] = i
		}
	}
	last := -1
	for r := range rows {
		if flowOf[r] >= 0 {
			last = flowOf[r]
		}
		d.Other[r] = -1
		if otherRows == 0 {
			continue
		}
		d.Other[r] = 0
		if last >= 0 && last < len(other) && other[last] >= 0 {
			d.Other[r] = diagramRow(of, other[last], otherRows)
		}
	}
	return d
}

// diagramRow is the diagram row of flow row i, or of the nearest row before it that
// the diagram draws.
func diagramRow(f Flow, i, rows int) int {
	for ; i >= 0; i-- {
		if r := f.Rows[i].Row; r >= 0 && r < rows {
			return r
		}
	}
	return 0
}
