package session

import (
	"slices"
	"strings"
	"testing"
)

func TestDiagramsMarkEveryRowAndAlignTheOtherRun(t *testing.T) {
	for _, tc := range []struct {
		name             string
		a, b             []string
		marksA, marksB   []Mark
		otherA, otherB   []int
		headline, counts string
	}{
		{
			name:   "alike flows mark nothing and stand row beside row",
			a:      []string{"x c>s", "y s>c"},
			b:      []string{"x c>s", "y s>c"},
			marksA: []Mark{MarkSame, MarkSame}, marksB: []Mark{MarkSame, MarkSame},
			otherA: []int{0, 1}, otherB: []int{0, 1},
			headline: "The flows match: the same 2 deliveries, alike, in the same order.",
			counts:   "2 deliveries alike · 0 only in A · 0 only in B",
		},
		{
			name:   "a row in one run only stands beside the other run's next row",
			a:      []string{"x c>s", "extra c>d", "y s>c"},
			b:      []string{"x c>s", "y s>c"},
			marksA: []Mark{MarkSame, MarkOnly, MarkSame}, marksB: []Mark{MarkSame, MarkSame},
			otherA: []int{0, 1, 1}, otherB: []int{0, 2},
			headline: "The flows part at the 2nd delivery",
			counts:   "2 deliveries alike · 1 only in A · 0 only in B",
		},
		{
			name:   "a row that fails in one run is changed in both",
			a:      []string{"x c>s", "y s>c event"},
			b:      []string{"x c>s", "y s>c dead-letter"},
			marksA: []Mark{MarkSame, MarkChanged}, marksB: []Mark{MarkSame, MarkChanged},
			otherA: []int{0, 1}, otherB: []int{0, 1},
			headline: "both runs have y from s to c, but A draws it as an event and B as a dead letter",
			counts:   "1 delivery alike · 1 changed (1 drawn as another kind) · 0 only in A · 0 only in B",
		},
		{
			name:   "stretches that differ stand beside each other evenly",
			a:      []string{"a1 c>s", "a2 c>s", "a3 c>s", "a4 c>s", "z s>c"},
			b:      []string{"b1 c>d", "b2 c>d", "z s>c"},
			marksA: []Mark{MarkOnly, MarkOnly, MarkOnly, MarkOnly, MarkSame}, marksB: []Mark{MarkOnly, MarkOnly, MarkSame},
			otherA: []int{0, 0, 1, 1, 2}, otherB: []int{0, 2, 4},
			headline: "A has a1 from c to s (an event) where B has b1 from c to d (an event)",
			counts:   "1 delivery alike · 4 only in A · 2 only in B",
		},
		{
			name:   "an empty run leaves the other with nothing to scroll to",
			a:      []string{"x c>s"},
			marksA: []Mark{MarkOnly}, marksB: []Mark{},
			otherA: []int{-1}, otherB: []int{},
			headline: "A goes on with x from c to s",
			counts:   "0 deliveries alike · 1 only in A · 0 only in B",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := CompareFlows(flowOf(tc.a...), flowOf(tc.b...))
			a, b := c.Diagrams(len(tc.a), len(tc.b))
			if !slices.Equal(a.Marks, tc.marksA) || !slices.Equal(b.Marks, tc.marksB) {
				t.Errorf("marks %v and %v, want %v and %v", a.Marks, b.Marks, tc.marksA, tc.marksB)
			}
			if !slices.Equal(a.Other, tc.otherA) || !slices.Equal(b.Other, tc.otherB) {
				t.Errorf("aligned rows %v and %v, want %v and %v", a.Other, b.Other, tc.otherA, tc.otherB)
			}
			if h := c.Headline(); !strings.Contains(h, tc.headline) {
				t.Errorf("headline %q lacks %q", h, tc.headline)
			}
			if got := c.CountsText(); got != tc.counts {
				t.Errorf("counts %q, want %q", got, tc.counts)
			}
		})
	}
}

// When the runs are compared by their published messages, a message's mark is on the
// diagram row of its first delivery, and the rows it also draws stand with it.
func TestDiagramsOfPublishedFlowsMarkTheFirstDelivery(t *testing.T) {
	fa := Flow{Publishes: true, Rows: []FlowRow{
		{Delivery: Delivery{Topic: "x", From: "c", To: "c", Kind: ArrowPublish}, Row: 0},
		{Delivery: Delivery{Topic: "y", From: "c", To: "c", Kind: ArrowPublish}, Row: 2},
	}}
	fb := Flow{Publishes: true, Rows: []FlowRow{
		{Delivery: Delivery{Topic: "x", From: "c", To: "c", Kind: ArrowPublish}, Row: 0},
	}}
	c := CompareFlows(fa, fb)
	a, _ := c.Diagrams(4, 1) // A draws x twice, y twice
	if want := []Mark{MarkSame, MarkSame, MarkOnly, MarkSame}; !slices.Equal(a.Marks, want) {
		t.Fatalf("marks %v, want %v", a.Marks, want)
	}
	if want := []int{0, 0, 0, 0}; !slices.Equal(a.Other, want) {
		t.Fatalf("aligned rows %v, want %v", a.Other, want)
	}
}
